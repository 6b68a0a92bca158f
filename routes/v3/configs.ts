// Confluent REST Proxy v3 configs: of a topic, of a broker, cluster-wide (broker-configs), and of every topic or
// broker at once (topics/-/configs, brokers/-/configs). Read with DescribeConfigs and written with
// IncrementalAlterConfigs (kafka/configs.ts, `request.kafkaApi.configs`); a write is answered once a read shows it.
import type { KafkaApi } from '../../kafka/identities'
import type { RouteTypes } from '../../generated/routes'
import type { Handlers } from '../../http/register'
import { ResourceNotFoundError, ValidationError } from '../../lib/errors'
import type { ConfigChange, ConfigValue } from '../../kafka/configs'
import {
  brokerConfigResource, brokerPath, clusterConfigResource, clusterPath, collection, topicConfigResource, topicPath
} from './admin-resources'

type AlterBatch = RouteTypes['alterTopicConfigBatchV3']['Body']

/** The named config of a list; ResourceNotFoundError, in Confluent's words, when there is none. */
function named (configs: ConfigValue[], name: string, of: string): ConfigValue {
  const config = configs.find((c) => c.name === name)
  if (!config) throw new ResourceNotFoundError(`Config ${name} cannot be found for ${of}.`)
  return config
}

/** A topic's config `name`; TopicNotFoundError or ResourceNotFoundError. */
async function topicConfig (server: KafkaApi, topic: string, name: string): Promise<ConfigValue> {
  return named(await server.configs.configs('topic', topic), name, `topic ${topic}`)
}

/** A broker's config `name`; ResourceNotFoundError for an unknown broker or config. */
async function brokerConfig (server: KafkaApi, brokerId: number, name: string): Promise<ConfigValue> {
  const broker = await server.cluster.broker(brokerId)
  return named(await server.configs.configs('broker', String(broker.id)), name, `broker ${broker.id}`)
}

/** A PUT's value: a config is set to a string; resetting it is a DELETE. */
function valueToSet (value: string | null | undefined): string {
  if (typeof value !== 'string') throw new ValidationError('body/value must be a string: to reset a config to its default, DELETE it.')
  return value
}

/** A configs:alter body as changes: operation SET (the default when absent) needs a value, DELETE none. */
function changesOf (body: AlterBatch): ConfigChange[] {
  return body.data.map((c, i) => {
    if (c.operation === 'DELETE') return { name: c.name, operation: 'DELETE' }
    if (typeof c.value !== 'string') throw new ValidationError(`body/data/${i}/value is required to SET '${c.name}'.`)
    return { name: c.name, operation: 'SET', value: c.value }
  })
}

export const configs = {
  // ---- topics ---------------------------------------------------------------------------------------------------
  listTopicConfigsV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const topic = request.params.topic_name
    const configs = await request.kafkaApi.configs.configs('topic', topic)
    return reply.code(200).send(collection(request, 'KafkaTopicConfigList', `${topicPath(id, topic)}/configs`,
      configs.map((c) => topicConfigResource(request, id, topic, c))))
  },

  listAllTopicsConfigsV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const topics = (await request.kafkaApi.topics.describe()).map((t) => t.name)
    const all = await request.kafkaApi.configs.configsOfEach('topic', topics)
    return reply.code(200).send(collection(request, 'KafkaTopicConfigList', `${clusterPath(id)}/topics/-/configs`,
      all.flatMap(({ name, configs }) => configs.map((c) => topicConfigResource(request, id, name, c)))))
  },

  getTopicConfigV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const { topic_name: topic, name } = request.params
    return reply.code(200).send(topicConfigResource(request, id, topic, await topicConfig(request.kafkaApi, topic, name)))
  },

  updateTopicConfigV3: async (request, reply) => {
    await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const { topic_name: topic, name } = request.params
    const value = valueToSet(request.body.value)
    await topicConfig(request.kafkaApi, topic, name)
    await request.kafkaApi.configs.alterConfigs({ type: 'topic', name: topic }, [{ name, operation: 'SET', value }])
    return reply.code(204).send()
  },

  deleteTopicConfigV3: async (request, reply) => {
    await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const { topic_name: topic, name } = request.params
    await topicConfig(request.kafkaApi, topic, name)
    await request.kafkaApi.configs.alterConfigs({ type: 'topic', name: topic }, [{ name, operation: 'DELETE' }])
    return reply.code(204).send()
  },

  alterTopicConfigBatchV3: async (request, reply) => {
    await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const topic = request.params.topic_name
    const changes = changesOf(request.body)
    await request.kafkaApi.topics.assertExists(topic)
    await request.kafkaApi.configs.alterConfigs({ type: 'topic', name: topic }, changes, request.body.validate_only === true)
    return reply.code(204).send()
  },

  // ---- brokers --------------------------------------------------------------------------------------------------
  listBrokerConfigsV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const broker = await request.kafkaApi.cluster.broker(request.params.broker_id)
    const configs = await request.kafkaApi.configs.configs('broker', String(broker.id))
    return reply.code(200).send(collection(request, 'KafkaBrokerConfigList', `${brokerPath(id, broker.id)}/configs`,
      configs.map((c) => brokerConfigResource(request, id, broker.id, c))))
  },

  listAllBrokersConfigsV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const brokers = await request.kafkaApi.cluster.brokerIds()
    const all = await request.kafkaApi.configs.configsOfEach('broker', brokers.map(String))
    return reply.code(200).send(collection(request, 'KafkaBrokerConfigList', `${clusterPath(id)}/brokers/-/configs`,
      all.flatMap(({ name, configs }) => configs.map((c) => brokerConfigResource(request, id, Number(name), c)))))
  },

  getBrokerConfigV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const { broker_id: brokerId, name } = request.params
    return reply.code(200).send(brokerConfigResource(request, id, brokerId, await brokerConfig(request.kafkaApi, brokerId, name)))
  },

  updateBrokerConfigV3: async (request, reply) => {
    await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const { broker_id: brokerId, name } = request.params
    const value = valueToSet(request.body.value)
    await brokerConfig(request.kafkaApi, brokerId, name)
    await request.kafkaApi.configs.alterConfigs({ type: 'broker', name: String(brokerId) }, [{ name, operation: 'SET', value }])
    return reply.code(204).send()
  },

  deleteBrokerConfigV3: async (request, reply) => {
    await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const { broker_id: brokerId, name } = request.params
    await brokerConfig(request.kafkaApi, brokerId, name)
    await request.kafkaApi.configs.alterConfigs({ type: 'broker', name: String(brokerId) }, [{ name, operation: 'DELETE' }])
    return reply.code(204).send()
  },

  alterBrokerConfigBatchV3: async (request, reply) => {
    await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const changes = changesOf(request.body)
    const broker = await request.kafkaApi.cluster.broker(request.params.broker_id)
    await request.kafkaApi.configs.alterConfigs({ type: 'broker', name: String(broker.id) }, changes, request.body.validate_only === true)
    return reply.code(204).send()
  },

  // ---- cluster-wide broker configs ------------------------------------------------------------------------------
  listClusterConfigsV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const configs = await request.kafkaApi.configs.clusterConfigs()
    return reply.code(200).send(collection(request, 'KafkaClusterConfigList', `${clusterPath(id)}/broker-configs`,
      configs.map((c) => clusterConfigResource(request, id, c))))
  },

  getClusterConfigV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const config = named(await request.kafkaApi.configs.clusterConfigs(), request.params.name, `cluster ${id}`)
    return reply.code(200).send(clusterConfigResource(request, id, config))
  },

  // Setting a cluster-wide config creates it: there is nothing to find first.
  updateClusterConfigV3: async (request, reply) => {
    await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const name = request.params.name
    const value = valueToSet(request.body.value)
    await request.kafkaApi.configs.alterConfigs({ type: 'cluster' }, [{ name, operation: 'SET', value }])
    return reply.code(204).send()
  },

  deleteClusterConfigV3: async (request, reply) => {
    const { id } = await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    const name = request.params.name
    named(await request.kafkaApi.configs.clusterConfigs(), name, `cluster ${id}`)
    await request.kafkaApi.configs.alterConfigs({ type: 'cluster' }, [{ name, operation: 'DELETE' }])
    return reply.code(204).send()
  },

  alterClusterConfigBatchV3: async (request, reply) => {
    await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    await request.kafkaApi.configs.alterConfigs({ type: 'cluster' }, changesOf(request.body), request.body.validate_only === true)
    return reply.code(204).send()
  }
} satisfies Partial<Handlers<'confluent-v3'>>
