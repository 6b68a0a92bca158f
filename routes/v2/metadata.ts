// Confluent REST Proxy v2: topics, partitions, offsets and brokers.
import { type RouteTypes } from '../../generated/routes'
import type { Handlers } from '../../http/register'
import type { PartitionMetadata } from '../../kafka/cluster'
import { V2_JSON } from './media-types'

type V2Partition = RouteTypes['getPartitionV2']['Reply'][200]

export function v2Partition (p: PartitionMetadata): V2Partition {
  return {
    partition: p.id,
    leader: p.leader,
    replicas: p.replicas.map((broker) => ({ broker, leader: broker === p.leader, in_sync: p.isrs.includes(broker) }))
  }
}

export const metadata = {
  listTopicsV2: async (request, reply) => reply.type(V2_JSON).code(200).send(await request.kafkaApi.cluster.topicNames()),

  getTopicV2: async (request, reply) => {
    const name = request.params.topic_name
    const partitions = await request.kafkaApi.cluster.partitions(name)
    const configs = Object.fromEntries((await request.kafkaApi.configs.configs('topic', name)).map((c) => [c.name, c.value]))
    return reply.type(V2_JSON).code(200).send({ name, configs, partitions: partitions.map(v2Partition) })
  },

  listPartitionsV2: async (request, reply) => {
    const partitions = await request.kafkaApi.cluster.partitions(request.params.topic_name)
    return reply.type(V2_JSON).code(200).send(partitions.map(v2Partition))
  },

  getPartitionV2: async (request, reply) => {
    const p = await request.kafkaApi.cluster.partition(request.params.topic_name, request.params.partition_id)
    return reply.type(V2_JSON).code(200).send(v2Partition(p))
  },

  getPartitionOffsetsV2: async (request, reply) => {
    const w = await request.kafkaApi.cluster.watermarks(request.params.topic_name, request.params.partition_id)
    return reply.type(V2_JSON).code(200).send({ beginning_offset: w.low, end_offset: w.high })
  },

  listBrokersV2: async (request, reply) => reply.type(V2_JSON).code(200).send({ brokers: await request.kafkaApi.cluster.brokerIds() })
} satisfies Partial<Handlers<'confluent-v2'>>
