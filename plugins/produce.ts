// Producing behind /api/v1/produce/{topic}: a 2xx only ever means the broker acknowledged the record.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Delivery, OutgoingRecord } from './kafka-connection'
import { type KoshaError, fromKafkaError } from '../lib/errors'

export type Outcome = { ok: true, delivery: Delivery } | { ok: false, error: KoshaError }

export interface Produce {
  /** Rejects (TopicNotFoundError) unless the topic exists; a topic seen to exist is trusted for a few seconds. */
  assertTopic: (request: FastifyRequest, topic: string) => Promise<void>
  /** Sends one record; resolves with where the broker stored it. */
  send: (request: FastifyRequest, record: OutgoingRecord) => Promise<Delivery>
  /** Sends records of one topic together; one outcome per record, in order. A missing topic fails the whole call. */
  sendMany: (request: FastifyRequest, topic: string, records: Array<Omit<OutgoingRecord, 'topic'>>) => Promise<Outcome[]>
}

declare module 'fastify' {
  interface FastifyInstance { produce: Produce }
}

// A topic seen to exist is trusted for a few seconds: the check costs a metadata round trip, and without it a
// record for a missing topic would wait in librdkafka until its delivery timeout instead of failing at once.
const KNOWN_TOPIC_MS = 5000

async function produce (fastify: FastifyInstance): Promise<void> {
  const known = new Map<string, number>()
  async function assertTopic (request: FastifyRequest, topic: string): Promise<void> {
    const seen = known.get(topic)
    if (seen === undefined || Date.now() - seen > KNOWN_TOPIC_MS) {
      await fastify.topics.assertExists(request, topic)
      known.set(topic, Date.now())
    }
  }
  async function deliver (request: FastifyRequest, topic: string, records: Array<Omit<OutgoingRecord, 'topic'>>): Promise<Outcome[]> {
    const started = process.hrtime.bigint()
    const settled = await fastify.kafka.produceMany(request, records.map((r) => ({ ...r, topic })))
    const outcomes = settled.map((s, i): Outcome => {
      if (s.ok) return s
      const partition = records[i]?.partition
      return { ok: false, error: fromKafkaError(s.error, { topic, ...(partition !== undefined ? { partition } : {}) }, request.id) }
    })
    const failed = outcomes.filter((o) => !o.ok).length
    if (failed > 0) known.delete(topic)
    fastify.metrics.recordProduced(outcomes.length - failed, failed, Number(process.hrtime.bigint() - started) / 1e9)
    return outcomes
  }

  fastify.decorate('produce', {
    assertTopic,
    async send (request, record) {
      await assertTopic(request, record.topic)
      const [outcome] = await deliver(request, record.topic, [record])
      if (!outcome?.ok) throw outcome?.error
      return outcome.delivery
    },
    async sendMany (request, topic, records) {
      await assertTopic(request, topic)
      // All are handed to the producer at once (librdkafka batches them); each has its own delivery report.
      return await deliver(request, topic, records)
    }
  } satisfies Produce)
}

export default fp(produce, { name: 'produce', dependencies: ['kafka-connection', 'topics', 'metrics'] })
