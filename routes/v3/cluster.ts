// Confluent REST Proxy v3: the cluster, its brokers and their configs.
import type { FastifyInstance } from 'fastify'
import { routes, type RouteTypes } from '../../generated/routes'
import { ResourceNotFoundError } from '../../lib/errors'
import { brokerConfigResource, brokerPath, brokerResource, clusterPath, clusterResource, collection } from './admin-resources'

export default async function v3ClusterRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.route<RouteTypes['listClustersV3']>({
    ...routes.listClustersV3,
    handler: async (request, reply) => {
      const { id, controllerId } = await fastify.cluster.describe()
      return reply.code(200).send(collection(request, 'KafkaClusterList', '/v3/clusters', [clusterResource(request, id, controllerId)]))
    }
  })

  fastify.route<RouteTypes['getClusterV3']>({
    ...routes.getClusterV3,
    handler: async (request, reply) => {
      const { id, controllerId } = await fastify.cluster.assertCluster(request.params.cluster_id)
      return reply.code(200).send(clusterResource(request, id, controllerId))
    }
  })

  fastify.route<RouteTypes['listBrokersV3']>({
    ...routes.listBrokersV3,
    handler: async (request, reply) => {
      const { id } = await fastify.cluster.assertCluster(request.params.cluster_id)
      const brokers = await fastify.cluster.brokers()
      return reply.code(200).send(collection(request, 'KafkaBrokerList', `${clusterPath(id)}/brokers`, brokers.map((b) => brokerResource(request, id, b))))
    }
  })

  fastify.route<RouteTypes['getBrokerV3']>({
    ...routes.getBrokerV3,
    handler: async (request, reply) => {
      const { id } = await fastify.cluster.assertCluster(request.params.cluster_id)
      return reply.code(200).send(brokerResource(request, id, await fastify.cluster.broker(request.params.broker_id)))
    }
  })

  fastify.route<RouteTypes['listBrokerConfigsV3']>({
    ...routes.listBrokerConfigsV3,
    handler: async (request, reply) => {
      const { id } = await fastify.cluster.assertCluster(request.params.cluster_id)
      const broker = await fastify.cluster.broker(request.params.broker_id)
      const configs = await fastify.configs.configs('broker', String(broker.id))
      return reply.code(200).send(collection(request, 'KafkaBrokerConfigList', `${brokerPath(id, broker.id)}/configs`,
        configs.map((c) => brokerConfigResource(request, id, broker.id, c))))
    }
  })

  fastify.route<RouteTypes['getBrokerConfigV3']>({
    ...routes.getBrokerConfigV3,
    handler: async (request, reply) => {
      const { id } = await fastify.cluster.assertCluster(request.params.cluster_id)
      const broker = await fastify.cluster.broker(request.params.broker_id)
      const name = request.params.name
      const config = (await fastify.configs.configs('broker', String(broker.id))).find((c) => c.name === name)
      if (!config) throw new ResourceNotFoundError(`Config ${name} cannot be found for broker ${broker.id}.`)
      return reply.code(200).send(brokerConfigResource(request, id, broker.id, config))
    }
  })
}
