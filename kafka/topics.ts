// Topic administration: create (and validate a creation), delete, describe, add partitions.
import type { TopicDescription } from '@confluentinc/kafka-javascript'
import { kGetApi, kGetBootstrapConnection, type Admin, type Connection, type createTopicsV7 } from '@platformatic/kafka'
import { setTimeout as sleep } from 'node:timers/promises'
import { TopicNotFoundError } from '../lib/errors'
import { fromCallback } from './callback'
import { existingTopic } from './cluster'
import type { KafkaConnection } from './connection'
import { fromKafkaError } from './errors'

/** partitions / replicationFactor unset: the broker's num.partitions / default.replication.factor. */
export interface NewTopic { topic: string, partitions?: number, replicationFactor?: number, configs?: Record<string, string> }

export interface TopicPartition { id: number, leader: number | null, replicas: number[], isr: number[] }
export interface TopicInfo { name: string, isInternal: boolean, replicationFactor: number, partitions: TopicPartition[] }

/**
 * CreateTopics with validate_only: Kafka checks the creation and creates nothing. Neither client's createTopics offers
 * validate_only; @platformatic/kafka's protocol API does, reached through its semi-internal kGetBootstrapConnection /
 * kGetApi (kept to this one function). kGetApi looks the API up by name and answers the highest version the broker
 * supports, so its type is the caller's to state: CreateTopics v7's, whose request and response the later versions
 * keep. Any broker forwards CreateTopics to the controller (KRaft).
 */
async function createTopicsValidateOnly (admin: Admin, topic: createTopicsV7.CreateTopicsRequestTopic, timeoutMs: number): Promise<createTopicsV7.CreateTopicsResponse> {
  const connection = await fromCallback<Connection>((done) => { admin[kGetBootstrapConnection](done) })
  const api = await fromCallback<(connection: Connection, ...args: [...createTopicsV7.CreateTopicsRequest, (err: Error | null, response?: createTopicsV7.CreateTopicsResponse) => void]) => void>((done) => {
    admin[kGetApi]<createTopicsV7.CreateTopicsRequest, createTopicsV7.CreateTopicsResponse>('CreateTopics', done)
  })
  return await fromCallback<createTopicsV7.CreateTopicsResponse>((done) => { api(connection, [topic], timeoutMs, true, done) })
}

export class Topics {
  constructor (private readonly kafka: KafkaConnection) {}

  async create (t: NewTopic): Promise<void> {
    const { admin } = this.kafka.clients()
    const topic = { topic: t.topic, num_partitions: t.partitions ?? -1, replication_factor: t.replicationFactor ?? -1, ...(t.configs ? { config: t.configs } : {}) }
    await fromCallback((done) => { admin.createTopic(topic, this.kafka.timeoutMs, done) })
      .catch((err: unknown) => { throw fromKafkaError(err, { topic: t.topic }) })
    await this.waitUntilVisible(t.topic, t.partitions ?? 1)
  }

  async delete (topic: string): Promise<void> {
    const { admin } = this.kafka.clients()
    await fromCallback((done) => { admin.deleteTopic(topic, this.kafka.timeoutMs, done) })
      .catch((err: unknown) => { throw fromKafkaError(err, { topic }) })
  }

  /** Throws TopicNotFoundError unless the topic exists (asking never creates it). */
  async assertExists (topic: string): Promise<void> {
    await existingTopic(this.kafka, topic)
  }

  /** Kafka validates the creation (CreateTopics with validate_only) and creates nothing: the counts it would use. */
  async validateCreate (t: NewTopic): Promise<{ partitions: number, replicationFactor: number }> {
    const { configAdmin } = this.kafka.clients()
    const configs = Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value }))
    const response = await createTopicsValidateOnly(configAdmin, {
      name: t.topic, numPartitions: t.partitions ?? -1, replicationFactor: t.replicationFactor ?? -1, assignments: [], configs
    }, this.kafka.timeoutMs).catch((err: unknown) => { throw fromKafkaError(err, { topic: t.topic }) })
    const result = response.topics.find((x) => x.name === t.topic)
    return { partitions: result?.numPartitions ?? t.partitions ?? 1, replicationFactor: result?.replicationFactor ?? t.replicationFactor ?? 1 }
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
    const { admin } = this.kafka.clients()
    await fromCallback((done) => { admin.createPartitions(topic, count, this.kafka.timeoutMs, done) })
      .catch((err: unknown) => { throw fromKafkaError(err, { topic }) })
    await this.waitUntilVisible(topic, count)
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
