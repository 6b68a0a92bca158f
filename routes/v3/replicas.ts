// Confluent REST Proxy v3 replicas and reassignments: a partition's replicas (the metadata's replicas, leader and
// in-sync set), the replicas a broker hosts, and the partition reassignments in progress (kafka/topics.ts).
import type { KafkaApi } from '../../kafka/identities'
import type { Handlers } from '../../http/register'
import { PartitionNotFoundError, ResourceNotFoundError } from '../../lib/errors'
import { replicasOf, type TopicPartition } from '../../kafka/topics'
import { brokerPath, clusterPath, collection, partitionPath, reassignmentResource, replicaResource, topicPath } from './admin-resources'

/** The topic's partitions; TopicNotFoundError when it does not exist. */
async function partitionsOf (server: KafkaApi, topic: string): Promise<TopicPartition[]> {
  const [described] = await server.topics.describe([topic])
  return described?.partitions ?? []
}

/** One partition; TopicNotFoundError or PartitionNotFoundError. */
async function partitionOf (server: KafkaApi, topic: string, partition: number): Promise<TopicPartition> {
  const found = (await partitionsOf(server, topic)).find((p) => p.id === partition)
  if (!found) throw new PartitionNotFoundError(topic, partition)
  return found
}

export const replicas = {
  listReplicasV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const { topic_name: topic, partition_id: partition } = request.params
    const found = await partitionOf(request.kafkaApi, topic, partition)
    return reply.code(200).send(collection(request, 'KafkaReplicaList', `${partitionPath(id, topic, partition)}/replicas`,
      replicasOf(topic, found).map((r) => replicaResource(request, id, r))))
  },

  getReplicaV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const { topic_name: topic, partition_id: partition, broker_id: brokerId } = request.params
    const replica = replicasOf(topic, await partitionOf(request.kafkaApi, topic, partition)).find((r) => r.brokerId === brokerId)
    if (!replica) throw new ResourceNotFoundError(`Replica of partition ${partition} of topic '${topic}' on broker ${brokerId} cannot be found.`)
    return reply.code(200).send(replicaResource(request, id, replica))
  },

  listBrokerReplicasV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const broker = await request.kafkaApi.cluster.broker(request.params.broker_id)
    const hosted = (await request.kafkaApi.topics.describe())
      .flatMap((t) => t.partitions.flatMap((p) => replicasOf(t.name, p)))
      .filter((r) => r.brokerId === broker.id)
    return reply.code(200).send(collection(request, 'KafkaReplicaList', `${brokerPath(id, broker.id)}/partition-replicas`,
      hosted.map((r) => replicaResource(request, id, r))))
  },

  listAllReassignmentsV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const ongoing = await request.kafkaApi.topics.reassignments()
    return reply.code(200).send(collection(request, 'KafkaReassignmentList', `${clusterPath(id)}/topics/-/partitions/-/reassignment`,
      ongoing.map((r) => reassignmentResource(request, id, r))))
  },

  listTopicReassignmentsV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const topic = request.params.topic_name
    const partitions = (await partitionsOf(request.server, topic)).map((p) => p.id)
    const ongoing = await request.kafkaApi.topics.reassignments([{ topic, partitions }])
    return reply.code(200).send(collection(request, 'KafkaReassignmentList', `${topicPath(id, topic)}/partitions/-/reassignment`,
      ongoing.map((r) => reassignmentResource(request, id, r))))
  },

  getPartitionReassignmentV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const { topic_name: topic, partition_id: partition } = request.params
    await partitionOf(request.kafkaApi, topic, partition)
    const [ongoing] = await request.kafkaApi.topics.reassignments([{ topic, partitions: [partition] }])
    if (!ongoing) throw new ResourceNotFoundError(`No reassignment of partition ${partition} of topic '${topic}' is in progress.`)
    return reply.code(200).send(reassignmentResource(request, id, ongoing))
  }
} satisfies Partial<Handlers<'confluent-v3'>>
