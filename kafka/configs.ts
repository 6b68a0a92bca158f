// The configuration of topics, brokers and groups: read (DescribeConfigs) and change (IncrementalAlterConfigs),
// through @platformatic/kafka's Admin: librdkafka's binding has neither call.
import { setTimeout as sleep } from 'node:timers/promises'
import {
  ConfigResourceTypes, IncrementalAlterConfigOperationTypes, type ConfigDescription, type describeConfigsV4,
  type IncrementalAlterConfigsOptions, type incrementalAlterConfigsV1
} from '@platformatic/kafka'
import { InvalidResourceTypeError, ResourceNotFoundError, TopicReservedError } from '../lib/errors'
import { fromCallback } from './callback'
import { Cluster, existingTopic } from './cluster'
import type { KafkaConnection } from './connection'
import { fromKafkaError, type KafkaContext } from './errors'
import { onAnyBroker } from './protocol'
import { traced } from './tracing'

export type ConfigResourceType = 'broker' | 'topic' | 'group'
/** What a config change applies to: a topic or a broker (by name), or every broker at once (the cluster-wide default). */
export type ConfigTarget = { type: 'topic' | 'broker', name: string } | { type: 'cluster' }

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
/** A resource and every configuration parameter it has, by name. */
export interface ResourceConfigs { type: ConfigResourceType, name: string, configs: ConfigValue[] }
/** SET a value, or DELETE (reset to the default). */
export type ConfigChange = { name: string, operation: 'SET', value: string } | { name: string, operation: 'DELETE' }

const RESOURCE_TYPES = { broker: ConfigResourceTypes.BROKER, topic: ConfigResourceTypes.TOPIC, group: ConfigResourceTypes.GROUP } as const
// Kafka's own names for the DescribeConfigs source codes (as its Java Admin client spells them).
const SOURCE_NAMES = [
  'UNKNOWN', 'DYNAMIC_TOPIC_CONFIG', 'DYNAMIC_BROKER_CONFIG', 'DYNAMIC_DEFAULT_BROKER_CONFIG', 'STATIC_BROKER_CONFIG',
  'DEFAULT_CONFIG', 'DYNAMIC_BROKER_LOGGER_CONFIG', 'DYNAMIC_CLIENT_METRICS_CONFIG', 'DYNAMIC_GROUP_CONFIG'
]
const sourceName = (source: number): string => SOURCE_NAMES[source] ?? 'UNKNOWN'

/** Is `type` a resource type that has configs (broker, topic, group)? */
export const isConfigResourceType = (type: string): type is ConfigResourceType => Object.hasOwn(RESOURCE_TYPES, type)

function configValue (c: ConfigDescription['configs'][number]): ConfigValue {
  return {
    name: c.name,
    // Sensitive values never leave the service.
    value: c.isSensitive ? null : c.value ?? null,
    source: sourceName(c.configSource),
    isDefault: sourceName(c.configSource) === 'DEFAULT_CONFIG',
    isReadOnly: c.readOnly,
    isSensitive: c.isSensitive,
    synonyms: c.synonyms.map((y) => ({ name: y.name, value: c.isSensitive ? null : y.value ?? null, source: sourceName(y.source) }))
  }
}

const contextOf = (type: ConfigResourceType, name: string): KafkaContext =>
  type === 'topic' ? { topic: name } : { resource: type === 'broker' ? (name === '' ? 'the cluster\'s broker configs' : `broker ${name}`) : `group '${name}'` }
// Kafka keeps the cluster-wide dynamic broker configs on the broker resource with the empty name.
const CLUSTER_WIDE = ''
const resourceOf = (target: ConfigTarget): { type: 'topic' | 'broker', name: string } =>
  target.type === 'cluster' ? { type: 'broker', name: CLUSTER_WIDE } : target
// The source a config shows once a dynamic value set on the target is in force.
const DYNAMIC_SOURCE = { topic: 'DYNAMIC_TOPIC_CONFIG', broker: 'DYNAMIC_BROKER_CONFIG', cluster: 'DYNAMIC_DEFAULT_BROKER_CONFIG' } as const

export class Configs {
  private readonly reserved: ReadonlySet<string>

  /** reserved: topics the service keeps for itself (STATE_TOPIC), whose configs alterConfigs refuses to change. */
  constructor (private readonly kafka: KafkaConnection, private readonly cluster: Cluster = new Cluster(kafka), options: { reserved?: readonly string[] } = {}) {
    this.reserved = new Set(options.reserved ?? [])
  }

  /** Every configuration parameter of a topic or a broker, by name. */
  async configs (type: 'topic' | 'broker', name: string): Promise<ConfigValue[]> {
    return (await this.read(type, [name]))[0] ?? []
  }

  /** Every configuration parameter of each topic or broker named, in one DescribeConfigs call: by name, as named. */
  async configsOfEach (type: 'topic' | 'broker', names: string[]): Promise<Array<{ name: string, configs: ConfigValue[] }>> {
    if (names.length === 0) return []
    const read = await this.read(type, names)
    return names.map((name, i) => ({ name, configs: read[i] ?? [] }))
  }

  /** The cluster-wide dynamic broker configs: only those set (a default every broker takes unless it has its own). */
  async clusterConfigs (): Promise<ConfigValue[]> {
    const configs = await this.configs('broker', CLUSTER_WIDE)
    return configs.filter((c) => c.source === DYNAMIC_SOURCE.cluster)
  }

  /**
   * A topic's, broker's or group's configuration (the v1 describe); TopicNotFoundError or ResourceNotFoundError
   * when it does not exist, InvalidResourceTypeError for a broker not named by its id.
   */
  async describe (type: ConfigResourceType, name: string): Promise<ResourceConfigs> {
    await this.assertResourceExists(type, name)
    return { type, name, configs: (await this.read(type, [name]))[0] ?? [] }
  }

  /**
   * Applies the changes to a topic, a broker or the cluster-wide broker configs in one IncrementalAlterConfigs call
   * (all or none), and answers once DescribeConfigs shows them; validateOnly: Kafka only checks them.
   */
  async alterConfigs (target: ConfigTarget, changes: ConfigChange[], validateOnly = false): Promise<void> {
    if (target.type === 'topic' && this.reserved.has(target.name)) throw new TopicReservedError(target.name)
    await traced('IncrementalAlterConfigs', () => ({ 'kosha.config.resource.type': target.type, 'kosha.config.resource.name': target.type === 'cluster' ? '' : target.name, 'kosha.config.names': changes.map((c) => c.name) }),
      async () => { await this.alterNow(target, changes, validateOnly) })
  }

  private async alterNow (target: ConfigTarget, changes: ConfigChange[], validateOnly: boolean): Promise<void> {
    const { configAdmin } = this.kafka.clients()
    const { type, name } = resourceOf(target)
    const configs: IncrementalAlterConfigsOptions['resources'][number]['configs'] = changes.map((c) => c.operation === 'SET'
      ? { name: c.name, configOperation: IncrementalAlterConfigOperationTypes.SET, value: c.value }
      : { name: c.name, configOperation: IncrementalAlterConfigOperationTypes.DELETE })
    const resources = [{ resourceType: RESOURCE_TYPES[type], resourceName: name, configs }]
    // The cluster-wide resource goes to any broker (kafka/protocol.ts says why).
    await (target.type === 'cluster'
      ? onAnyBroker<incrementalAlterConfigsV1.IncrementalAlterConfigsRequest, incrementalAlterConfigsV1.IncrementalAlterConfigsResponse>(configAdmin, 'IncrementalAlterConfigs', resources, validateOnly)
      : configAdmin.incrementalAlterConfigs({ resources, validateOnly }))
      .catch((err: unknown) => { throw fromKafkaError(err, contextOf(type, name)) })
    if (!validateOnly) await this.untilVisible(target, changes)
  }

  /** The configs of each resource named, in one DescribeConfigs call, in the order named; each sorted by name. */
  private async read (type: ConfigResourceType, names: string[]): Promise<ConfigValue[][]> {
    return await traced('DescribeConfigs', () => ({ 'kosha.config.resource.type': type, 'kosha.config.resource.names': names }), async () => await this.readNow(type, names))
  }

  private async readNow (type: ConfigResourceType, names: string[]): Promise<ConfigValue[][]> {
    const { configAdmin } = this.kafka.clients()
    const resources = names.map((name) => ({ resourceType: RESOURCE_TYPES[type], resourceName: name }))
    // The cluster-wide resource goes to any broker (kafka/protocol.ts says why).
    const results: ConfigDescription[] = await (type === 'broker' && names.includes(CLUSTER_WIDE)
      ? onAnyBroker<describeConfigsV4.DescribeConfigsRequest, describeConfigsV4.DescribeConfigsResponse>(configAdmin, 'DescribeConfigs', resources, true, false)
        .then((response) => response.results)
      : configAdmin.describeConfigs({ resources, includeSynonyms: true }))
      .catch((err: unknown) => { throw fromKafkaError(err, names.length === 1 ? contextOf(type, names[0] ?? '') : {}) })
    const byName = new Map(results.map((r) => [r.resourceName, r]))
    return names.map((name) => (byName.get(name)?.configs ?? []).map(configValue).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  // The controller has applied a config change when it answers; the brokers learn of it a moment later. Waiting
  // (bounded) until DescribeConfigs shows it means a 2xx is followed by reads that see the change.
  private async untilVisible (target: ConfigTarget, changes: ConfigChange[]): Promise<void> {
    const { type, name } = resourceOf(target)
    const dynamic = DYNAMIC_SOURCE[target.type]
    const deadline = Date.now() + this.kafka.timeoutMs
    while (Date.now() < deadline) {
      const current = new Map((await this.configs(type, name).catch(() => [])).map((c) => [c.name, c]))
      const seen = changes.every((c) => {
        const now = current.get(c.name)
        if (!now || now.isSensitive) return true
        return c.operation === 'SET' ? now.value === c.value && now.source === dynamic : now.source !== dynamic
      })
      if (seen) return
      await sleep(50)
    }
  }

  /** TopicNotFoundError or ResourceNotFoundError unless the resource exists. */
  private async assertResourceExists (type: ConfigResourceType, name: string): Promise<void> {
    if (type === 'topic') {
      await existingTopic(this.kafka, name)
      return
    }
    if (type === 'broker') {
      if (!/^\d{1,9}$/.test(name)) throw new InvalidResourceTypeError(`A broker is named by its numeric id (got '${name}').`)
      if (!(await this.cluster.brokerIds()).includes(Number(name))) throw new ResourceNotFoundError(`Broker ${name} does not exist.`)
      return
    }
    const { admin } = this.kafka.clients()
    const listed = await fromCallback<{ groups: Array<{ groupId: string }> }>((done) => { admin.listGroups({ timeout: this.kafka.timeoutMs }, done) })
      .catch((err: unknown) => { throw fromKafkaError(err, { resource: `group '${name}'` }) })
    if (!listed.groups.some((g) => g.groupId === name)) throw new ResourceNotFoundError(`Group '${name}' does not exist.`)
  }
}
