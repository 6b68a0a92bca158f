// Confluent REST Proxy v2: topics, partitions, offsets and brokers.
import type { FastifyInstance } from 'fastify'
import type { PartitionMetadata } from '@confluentinc/kafka-javascript'
import { routes, type RouteTypes } from '../../generated/routes'

export const V2_JSON = 'application/vnd.kafka.v2+json'
type V2Partition = RouteTypes['getPartitionV2']['Reply'][200]

export function v2Partition (p: PartitionMetadata): V2Partition {
  return {
    partition: p.id,
    leader: p.leader,
    replicas: p.replicas.map((broker) => ({ broker, leader: broker === p.leader, in_sync: p.isrs.includes(broker) }))
  }
}

export default async function v2MetadataRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.route<RouteTypes['listTopicsV2']>({
    ...routes.listTopicsV2,
    handler: async (request, reply) => reply.type(V2_JSON).code(200).send(await fastify.metadata.topicNames(request))
  })

  fastify.route<RouteTypes['getTopicV2']>({
    ...routes.getTopicV2,
    handler: async (request, reply) => {
      const name = request.params.topic_name
      const partitions = await fastify.metadata.partitions(request, name)
      const described = await fastify.metadata.describe(request, 'topic', name)
      const configs = Object.fromEntries(Object.values(described.config).map((c) => [c.name, c.value]))
      return reply.type(V2_JSON).code(200).send({ name, configs, partitions: partitions.map(v2Partition) })
    }
  })

  fastify.route<RouteTypes['listPartitionsV2']>({
    ...routes.listPartitionsV2,
    handler: async (request, reply) => {
      const partitions = await fastify.metadata.partitions(request, request.params.topic_name)
      return reply.type(V2_JSON).code(200).send(partitions.map(v2Partition))
    }
  })

  fastify.route<RouteTypes['getPartitionV2']>({
    ...routes.getPartitionV2,
    handler: async (request, reply) => {
      const p = await fastify.metadata.partition(request, request.params.topic_name, request.params.partition_id)
      return reply.type(V2_JSON).code(200).send(v2Partition(p))
    }
  })

  fastify.route<RouteTypes['getPartitionOffsetsV2']>({
    ...routes.getPartitionOffsetsV2,
    handler: async (request, reply) => {
      const w = await fastify.metadata.watermarks(request, request.params.topic_name, request.params.partition_id)
      return reply.type(V2_JSON).code(200).send({ beginning_offset: w.low, end_offset: w.high })
    }
  })

  fastify.route<RouteTypes['listBrokersV2']>({
    ...routes.listBrokersV2,
    handler: async (request, reply) => reply.type(V2_JSON).code(200).send({ brokers: await fastify.metadata.brokerIds(request) })
  })
}
