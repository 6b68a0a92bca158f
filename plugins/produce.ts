// Producing behind /api/v1/produce/{topic}: a 2xx only ever means the broker acknowledged the record.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Delivery } from './kafka-connection'
import { fromKafkaError } from '../lib/errors'

export interface Produce {
  /** Sends one record; resolves with where the broker stored it. */
  send: (request: FastifyRequest, record: { topic: string, value: Buffer, key?: string }) => Promise<Delivery>
}

declare module 'fastify' {
  interface FastifyInstance { produce: Produce }
}

// A topic seen to exist is trusted for a few seconds: the check costs a metadata round trip, and without it a
// record for a missing topic would wait in librdkafka until its delivery timeout instead of failing at once.
const KNOWN_TOPIC_MS = 5000

async function produce (fastify: FastifyInstance): Promise<void> {
  const known = new Map<string, number>()
  fastify.decorate('produce', {
    async send (request, record) {
      const seen = known.get(record.topic)
      if (seen === undefined || Date.now() - seen > KNOWN_TOPIC_MS) {
        await fastify.topics.assertExists(request, record.topic)
        known.set(record.topic, Date.now())
      }
      const started = process.hrtime.bigint()
      try {
        const delivery = await fastify.kafka.produce(request, record)
        fastify.metrics.recordProduced(true, Number(process.hrtime.bigint() - started) / 1e9)
        return delivery
      } catch (err) {
        known.delete(record.topic)
        fastify.metrics.recordProduced(false, 0)
        throw fromKafkaError(err, { topic: record.topic }, request.id)
      }
    }
  } satisfies Produce)
}

export default fp(produce, { name: 'produce', dependencies: ['kafka-connection', 'topics', 'metrics'] })
