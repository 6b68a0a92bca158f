// Stateless partition reads (kafka/reads.ts) as `fastify.reads`. At shutdown the reads still waiting for a record
// answer at once (preClose, before the server waits for in-flight requests); the consumers are gone before the
// connection closes.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Reads } from '../kafka/reads'

declare module 'fastify' {
  interface FastifyInstance { reads: Reads }
}

async function reads (fastify: FastifyInstance): Promise<void> {
  const pool = new Reads(fastify.kafka, fastify.config, fastify.log.child({ component: 'reads' }))
  fastify.decorate('reads', pool)
  let closed: Promise<void> | undefined
  fastify.addHook('preClose', async () => { closed = pool.close() })
  // Registered after kafka-connection, so this onClose runs before its own.
  fastify.addHook('onClose', async () => { await (closed ?? pool.close()) })
}

export default fp(reads, { name: 'reads', dependencies: ['config', 'kafka-connection'] })
