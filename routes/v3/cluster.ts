// Confluent REST Proxy v3: the cluster, its brokers and their configs.
import type { Handlers } from '../../http/register'
import { ResourceNotFoundError } from '../../lib/errors'
import { brokerConfigResource, brokerPath, brokerResource, clusterPath, clusterResource, collection } from './admin-resources'

export const cluster = {
  listClustersV3: async (request, reply) => {
    const { id, controllerId } = await request.server.cluster.describe()
    return reply.code(200).send(collection(request, 'KafkaClusterList', '/v3/clusters', [clusterResource(request, id, controllerId)]))
  },

  getClusterV3: async (request, reply) => {
    const { id, controllerId } = await request.server.cluster.assertCluster(request.params.cluster_id)
    return reply.code(200).send(clusterResource(request, id, controllerId))
  },

  listBrokersV3: async (request, reply) => {
    const { id } = await request.server.cluster.assertCluster(request.params.cluster_id)
    const brokers = await request.server.cluster.brokers()
    return reply.code(200).send(collection(request, 'KafkaBrokerList', `${clusterPath(id)}/brokers`, brokers.map((b) => brokerResource(request, id, b))))
  },

  getBrokerV3: async (request, reply) => {
    const { id } = await request.server.cluster.assertCluster(request.params.cluster_id)
    return reply.code(200).send(brokerResource(request, id, await request.server.cluster.broker(request.params.broker_id)))
  },

  listBrokerConfigsV3: async (request, reply) => {
    const { id } = await request.server.cluster.assertCluster(request.params.cluster_id)
    const broker = await request.server.cluster.broker(request.params.broker_id)
    const configs = await request.server.configs.configs('broker', String(broker.id))
    return reply.code(200).send(collection(request, 'KafkaBrokerConfigList', `${brokerPath(id, broker.id)}/configs`,
      configs.map((c) => brokerConfigResource(request, id, broker.id, c))))
  },

  getBrokerConfigV3: async (request, reply) => {
    const { id } = await request.server.cluster.assertCluster(request.params.cluster_id)
    const broker = await request.server.cluster.broker(request.params.broker_id)
    const name = request.params.name
    const config = (await request.server.configs.configs('broker', String(broker.id))).find((c) => c.name === name)
    if (!config) throw new ResourceNotFoundError(`Config ${name} cannot be found for broker ${broker.id}.`)
    return reply.code(200).send(brokerConfigResource(request, id, broker.id, config))
  }
} satisfies Partial<Handlers<'confluent-v3'>>
