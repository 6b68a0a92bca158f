// The validated configuration (lib/config.ts), for every other plugin as `fastify.config`.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../lib/config'

declare module 'fastify' {
  interface FastifyInstance { config: Config }
}

async function config (fastify: FastifyInstance, options: { config: Config }): Promise<void> {
  fastify.decorate('config', options.config)
}

export default fp(config, { name: 'config' })
