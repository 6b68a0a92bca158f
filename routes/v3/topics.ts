// Confluent REST Proxy v3: topics and their partitions (their configs: routes/v3/configs.ts; replicas and
// reassignments: routes/v3/replicas.ts).
import type { Handlers } from '../../http/register'
import { link } from '../../http/links'
import { PartitionNotFoundError, TopicNotFoundError, ValidationError } from '../../lib/errors'
import type { RouteTypes } from '../../generated/routes'
import { clusterPath, collection, describedTopic, partitionResource, topicPath, topicResource } from './admin-resources'

type CreateTopic = RouteTypes['createTopicV3']['Body']

/**
 * replicas_assignments as each partition's brokers, by partition id; undefined when not given. Its partitions must be
 * 0 to n-1. As Confluent does, it is used instead of partitions_count and replication_factor; those may still be
 * given, but must then agree with it.
 */
function assignmentsOf (body: CreateTopic): number[][] | undefined {
  const given = Object.entries(body.replicas_assignments ?? {})
  if (given.length === 0) return undefined
  const byPartition = new Map(given.map(([partition, brokers]) => [Number(partition), brokers]))
  const assignments = given.map((_, id) => byPartition.get(id) ?? [])
  if (assignments.some((brokers) => brokers.length === 0)) {
    throw new ValidationError(`body/replicas_assignments must name partitions 0 to ${given.length - 1}, each with at least one broker.`)
  }
  if (body.partitions_count !== undefined && body.partitions_count !== assignments.length) {
    throw new ValidationError(`body/partitions_count is ${body.partitions_count}, but replicas_assignments names ${assignments.length} partition(s).`)
  }
  if (body.replication_factor !== undefined && assignments.some((brokers) => brokers.length !== body.replication_factor)) {
    throw new ValidationError(`body/replication_factor is ${body.replication_factor}, but replicas_assignments gives a partition another number of replicas.`)
  }
  return assignments
}

export const topics = {
  listTopicsV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const topics = await request.kafkaApi.topics.describe()
    return reply.code(200).send(collection(request, 'KafkaTopicList', `${clusterPath(id)}/topics`,
      topics.map((t) => topicResource(request, id, describedTopic(t)))))
  },

  createTopicV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const body = request.body
    const assignments = assignmentsOf(body)
    // A config given with a null value is left at its default.
    const configs = Object.fromEntries((body.configs ?? []).flatMap((c) => typeof c.value === 'string' ? [[c.name, c.value]] : []))
    const topic = {
      topic: body.topic_name,
      ...(body.partitions_count !== undefined ? { partitions: body.partitions_count } : {}),
      ...(body.replication_factor !== undefined ? { replicationFactor: body.replication_factor } : {}),
      ...(assignments ? { assignments } : {}),
      configs
    }
    if (body.validate_only === true) {
      const would = await request.kafkaApi.topics.validateCreate(topic)
      return reply.code(200).send(topicResource(request, id, {
        name: body.topic_name, isInternal: false, replicationFactor: would.replicationFactor, partitionsCount: would.partitions
      }))
    }
    await request.kafkaApi.topics.create(topic)
    const [created] = await request.kafkaApi.topics.describe([body.topic_name])
    if (!created) throw new TopicNotFoundError(body.topic_name)
    return reply.code(201).send(topicResource(request, id, describedTopic(created)))
  },

  getTopicV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const [topic] = await request.kafkaApi.topics.describe([request.params.topic_name])
    if (!topic) throw new TopicNotFoundError(request.params.topic_name)
    return reply.code(200).send(topicResource(request, id, describedTopic(topic)))
  },

  updatePartitionCountTopicV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const name = request.params.topic_name
    await request.kafkaApi.topics.addPartitions(name, request.body.partitions_count)
    const [topic] = await request.kafkaApi.topics.describe([name])
    if (!topic) throw new TopicNotFoundError(name)
    return reply.code(200).send(topicResource(request, id, describedTopic(topic)))
  },

  deleteTopicV3: async (request, reply) => {
    await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    await request.kafkaApi.topics.delete(request.params.topic_name)
    return reply.code(204).send()
  },

  listPartitionsV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const topic = request.params.topic_name
    const [described] = await request.kafkaApi.topics.describe([topic])
    return reply.code(200).send(collection(request, 'KafkaPartitionList', `${topicPath(id, topic)}/partitions`,
      (described?.partitions ?? []).map((p) => partitionResource(request, id, topic, p))))
  },

  getPartitionV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const { topic_name: topic, partition_id: partitionId } = request.params
    const [described] = await request.kafkaApi.topics.describe([topic])
    const partition = described?.partitions.find((p) => p.id === partitionId)
    if (!partition) throw new PartitionNotFoundError(topic, partitionId)
    return reply.code(200).send(partitionResource(request, id, topic, partition))
  },

  getPartitionOffsetsV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const { topic_name: topic, partition_id: partition } = request.params
    const offsets = await request.kafkaApi.cluster.watermarks(topic, partition)
    const self = `${topicPath(id, topic)}/partitions/${partition}/offset`
    return reply.code(200).send({
      kind: 'KafkaPartitionWithOffsets',
      metadata: { self: link(request, self), resource_name: `crn:///kafka=${id}/topic=${topic}/partition=${partition}/offset` },
      cluster_id: id,
      topic_name: topic,
      partition_id: partition,
      earliest_offset: offsets.low,
      latest_offset: offsets.high
    })
  }
} satisfies Partial<Handlers<'confluent-v3'>>
