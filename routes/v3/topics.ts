// Confluent REST Proxy v3: topics, their configs and their partitions.
import type { FastifyInstance } from 'fastify'
import type { Handlers } from '../../http/register'
import { link } from '../../http/links'
import { PartitionNotFoundError, ResourceNotFoundError, TopicNotFoundError, ValidationError } from '../../lib/errors'
import type { ConfigChange, ConfigValue } from '../../kafka/configs'
import {
  clusterPath, collection, describedTopic, partitionResource, topicConfigResource, topicPath, topicResource
} from './admin-resources'

/** The topic's config `name`; ResourceNotFoundError when the topic has no such config. */
async function topicConfig (server: FastifyInstance, topic: string, name: string): Promise<ConfigValue> {
  const config = (await server.configs.configs('topic', topic)).find((c) => c.name === name)
  if (!config) throw new ResourceNotFoundError(`Config ${name} cannot be found for topic ${topic}.`)
  return config
}

export const topics = {
  listTopicsV3: async (request, reply) => {
    const { id } = await request.server.cluster.assertCluster(request.params.cluster_id)
    const topics = await request.server.topics.describe()
    return reply.code(200).send(collection(request, 'KafkaTopicList', `${clusterPath(id)}/topics`,
      topics.map((t) => topicResource(request, id, describedTopic(t)))))
  },

  createTopicV3: async (request, reply) => {
    const { id } = await request.server.cluster.assertCluster(request.params.cluster_id)
    const body = request.body
    if (Object.keys(body.replicas_assignments ?? {}).length > 0) {
      throw new ValidationError('replicas_assignments is not supported: give partitions_count and replication_factor.')
    }
    // A config given with a null value is left at its default.
    const configs = Object.fromEntries((body.configs ?? []).flatMap((c) => typeof c.value === 'string' ? [[c.name, c.value]] : []))
    const topic = {
      topic: body.topic_name,
      ...(body.partitions_count !== undefined ? { partitions: body.partitions_count } : {}),
      ...(body.replication_factor !== undefined ? { replicationFactor: body.replication_factor } : {}),
      configs
    }
    if (body.validate_only === true) {
      const would = await request.server.topics.validateCreate(topic)
      return reply.code(200).send(topicResource(request, id, {
        name: body.topic_name, isInternal: false, replicationFactor: would.replicationFactor, partitionsCount: would.partitions
      }))
    }
    await request.server.topics.create(topic)
    const [created] = await request.server.topics.describe([body.topic_name])
    if (!created) throw new TopicNotFoundError(body.topic_name)
    return reply.code(201).send(topicResource(request, id, describedTopic(created)))
  },

  getTopicV3: async (request, reply) => {
    const { id } = await request.server.cluster.assertCluster(request.params.cluster_id)
    const [topic] = await request.server.topics.describe([request.params.topic_name])
    if (!topic) throw new TopicNotFoundError(request.params.topic_name)
    return reply.code(200).send(topicResource(request, id, describedTopic(topic)))
  },

  updatePartitionCountTopicV3: async (request, reply) => {
    const { id } = await request.server.cluster.assertCluster(request.params.cluster_id)
    const name = request.params.topic_name
    await request.server.topics.addPartitions(name, request.body.partitions_count)
    const [topic] = await request.server.topics.describe([name])
    if (!topic) throw new TopicNotFoundError(name)
    return reply.code(200).send(topicResource(request, id, describedTopic(topic)))
  },

  deleteTopicV3: async (request, reply) => {
    await request.server.cluster.assertCluster(request.params.cluster_id)
    await request.server.topics.delete(request.params.topic_name)
    return reply.code(204).send()
  },

  listTopicConfigsV3: async (request, reply) => {
    const { id } = await request.server.cluster.assertCluster(request.params.cluster_id)
    const topic = request.params.topic_name
    const configs = await request.server.configs.configs('topic', topic)
    return reply.code(200).send(collection(request, 'KafkaTopicConfigList', `${topicPath(id, topic)}/configs`,
      configs.map((c) => topicConfigResource(request, id, topic, c))))
  },

  getTopicConfigV3: async (request, reply) => {
    const { id } = await request.server.cluster.assertCluster(request.params.cluster_id)
    const { topic_name: topic, name } = request.params
    return reply.code(200).send(topicConfigResource(request, id, topic, await topicConfig(request.server, topic, name)))
  },

  updateTopicConfigV3: async (request, reply) => {
    await request.server.cluster.assertCluster(request.params.cluster_id)
    const { topic_name: topic, name } = request.params
    const value = request.body.value
    if (typeof value !== 'string') throw new ValidationError('body/value must be a string: to reset a config to its default, DELETE it.')
    await topicConfig(request.server, topic, name)
    await request.server.configs.alterConfigs('topic', topic, [{ name, operation: 'SET', value }])
    return reply.code(204).send()
  },

  deleteTopicConfigV3: async (request, reply) => {
    await request.server.cluster.assertCluster(request.params.cluster_id)
    const { topic_name: topic, name } = request.params
    await topicConfig(request.server, topic, name)
    await request.server.configs.alterConfigs('topic', topic, [{ name, operation: 'DELETE' }])
    return reply.code(204).send()
  },

  alterTopicConfigBatchV3: async (request, reply) => {
    await request.server.cluster.assertCluster(request.params.cluster_id)
    const topic = request.params.topic_name
    const changes: ConfigChange[] = request.body.data.map((c, i) => {
      if (c.operation === 'DELETE') return { name: c.name, operation: 'DELETE' }
      if (typeof c.value !== 'string') throw new ValidationError(`body/data/${i}/value is required to SET '${c.name}'.`)
      return { name: c.name, operation: 'SET', value: c.value }
    })
    await request.server.topics.assertExists(topic)
    await request.server.configs.alterConfigs('topic', topic, changes, request.body.validate_only === true)
    return reply.code(204).send()
  },

  listPartitionsV3: async (request, reply) => {
    const { id } = await request.server.cluster.assertCluster(request.params.cluster_id)
    const topic = request.params.topic_name
    const [described] = await request.server.topics.describe([topic])
    return reply.code(200).send(collection(request, 'KafkaPartitionList', `${topicPath(id, topic)}/partitions`,
      (described?.partitions ?? []).map((p) => partitionResource(request, id, topic, p))))
  },

  getPartitionV3: async (request, reply) => {
    const { id } = await request.server.cluster.assertCluster(request.params.cluster_id)
    const { topic_name: topic, partition_id: partitionId } = request.params
    const [described] = await request.server.topics.describe([topic])
    const partition = described?.partitions.find((p) => p.id === partitionId)
    if (!partition) throw new PartitionNotFoundError(topic, partitionId)
    return reply.code(200).send(partitionResource(request, id, topic, partition))
  },

  getPartitionOffsetsV3: async (request, reply) => {
    const { id } = await request.server.cluster.assertCluster(request.params.cluster_id)
    const { topic_name: topic, partition_id: partition } = request.params
    const offsets = await request.server.cluster.watermarks(topic, partition)
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
