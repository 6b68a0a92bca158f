// Consumer groups (kafka/groups.ts) as `fastify.consumerGroups`, behind the v3 consumer-group resources.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { ConsumerGroups } from '../kafka/groups'

declare module 'fastify' {
  interface FastifyInstance { consumerGroups: ConsumerGroups }
}

async function consumerGroups (fastify: FastifyInstance): Promise<void> {
  fastify.decorate('consumerGroups', new ConsumerGroups(fastify.kafka, fastify.cluster))
}

export default fp(consumerGroups, { name: 'consumer-groups', dependencies: ['kafka-connection', 'cluster'] })
