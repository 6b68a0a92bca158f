// The consumer engine (kafka/consumers/) as `fastify.consumers`: every v1 consumer and v2 consumer instance, in one
// registry; and `fastify.replicas` (kafka/replicas/): where each consumer is held among the service's replicas,
// recorded in the state topic, read lazily (nothing runs until a consumer is created or looked up). Its gauge is read
// when scraped, so it cannot drift from the consumers that exist.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Gauge } from 'prom-client'
import { ConsumerRegistry } from '../kafka/consumers/registry'
import { removeStaticMember } from '../kafka/groups'
import { Replicas } from '../kafka/replicas/replicas'
import { StateView } from '../kafka/replicas/state'

declare module 'fastify' {
  interface FastifyInstance { consumers: ConsumerRegistry, replicas: Replicas }
}

async function consumers (fastify: FastifyInstance): Promise<void> {
  const log = fastify.log.child({ component: 'consumers' })
  const replicas = new Replicas(new StateView(fastify.kafka, fastify.config, log.child({ component: 'state' })), fastify.config, log)
  const registry = new ConsumerRegistry(fastify.config, log, {
    ledger: replicas,
    release: async (groupId, instanceId) => { await removeStaticMember(fastify.kafka, groupId, instanceId) }
  })
  replicas.attach(registry)
  fastify.decorate('consumers', registry)
  fastify.decorate('replicas', replicas)
  new Gauge({ // eslint-disable-line no-new
    name: 'kosha_consumers',
    help: 'Live consumers: v1 consumers and v2 consumer instances.',
    registers: [fastify.metrics.registry],
    collect () { this.set(registry.count()) }
  })
  // Registered after kafka-connection, so this onClose runs before its own: consumers close (recorded as released,
  // for another replica to take over) before the producer is flushed and disconnected.
  fastify.addHook('onClose', async () => {
    await registry.closeAll()
    await replicas.close()
  })
}

export default fp(consumers, { name: 'consumers', dependencies: ['config', 'metrics', 'kafka-connection'] })
