// Topic, broker and group configuration (kafka/configs.ts) as `fastify.configs`: /api/v1/describe/{type}/{name},
// the v2 topic's configs and the v3 config resources.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Configs } from '../kafka/configs'

declare module 'fastify' {
  interface FastifyInstance { configs: Configs }
}

async function configs (fastify: FastifyInstance): Promise<void> {
  fastify.decorate('configs', new Configs(fastify.kafka, fastify.cluster, { reserved: [fastify.config.stateTopic] }))
}

export default fp(configs, { name: 'configs', dependencies: ['kafka-connection', 'cluster'] })
