// Streams (kafka/streams/) as `fastify.streams`, and WebSocket upgrades (@fastify/websocket) for their routes.
// At shutdown every stream commits what was acknowledged, tells its client (SSE `end`, WebSocket 1001) and leaves
// its group, before the Kafka connection closes.
import fp from 'fastify-plugin'
import websocket from '@fastify/websocket'
import type { FastifyInstance } from 'fastify'
import { Gauge } from 'prom-client'
import { StreamRegistry } from '../kafka/streams/registry'
import type { StreamMember } from '../kafka/streams/member'

declare module 'fastify' {
  interface FastifyInstance { streams: StreamRegistry }
  interface FastifyRequest {
    /** The stream a stream request opened (in its preHandler), before the response or the upgrade starts it. */
    streamMember: StreamMember | null
  }
}

async function streams (fastify: FastifyInstance): Promise<void> {
  const registry = new StreamRegistry(fastify.config, fastify.log.child({ component: 'streams' }))
  fastify.decorate('streams', registry)
  fastify.decorateRequest('streamMember', null)
  // The plugin's own preClose would close every WebSocket at once (code 1005): the streams close theirs below,
  // after committing, with 1001. Client frames are acks: 64 KiB is plenty.
  await fastify.register(websocket, { options: { maxPayload: 64 * 1024 }, preClose: (done) => { done() } })
  new Gauge({ // eslint-disable-line no-new
    name: 'kosha_streams',
    help: 'Live streams (SSE and WebSocket).',
    registers: [fastify.metrics.registry],
    collect () { this.set(registry.count()) }
  })
  new Gauge({ // eslint-disable-line no-new
    name: 'kosha_streams_paused',
    help: 'Streams whose partitions are paused: their client is behind (buffer full, or too many unacknowledged records).',
    registers: [fastify.metrics.registry],
    collect () { this.set(registry.paused()) }
  })
  // preClose, not onClose: Fastify waits for open connections to end before running onClose hooks, and a stream's
  // connection ends only when the stream does. This runs before any onClose, so before the Kafka connection closes.
  fastify.addHook('preClose', async () => { await registry.closeAll('shutdown') })
}

export default fp(streams, { name: 'streams', dependencies: ['config', 'metrics', 'kafka-connection'] })
