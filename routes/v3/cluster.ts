// Confluent REST Proxy v3: the cluster and its brokers (their configs: routes/v3/configs.ts).
import type { Handlers } from '../../http/register'
import { brokerResource, clusterPath, clusterResource, collection } from './admin-resources'

export const cluster = {
  listClustersV3: async (request, reply) => {
    const { id, controllerId } = await request.kafkaApi.cluster.describe()
    return reply.code(200).send(collection(request, 'KafkaClusterList', '/v3/clusters', [clusterResource(request, id, controllerId)]))
  },

  getClusterV3: async (request, reply) => {
    const { id, controllerId } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    return reply.code(200).send(clusterResource(request, id, controllerId))
  },

  listBrokersV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const brokers = await request.kafkaApi.cluster.brokers()
    return reply.code(200).send(collection(request, 'KafkaBrokerList', `${clusterPath(id)}/brokers`, brokers.map((b) => brokerResource(request, id, b))))
  },

  getBrokerV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    return reply.code(200).send(brokerResource(request, id, await request.kafkaApi.cluster.broker(request.params.broker_id)))
  }
} satisfies Partial<Handlers<'confluent-v3'>>
