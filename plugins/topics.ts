// Topic administration (kafka/topics.ts) as `fastify.topics`: /api/v1/create, /api/v1/delete/{topic} and the v3
// topic resources. The replicas' state topic (STATE_TOPIC) may not be deleted or grown through them.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Topics } from '../kafka/topics'

declare module 'fastify' {
  interface FastifyInstance { topics: Topics }
}

async function topics (fastify: FastifyInstance): Promise<void> {
  fastify.decorate('topics', new Topics(fastify.kafka, { reserved: [fastify.config.stateTopic] }))
}

export default fp(topics, { name: 'topics', dependencies: ['kafka-connection'] })
