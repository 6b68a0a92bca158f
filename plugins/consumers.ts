// The consumer engine (kafka/consumers/) as `fastify.consumers`: every v1 consumer and v2 consumer instance, in one
// registry. Its gauge is read when scraped, so it cannot drift from the consumers that exist.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Gauge } from 'prom-client'
import { ConsumerRegistry } from '../kafka/consumers/registry'
import { removeStaticMember } from '../kafka/groups'

declare module 'fastify' {
  interface FastifyInstance { consumers: ConsumerRegistry }
}

async function consumers (fastify: FastifyInstance): Promise<void> {
  const registry = new ConsumerRegistry(fastify.config, fastify.log.child({ component: 'consumers' }), {
    release: async (groupId, instanceId) => { await removeStaticMember(fastify.kafka, groupId, instanceId) }
  })
  fastify.decorate('consumers', registry)
  new Gauge({ // eslint-disable-line no-new
    name: 'kosha_consumers',
    help: 'Live consumers: v1 consumers and v2 consumer instances.',
    registers: [fastify.metrics.registry],
    collect () { this.set(registry.count()) }
  })
  // Registered after kafka-connection, so this onClose runs before its own: consumers close before the producer is
  // flushed and disconnected.
  fastify.addHook('onClose', async () => { await registry.closeAll() })
}

export default fp(consumers, { name: 'consumers', dependencies: ['config', 'metrics', 'kafka-connection'] })
