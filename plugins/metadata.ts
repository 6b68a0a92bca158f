// Cluster metadata and configuration behind /api/v1/getMetadata/{topic} and /api/v1/describe/{type}/{name}.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ConfigResourceTypes, IncrementalAlterConfigOperationTypes, type IncrementalAlterConfigsOptions } from '@platformatic/kafka'
import type { RouteTypes } from '../generated/routes'
import type { PartitionMetadata } from '@confluentinc/kafka-javascript'
import type { Watermarks } from './kafka-connection'
import { InvalidResourceTypeError, KafkaUnavailableError, PartitionNotFoundError, ResourceNotFoundError, TopicNotFoundError, fromKafkaError } from '../lib/errors'

type MetadataReply = RouteTypes['getTopicMetadata']['Reply'][200]
type Description = RouteTypes['describeResource']['Reply'][200][number]
type ConfigEntry = Description['config'][string]
export type ResourceType = Description['type']

/** One configuration parameter as Kafka describes it; value (and synonyms' values) null when sensitive. */
export interface ConfigValue {
  name: string
  value: string | null
  source: string
  isDefault: boolean
  isReadOnly: boolean
  isSensitive: boolean
  synonyms: Array<{ name: string, value: string | null, source: string }>
}
/** SET a value, or DELETE (reset to the default). */
export type ConfigChange = { name: string, operation: 'SET', value: string } | { name: string, operation: 'DELETE' }

export interface MetadataService {
  topicMetadata: (request: FastifyRequest, topic: string) => Promise<MetadataReply>
  describe: (request: FastifyRequest, type: string, name: string) => Promise<Description>
  /** Names of the topics that are not Kafka's internal ones, sorted. */
  topicNames: (request: FastifyRequest) => Promise<string[]>
  brokerIds: (request: FastifyRequest) => Promise<number[]>
  /** The partitions of a topic; TopicNotFoundError when it does not exist. */
  partitions: (request: FastifyRequest, topic: string) => Promise<PartitionMetadata[]>
  /** One partition; PartitionNotFoundError when the topic or the partition does not exist. */
  partition: (request: FastifyRequest, topic: string, partition: number) => Promise<PartitionMetadata>
  watermarks: (request: FastifyRequest, topic: string, partition: number) => Promise<Watermarks>
  /** Every configuration parameter of a topic or a broker, by name; TopicNotFoundError for a missing topic. */
  configs: (request: FastifyRequest, type: 'topic' | 'broker', name: string) => Promise<ConfigValue[]>
  /** Applies the changes in one IncrementalAlterConfigs call (all or none); validateOnly: Kafka only checks them. */
  alterConfigs: (request: FastifyRequest, type: 'topic' | 'broker', name: string, changes: ConfigChange[], validateOnly?: boolean) => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance { metadata: MetadataService }
}

const RESOURCE_TYPES = { broker: ConfigResourceTypes.BROKER, topic: ConfigResourceTypes.TOPIC, group: ConfigResourceTypes.GROUP } as const
// Kafka's own names for the DescribeConfigs source codes (as its Java Admin client spells them).
const SOURCE_NAMES = [
  'UNKNOWN', 'DYNAMIC_TOPIC_CONFIG', 'DYNAMIC_BROKER_CONFIG', 'DYNAMIC_DEFAULT_BROKER_CONFIG', 'STATIC_BROKER_CONFIG',
  'DEFAULT_CONFIG', 'DYNAMIC_BROKER_LOGGER_CONFIG', 'DYNAMIC_CLIENT_METRICS_CONFIG', 'DYNAMIC_GROUP_CONFIG'
]
const sourceName = (source: number): string => SOURCE_NAMES[source] ?? 'UNKNOWN'

async function metadata (fastify: FastifyInstance): Promise<void> {
  // The controller has applied a config change when it answers; the brokers learn of it a moment later. Waiting
  // (bounded) until DescribeConfigs shows it means a 2xx is followed by reads that see the change.
  async function untilVisible (request: FastifyRequest, type: 'topic' | 'broker', name: string, changes: ConfigChange[]): Promise<void> {
    const dynamic = type === 'topic' ? 'DYNAMIC_TOPIC_CONFIG' : 'DYNAMIC_BROKER_CONFIG'
    const deadline = Date.now() + fastify.config.kafkaTimeoutMs
    while (Date.now() < deadline) {
      const current = new Map((await service.configs(request, type, name).catch(() => [])).map((c) => [c.name, c]))
      const seen = changes.every((c) => {
        const now = current.get(c.name)
        if (!now || now.isSensitive) return true
        return c.operation === 'SET' ? now.value === c.value && now.source === dynamic : now.source !== dynamic
      })
      if (seen) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  async function assertResourceExists (request: FastifyRequest, type: ResourceType, name: string): Promise<void> {
    if (type === 'topic') return await fastify.topics.assertExists(request, name)
    if (type === 'broker') {
      if (!/^\d{1,9}$/.test(name)) throw new InvalidResourceTypeError(`A broker is named by its numeric id (got '${name}').`)
      const md = await fastify.kafka.metadata(request).catch((err: unknown) => { throw fromKafkaError(err, {}, request.id) })
      if (!md.brokers.some((b) => b.id === Number(name))) throw new ResourceNotFoundError(`Broker ${name} does not exist.`)
      return
    }
    const { admin } = fastify.kafka.clientsFor(request)
    const groups = await new Promise<string[]>((resolve, reject) => {
      admin.listGroups({ timeout: fastify.config.kafkaTimeoutMs }, (err, result) => {
        if (err) reject(fromKafkaError(err, { resource: `group '${name}'` }, request.id))
        else resolve(result.groups.map((g) => g.groupId))
      })
    })
    if (!groups.includes(name)) throw new ResourceNotFoundError(`Group '${name}' does not exist.`)
  }

  async function cluster (request: FastifyRequest, topic?: string): ReturnType<typeof fastify.kafka.metadata> {
    return await fastify.kafka.metadata(request, topic).catch((err: unknown) => {
      throw fromKafkaError(err, topic !== undefined ? { topic } : {}, request.id)
    })
  }

  const configContext = (type: 'topic' | 'broker', name: string): { topic: string } | { resource: string } =>
    type === 'topic' ? { topic: name } : { resource: `broker ${name}` }

  const service: MetadataService = {
    async configs (request, type, name) {
      const { configAdmin } = fastify.kafka.clientsFor(request)
      const [result] = await configAdmin.describeConfigs({
        resources: [{ resourceType: RESOURCE_TYPES[type], resourceName: name }],
        includeSynonyms: true
      }).catch((err: unknown) => { throw fromKafkaError(err, configContext(type, name), request.id) })
      return (result?.configs ?? []).map((c) => ({
        name: c.name,
        // Sensitive values never leave the service.
        value: c.isSensitive ? null : c.value ?? null,
        source: sourceName(c.configSource),
        isDefault: sourceName(c.configSource) === 'DEFAULT_CONFIG',
        isReadOnly: c.readOnly,
        isSensitive: c.isSensitive,
        synonyms: c.synonyms.map((y) => ({ name: y.name, value: c.isSensitive ? null : y.value ?? null, source: sourceName(y.source) }))
      })).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    },
    async alterConfigs (request, type, name, changes, validateOnly = false) {
      const { configAdmin } = fastify.kafka.clientsFor(request)
      const configs: IncrementalAlterConfigsOptions['resources'][number]['configs'] = changes.map((c) => c.operation === 'SET'
        ? { name: c.name, configOperation: IncrementalAlterConfigOperationTypes.SET, value: c.value }
        : { name: c.name, configOperation: IncrementalAlterConfigOperationTypes.DELETE })
      await configAdmin.incrementalAlterConfigs({ resources: [{ resourceType: RESOURCE_TYPES[type], resourceName: name, configs }], validateOnly })
        .catch((err: unknown) => { throw fromKafkaError(err, configContext(type, name), request.id) })
      if (!validateOnly) await untilVisible(request, type, name, changes)
    },
    async topicNames (request) {
      const md = await cluster(request)
      return md.topics.map((t) => t.name).filter((name) => !name.startsWith('__')).sort()
    },
    async brokerIds (request) {
      return (await cluster(request)).brokers.map((b) => b.id).sort((a, b) => a - b)
    },
    async partitions (request, topic) {
      const found = (await cluster(request, topic)).topics.find((t) => t.name === topic)
      if (!found || found.partitions.length === 0) throw new TopicNotFoundError(topic)
      return [...found.partitions].sort((a, b) => a.id - b.id)
    },
    async partition (request, topic, partition) {
      const found = (await service.partitions(request, topic).catch((err: unknown) => {
        throw err instanceof TopicNotFoundError ? new PartitionNotFoundError(topic, partition) : err
      })).find((p) => p.id === partition)
      if (!found) throw new PartitionNotFoundError(topic, partition)
      return found
    },
    async watermarks (request, topic, partition) {
      await service.partition(request, topic, partition)
      // Right after a topic is created the client may not know the partition's leader yet: that passes in moments,
      // so a retriable answer is asked again for a short while before it becomes a 503.
      const deadline = Date.now() + Math.min(fastify.config.kafkaTimeoutMs, 3000)
      for (;;) {
        try {
          return await fastify.kafka.watermarks(request, topic, partition)
        } catch (err) {
          const error = fromKafkaError(err, { topic, partition }, request.id)
          if (!(error instanceof KafkaUnavailableError) || Date.now() > deadline) throw error
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      }
    },
    async topicMetadata (request, topic) {
      const md = await fastify.kafka.metadata(request, topic).catch((err: unknown) => { throw fromKafkaError(err, { topic }, request.id) })
      const found = md.topics.find((t) => t.name === topic)
      if (!found || found.partitions.length === 0) throw new TopicNotFoundError(topic)
      const brokers = md.brokers.map((b) => ({ id: b.id, host: b.host, port: b.port }))
      const origin = brokers.find((b) => b.id === md.orig_broker_id) ?? { id: md.orig_broker_id, host: '', port: 0 }
      return {
        brokers,
        originatingBroker: origin,
        topics: {
          [topic]: {
            topic,
            error: null,
            partitions: found.partitions.map((p) => ({ id: p.id, leader: p.leader, replicas: p.replicas, isrs: p.isrs, error: null }))
          }
        }
      }
    },

    async describe (request, rawType, name) {
      const type = rawType.toLowerCase()
      if (!(type in RESOURCE_TYPES)) throw new InvalidResourceTypeError(`resourceType must be broker, topic or group (got '${rawType}').`)
      const resourceType = type as ResourceType
      await assertResourceExists(request, resourceType, name)
      const { configAdmin } = fastify.kafka.clientsFor(request)
      const context = resourceType === 'topic' ? { topic: name } : { resource: `${resourceType} '${name}'` }
      const [result] = await configAdmin.describeConfigs({
        resources: [{ resourceType: RESOURCE_TYPES[resourceType], resourceName: name }],
        includeSynonyms: true
      }).catch((err: unknown) => { throw fromKafkaError(err, context, request.id) })
      const config: Record<string, ConfigEntry> = {}
      for (const c of result?.configs ?? []) {
        config[c.name] = {
          name: c.name,
          // Sensitive values never leave the service.
          value: c.isSensitive ? null : c.value ?? null,
          source: sourceName(c.configSource),
          isReadOnly: c.readOnly,
          isSensitive: c.isSensitive,
          isSynonym: false,
          synonyms: c.synonyms.map((s) => ({ name: s.name, value: c.isSensitive ? null : s.value ?? null, source: sourceName(s.source) }))
        }
      }
      return { name, type: resourceType, config, error: null }
    }
  }
  fastify.decorate('metadata', service)
}

export default fp(metadata, { name: 'metadata', dependencies: ['kafka-connection', 'topics'] })
