// Topic administration (kafka/topics.ts) as `fastify.topics`: /api/v1/create, /api/v1/delete/{topic} and the v3
// topic resources.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Topics } from '../kafka/topics'

declare module 'fastify' {
  interface FastifyInstance { topics: Topics }
}

async function topics (fastify: FastifyInstance): Promise<void> {
  fastify.decorate('topics', new Topics(fastify.kafka))
}

export default fp(topics, { name: 'topics', dependencies: ['kafka-connection'] })
