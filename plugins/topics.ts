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
  const service: Topics = {
    async create (request, t) {
      const { admin } = fastify.kafka.clientsFor(request)
      await new Promise<void>((resolve, reject) => {
        admin.createTopic({ topic: t.topic, num_partitions: t.partitions, replication_factor: t.replicationFactor ?? -1 }, timeout, (err) => {
          if (err) reject(fromKafkaError(err, { topic: t.topic }, request.id))
          else resolve()
        })
      })
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
