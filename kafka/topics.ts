// Topic administration: create (and validate a creation), delete, describe, add partitions.
import type { TopicDescription } from '@confluentinc/kafka-javascript'
import type { Admin, createTopicsV7, listPartitionReassignmentsV0 } from '@platformatic/kafka'
import { setTimeout as sleep } from 'node:timers/promises'
import { TopicNotFoundError, TopicReservedError } from '../lib/errors'
import { fromCallback } from './callback'
import { existingTopic } from './cluster'
import type { KafkaConnection } from './connection'
import { fromKafkaError } from './errors'
import { onAnyBroker } from './protocol'
import { traced } from './tracing'

/**
 * partitions / replicationFactor unset: the broker's num.partitions / default.replication.factor. assignments: the
 * brokers of each partition (index = partition id, the preferred leader first), given instead of the two counts.
 */
export interface NewTopic { topic: string, partitions?: number, replicationFactor?: number, assignments?: number[][], configs?: Record<string, string> }

export interface TopicPartition { id: number, leader: number | null, replicas: number[], isr: number[] }
export interface TopicInfo { name: string, isInternal: boolean, replicationFactor: number, partitions: TopicPartition[] }
/** A partition's replica on one broker. */
export interface Replica { topic: string, partition: number, brokerId: number, isLeader: boolean, isInSync: boolean }
/** A partition reassignment in progress: the replicas it will have, and the brokers being added and removed. */
export interface Reassignment { topic: string, partition: number, replicas: number[], adding: number[], removing: number[] }

/** The partition's replicas in Kafka's order (the preferred leader first). */
export const replicasOf = (topic: string, p: TopicPartition): Replica[] =>
  p.replicas.map((brokerId) => ({ topic, partition: p.id, brokerId, isLeader: p.leader === brokerId, isInSync: p.isr.includes(brokerId) }))

/** CreateTopics as the protocol has it, with validate_only and replica assignments (kafka/protocol.ts); v7's shapes. */
async function createTopicsCall (admin: Admin, topic: createTopicsV7.CreateTopicsRequestTopic, timeoutMs: number, validateOnly: boolean): Promise<createTopicsV7.CreateTopicsResponse> {
  return await onAnyBroker<createTopicsV7.CreateTopicsRequest, createTopicsV7.CreateTopicsResponse>(admin, 'CreateTopics', [topic], timeoutMs, validateOnly)
}

/** The CreateTopics request of a NewTopic: -1 leaves a count to the broker, and must be -1 with assignments. */
function createRequestTopic (t: NewTopic): createTopicsV7.CreateTopicsRequestTopic {
  return {
    name: t.topic,
    numPartitions: t.assignments ? -1 : t.partitions ?? -1,
    replicationFactor: t.assignments ? -1 : t.replicationFactor ?? -1,
    assignments: (t.assignments ?? []).map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
    configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value }))
  }
}

export class Topics {
  private readonly reserved: ReadonlySet<string>

  /** reserved: topics the service keeps for itself (STATE_TOPIC), which delete and addPartitions refuse. */
  constructor (private readonly kafka: KafkaConnection, options: { reserved?: readonly string[] } = {}) {
    this.reserved = new Set(options.reserved ?? [])
  }

  /** TopicReservedError for a topic the service keeps for itself. */
  assertNotReserved (topic: string): void {
    if (this.reserved.has(topic)) throw new TopicReservedError(topic)
  }

  async create (t: NewTopic): Promise<void> {
    await traced(`CreateTopics ${t.topic}`, () => ({ 'messaging.destination.name': t.topic }), async () => { await this.createNow(t) })
  }

  private async createNow (t: NewTopic): Promise<void> {
    if (t.assignments) {
      await createTopicsCall(this.kafka.clients().configAdmin, createRequestTopic(t), this.kafka.timeoutMs, false)
        .catch((err: unknown) => { throw fromKafkaError(err, { topic: t.topic }) })
    } else {
      const { admin } = this.kafka.clients()
      const topic = { topic: t.topic, num_partitions: t.partitions ?? -1, replication_factor: t.replicationFactor ?? -1, ...(t.configs ? { config: t.configs } : {}) }
      await fromCallback((done) => { admin.createTopic(topic, this.kafka.timeoutMs, done) })
        .catch((err: unknown) => { throw fromKafkaError(err, { topic: t.topic }) })
    }
    await this.waitUntilVisible(t.topic, t.assignments?.length ?? t.partitions ?? 1)
  }

  async delete (topic: string): Promise<void> {
    this.assertNotReserved(topic)
    await traced(`DeleteTopics ${topic}`, () => ({ 'messaging.destination.name': topic }), async () => {
      const { admin } = this.kafka.clients()
      await fromCallback((done) => { admin.deleteTopic(topic, this.kafka.timeoutMs, done) })
        .catch((err: unknown) => { throw fromKafkaError(err, { topic }) })
    })
  }

  /** Throws TopicNotFoundError unless the topic exists (asking never creates it). */
  async assertExists (topic: string): Promise<void> {
    await existingTopic(this.kafka, topic)
  }

  /** Kafka validates the creation (CreateTopics with validate_only) and creates nothing: the counts it would use. */
  async validateCreate (t: NewTopic): Promise<{ partitions: number, replicationFactor: number }> {
    const response = await createTopicsCall(this.kafka.clients().configAdmin, createRequestTopic(t), this.kafka.timeoutMs, true)
      .catch((err: unknown) => { throw fromKafkaError(err, { topic: t.topic }) })
    const result = response.topics.find((x) => x.name === t.topic)
    const partitions = t.assignments?.length ?? t.partitions ?? 1
    const replicationFactor = t.assignments?.[0]?.length ?? t.replicationFactor ?? 1
    // Kafka answers -1 for a count it did not have to work out (given as assignments).
    const known = (n: number | undefined, fallback: number): number => n !== undefined && n >= 0 ? n : fallback
    return { partitions: known(result?.numPartitions, partitions), replicationFactor: known(result?.replicationFactor, replicationFactor) }
  }

  /**
   * The partition reassignments in progress (ListPartitionReassignments, v0's shapes): of every partition, or of the
   * topics' named partitions.
   */
  async reassignments (of?: Array<{ topic: string, partitions: number[] }>): Promise<Reassignment[]> {
    // The request's topics are nullable (null: every partition), which its generated type does not say.
    const topics = (of?.map((t) => ({ name: t.topic, partitionIndexes: t.partitions })) ?? null) as listPartitionReassignmentsV0.ListPartitionReassignmentsRequestTopic[]
    const response = await onAnyBroker<listPartitionReassignmentsV0.ListPartitionReassignmentsRequest, listPartitionReassignmentsV0.ListPartitionReassignmentsResponse>(
      this.kafka.clients().configAdmin, 'ListPartitionReassignments', this.kafka.timeoutMs, topics
    ).catch((err: unknown) => { throw fromKafkaError(err, of?.length === 1 ? { topic: of[0]?.topic } : {}) })
    return response.topics.flatMap((t) => t.partitions.map((p) => ({
      topic: t.name, partition: p.partitionIndex, replicas: p.replicas, adding: p.addingReplicas, removing: p.removingReplicas
    }))).sort((a, b) => a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition)
  }

  /** Topics with their partitions: the named ones (TopicNotFoundError for a missing one), or all, by name. */
  async describe (topics?: string[]): Promise<TopicInfo[]> {
    const { admin } = this.kafka.clients()
    const names = topics ?? (await this.kafka.metadata()).topics.map((t) => t.name)
    if (names.length === 0) return []
    const described = await fromCallback<TopicDescription[]>((done) => { admin.describeTopics(names, { timeout: this.kafka.timeoutMs }, done) })
      .catch((err: unknown) => { throw fromKafkaError(err, names.length === 1 ? { topic: names[0] } : {}) })
    const out: TopicInfo[] = []
    for (const d of described) {
      if (d.error) {
        // A topic deleted between the listing and the description is simply not listed.
        if (topics === undefined) continue
        throw fromKafkaError(d.error, { topic: d.name })
      }
      const partitions = d.partitions.map((p) => ({
        id: p.partition, leader: p.leader?.id ?? null, replicas: p.replicas.map((r) => r.id), isr: p.isr.map((r) => r.id)
      })).sort((a, b) => a.id - b.id)
      if (partitions.length === 0) {
        if (topics === undefined) continue
        throw new TopicNotFoundError(d.name)
      }
      out.push({ name: d.name, isInternal: d.isInternal, replicationFactor: partitions[0]?.replicas.length ?? 0, partitions })
    }
    return out.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  }

  /** Raises the partition count to `count`; Kafka refuses a count not above the current one. */
  async addPartitions (topic: string, count: number): Promise<void> {
    this.assertNotReserved(topic)
    await traced(`CreatePartitions ${topic}`, () => ({ 'messaging.destination.name': topic, 'kosha.partitions_count': count }), async () => {
      const { admin } = this.kafka.clients()
      await fromCallback((done) => { admin.createPartitions(topic, count, this.kafka.timeoutMs, done) })
        .catch((err: unknown) => { throw fromKafkaError(err, { topic }) })
      await this.waitUntilVisible(topic, count)
    })
  }

  /**
   * Resolves once the metadata shows the topic with `partitions` partitions, each with a leader, or after the Kafka
   * timeout. The controller has created the topic when CreateTopics answers, but the brokers learn of it a moment
   * later: waiting means a 201 is followed by a topic every other operation can already use.
   */
  async waitUntilVisible (topic: string, partitions = 1): Promise<void> {
    const deadline = Date.now() + this.kafka.timeoutMs
    while (Date.now() < deadline) {
      const md = await this.kafka.metadata(topic).catch(() => undefined)
      const found = md?.topics.find((x) => x.name === topic)
      if (found && found.partitions.length >= partitions && found.partitions.every((p) => p.leader >= 0)) return
      await sleep(50)
    }
  }
}
