// Topic administration behind /api/v1/create and /api/v1/delete/{topic}.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { TopicNotFoundError, fromKafkaError } from '../lib/errors'

export interface NewTopic { topic: string, partitions: number, replicationFactor?: number }

export interface Topics {
  create: (request: FastifyRequest, topic: NewTopic) => Promise<void>
  delete: (request: FastifyRequest, topic: string) => Promise<void>
  /** Throws TopicNotFoundError unless the topic exists (asking never creates it). */
  assertExists: (request: FastifyRequest, topic: string) => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance { topics: Topics }
}

async function topics (fastify: FastifyInstance): Promise<void> {
  const timeout = fastify.config.kafkaTimeoutMs

  // The controller has created the topic when CreateTopics answers, but the brokers learn of it a moment later.
  // Waiting here means a 201 is followed by a topic every other operation can already use.
  async function waitUntilVisible (request: FastifyRequest, topic: string): Promise<void> {
    const deadline = Date.now() + timeout
    while (Date.now() < deadline) {
      const md = await fastify.kafka.metadata(request, topic).catch(() => undefined)
      const found = md?.topics.find((x) => x.name === topic)
      if (found && found.partitions.length > 0 && found.partitions.every((p) => p.leader >= 0)) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const service: Topics = {
    async create (request, t) {
      const { admin } = fastify.kafka.clientsFor(request)
      await new Promise<void>((resolve, reject) => {
        admin.createTopic({ topic: t.topic, num_partitions: t.partitions, replication_factor: t.replicationFactor ?? -1 }, timeout, (err) => {
          if (err) reject(fromKafkaError(err, { topic: t.topic }, request.id))
          else resolve()
        })
      })
      await waitUntilVisible(request, t.topic)
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
    }
  }
  fastify.decorate('topics', service)
}

export default fp(topics, { name: 'topics', dependencies: ['kafka-connection'] })
