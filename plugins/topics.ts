// Topic administration behind /api/v1/create and /api/v1/delete/{topic}, and the v3 topic resources.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TopicDescription } from '@confluentinc/kafka-javascript'
import { kGetApi, kGetBootstrapConnection, type Connection, type createTopicsV7 } from '@platformatic/kafka'
import { TopicNotFoundError, fromKafkaError } from '../lib/errors'

/** partitions / replicationFactor unset: the broker's num.partitions / default.replication.factor. */
export interface NewTopic { topic: string, partitions?: number, replicationFactor?: number, configs?: Record<string, string> }

export interface TopicPartition { id: number, leader: number | null, replicas: number[], isr: number[] }
export interface TopicInfo { name: string, isInternal: boolean, replicationFactor: number, partitions: TopicPartition[] }

type CreateTopicsApi = (connection: Connection, ...args: [...createTopicsV7.CreateTopicsRequest, (err: Error | null, response: createTopicsV7.CreateTopicsResponse) => void]) => void

export interface Topics {
  create: (request: FastifyRequest, topic: NewTopic) => Promise<void>
  delete: (request: FastifyRequest, topic: string) => Promise<void>
  /** Throws TopicNotFoundError unless the topic exists (asking never creates it). */
  assertExists: (request: FastifyRequest, topic: string) => Promise<void>
  /** Kafka validates the creation (CreateTopics with validate_only) and creates nothing: the counts it would use. */
  validateCreate: (request: FastifyRequest, topic: NewTopic) => Promise<{ partitions: number, replicationFactor: number }>
  /** Topics with their partitions: the named ones (TopicNotFoundError for a missing one), or all, by name. */
  describe: (request: FastifyRequest, topics?: string[]) => Promise<TopicInfo[]>
  /** Raises the partition count to `count`; Kafka refuses a count not above the current one. */
  addPartitions: (request: FastifyRequest, topic: string, count: number) => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance { topics: Topics }
}

async function topics (fastify: FastifyInstance): Promise<void> {
  const timeout = fastify.config.kafkaTimeoutMs

  // The controller has created the topic when CreateTopics answers, but the brokers learn of it a moment later.
  // Waiting here means a 201 is followed by a topic every other operation can already use.
  async function waitUntilVisible (request: FastifyRequest, topic: string, partitions = 1): Promise<void> {
    const deadline = Date.now() + timeout
    while (Date.now() < deadline) {
      const md = await fastify.kafka.metadata(request, topic).catch(() => undefined)
      const found = md?.topics.find((x) => x.name === topic)
      if (found && found.partitions.length >= partitions && found.partitions.every((p) => p.leader >= 0)) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const service: Topics = {
    async create (request, t) {
      const { admin } = fastify.kafka.clientsFor(request)
      await new Promise<void>((resolve, reject) => {
        const topic = { topic: t.topic, num_partitions: t.partitions ?? -1, replication_factor: t.replicationFactor ?? -1, ...(t.configs ? { config: t.configs } : {}) }
        admin.createTopic(topic, timeout, (err) => {
          if (err) reject(fromKafkaError(err, { topic: t.topic }, request.id))
          else resolve()
        })
      })
      await waitUntilVisible(request, t.topic, t.partitions ?? 1)
    },
    async delete (request, topic) {
      const { admin } = fastify.kafka.clientsFor(request)
      await new Promise<void>((resolve, reject) => {
        admin.deleteTopic(topic, timeout, (err) => {
          if (err) reject(fromKafkaError(err, { topic }, request.id))
          else resolve()
        })
      })
    },
    async assertExists (request, topic) {
      const md = await fastify.kafka.metadata(request, topic).catch((err: unknown) => { throw fromKafkaError(err, { topic }, request.id) })
      const found = md.topics.find((t) => t.name === topic)
      if (!found || found.partitions.length === 0) throw new TopicNotFoundError(topic)
    },
    async validateCreate (request, t) {
      // Neither client's createTopics offers validate_only; @platformatic/kafka's protocol API does. Any broker
      // forwards CreateTopics to the controller (KRaft).
      const { configAdmin } = fastify.kafka.clientsFor(request)
      const configs = Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value }))
      const request7: createTopicsV7.CreateTopicsRequestTopic = {
        name: t.topic, numPartitions: t.partitions ?? -1, replicationFactor: t.replicationFactor ?? -1, assignments: [], configs
      }
      const response = await new Promise<createTopicsV7.CreateTopicsResponse>((resolve, reject) => {
        configAdmin[kGetBootstrapConnection]((err, connection) => {
          if (err || !connection) { reject(err); return }
          configAdmin[kGetApi]('CreateTopics', (err, api) => {
            if (err) { reject(err); return }
            (api as unknown as CreateTopicsApi)(connection, [request7], timeout, true, (err, response) => {
              if (err) reject(err)
              else resolve(response)
            })
          })
        })
      }).catch((err: unknown) => { throw fromKafkaError(err, { topic: t.topic }, request.id) })
      const result = response.topics.find((x) => x.name === t.topic)
      return { partitions: result?.numPartitions ?? t.partitions ?? 1, replicationFactor: result?.replicationFactor ?? t.replicationFactor ?? 1 }
    },
    async describe (request, topics) {
      const { admin } = fastify.kafka.clientsFor(request)
      const names = topics ?? (await fastify.kafka.metadata(request).catch((err: unknown) => { throw fromKafkaError(err, {}, request.id) }))
        .topics.map((t) => t.name)
      if (names.length === 0) return []
      const described = await new Promise<TopicDescription[]>((resolve, reject) => {
        admin.describeTopics(names, { timeout }, (err, result) => {
          if (err) reject(err)
          else resolve(result)
        })
      }).catch((err: unknown) => { throw fromKafkaError(err, names.length === 1 ? { topic: names[0] } : {}, request.id) })
      const out: TopicInfo[] = []
      for (const d of described) {
        if (d.error) {
          // A topic deleted between the listing and the description is simply not listed.
          if (topics === undefined) continue
          throw fromKafkaError(d.error, { topic: d.name }, request.id)
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
    },
    async addPartitions (request, topic, count) {
      const { admin } = fastify.kafka.clientsFor(request)
      await new Promise<void>((resolve, reject) => {
        admin.createPartitions(topic, count, timeout, (err) => {
          if (err) reject(fromKafkaError(err, { topic }, request.id))
          else resolve()
        })
      })
      await waitUntilVisible(request, topic, count)
    }
  }
  fastify.decorate('topics', service)
}

export default fp(topics, { name: 'topics', dependencies: ['kafka-connection'] })
