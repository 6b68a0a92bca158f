// Forwarding to other replicas (http/forward.ts) as `fastify.forwarder`: the consumer routes' preHandler sends a
// request to the replica holding its consumer through it; its connections close with the app.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Forwarder } from '../http/forward'

declare module 'fastify' {
  interface FastifyInstance { forwarder: Forwarder }
}

async function forward (fastify: FastifyInstance): Promise<void> {
  const forwarder = new Forwarder(fastify.replicas)
  fastify.decorate('forwarder', forwarder)
  fastify.addHook('onClose', async () => { await forwarder.close() })
}

export default fp(forward, { name: 'forward', dependencies: ['consumers'] })
