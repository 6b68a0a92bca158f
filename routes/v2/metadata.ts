// Confluent REST Proxy v2: topics, partitions, offsets and brokers.
import type { FastifyInstance } from 'fastify'
import { routes, type RouteTypes } from '../../generated/routes'
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

export default async function v2MetadataRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.route<RouteTypes['listTopicsV2']>({
    ...routes.listTopicsV2,
    handler: async (_request, reply) => reply.type(V2_JSON).code(200).send(await fastify.cluster.topicNames())
  })

  fastify.route<RouteTypes['getTopicV2']>({
    ...routes.getTopicV2,
    handler: async (request, reply) => {
      const name = request.params.topic_name
      const partitions = await fastify.cluster.partitions(name)
      const configs = Object.fromEntries((await fastify.configs.configs('topic', name)).map((c) => [c.name, c.value]))
      return reply.type(V2_JSON).code(200).send({ name, configs, partitions: partitions.map(v2Partition) })
    }
  })

  fastify.route<RouteTypes['listPartitionsV2']>({
    ...routes.listPartitionsV2,
    handler: async (request, reply) => {
      const partitions = await fastify.cluster.partitions(request.params.topic_name)
      return reply.type(V2_JSON).code(200).send(partitions.map(v2Partition))
    }
  })

  fastify.route<RouteTypes['getPartitionV2']>({
    ...routes.getPartitionV2,
    handler: async (request, reply) => {
      const p = await fastify.cluster.partition(request.params.topic_name, request.params.partition_id)
      return reply.type(V2_JSON).code(200).send(v2Partition(p))
    }
  })

  fastify.route<RouteTypes['getPartitionOffsetsV2']>({
    ...routes.getPartitionOffsetsV2,
    handler: async (request, reply) => {
      const w = await fastify.cluster.watermarks(request.params.topic_name, request.params.partition_id)
      return reply.type(V2_JSON).code(200).send({ beginning_offset: w.low, end_offset: w.high })
    }
  })

  fastify.route<RouteTypes['listBrokersV2']>({
    ...routes.listBrokersV2,
    handler: async (_request, reply) => reply.type(V2_JSON).code(200).send({ brokers: await fastify.cluster.brokerIds() })
  })
}
