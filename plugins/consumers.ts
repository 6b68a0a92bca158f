// Named consumers behind /api/v1/consumers/...: each its own librdkafka consumer in its own group.
//
// Delivery guarantee, at least once: a record's offset is committed only after the HTTP response that carried it
// was handed to the client's connection; when that response could not be written, the consumer seeks back so that
// the next consume returns the same record again. Requests on one consumer are served one at a time, in arrival
// order, so concurrent consumes each get a different record and none is skipped.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { KafkaConsumer, type LibrdKafkaError, type Message } from '@confluentinc/kafka-javascript'
import type { RouteTypes } from '../generated/routes'
import { RequestQueue } from '../lib/request-queue'
import { CONSUMER_PREFETCH } from './kafka-connection'
import {
  ConsumerExistsError, ConsumerNotFoundError, ConsumerNotSubscribedError, ShuttingDownError, TooManyConsumersError,
  fromKafkaError
} from '../lib/errors'

export type ConsumedRecord = RouteTypes['consumeRecord']['Reply'][200]
export interface ConsumerInfo { name: string, groupId: string, topics: string[] }

export interface Consumers {
  create: (request: FastifyRequest, options: { name: string, groupId?: string, offset: 'earliest' | 'latest' }) => Promise<ConsumerInfo>
  subscribe: (request: FastifyRequest, name: string, topic: string) => Promise<ConsumerInfo>
  /** The next record, or null when none came within timeoutMs. Commits once `reply` was delivered. */
  consume: (request: FastifyRequest, reply: FastifyReply, name: string, timeoutMs: number) => Promise<ConsumedRecord | null>
  delete: (name: string) => Promise<void>
  count: () => number
}

declare module 'fastify' {
  interface FastifyInstance { consumers: Consumers }
}

interface Managed {
  name: string
  groupId: string
  topics: Set<string>
  consumer: KafkaConsumer
  queue: RequestQueue
  closed: boolean
}

// A consume call holds a libuv worker thread while it waits; short polls keep the pool free for other consumers.
const POLL_SLICE_MS = 200
const textDecoder = new TextDecoder('utf-8', { fatal: true })

function asText (bytes: Buffer): string | undefined {
  try { return textDecoder.decode(bytes) } catch { return undefined }
}

export function decodeValue (bytes: Buffer | null | undefined): { value: unknown, valueEncoding: 'json' | 'text' | 'base64' | null } {
  if (bytes === null || bytes === undefined) return { value: null, valueEncoding: null }
  const text = asText(bytes)
  if (text === undefined) return { value: bytes.toString('base64'), valueEncoding: 'base64' }
  try { return { value: JSON.parse(text) as unknown, valueEncoding: 'json' } } catch { return { value: text, valueEncoding: 'text' } }
}

function decodeText (bytes: Buffer | string | null | undefined): { text: string | null, encoding: 'text' | 'base64' | null } {
  if (bytes === null || bytes === undefined) return { text: null, encoding: null }
  if (typeof bytes === 'string') return { text: bytes, encoding: 'text' }
  const text = asText(bytes)
  return text === undefined ? { text: bytes.toString('base64'), encoding: 'base64' } : { text, encoding: 'text' }
}

export function toRecord (m: Message): ConsumedRecord {
  const key = decodeText(m.key)
  const { value, valueEncoding } = decodeValue(m.value)
  const headers = (m.headers ?? []).flatMap((h) => Object.entries(h).map(([k, v]) => {
    const d = decodeText(v)
    return { key: k, value: d.text, valueEncoding: d.encoding ?? 'text' }
  }))
  return {
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    key: key.text,
    keyEncoding: key.encoding,
    value,
    valueEncoding,
    timestamp: m.timestamp ?? 0,
    headers
  }
}

async function consumers (fastify: FastifyInstance): Promise<void> {
  const config = fastify.config
  const log = fastify.log.child({ component: 'consumers' })
  const all = new Map<string, Managed>()
  let closing = false

  function get (name: string): Managed {
    if (closing) throw new ShuttingDownError()
    const m = all.get(name)
    if (!m || m.closed) throw new ConsumerNotFoundError(name)
    return m
  }

  async function close (m: Managed): Promise<void> {
    if (m.closed) return
    m.closed = true
    m.queue.stop()
    if (all.get(m.name) === m) all.delete(m.name)
    await m.queue.drained()
    await new Promise<void>((resolve) => {
      if (!m.consumer.isConnected()) return resolve()
      m.consumer.disconnect(() => resolve())
    })
    log.info({ consumer: m.name }, `consumer '${m.name}' closed`)
  }

  function pollOnce (m: Managed, sliceMs: number): Promise<Message | undefined> {
    m.consumer.setDefaultConsumeTimeout(sliceMs)
    return new Promise((resolve, reject) => {
      m.consumer.consume(1, (err: LibrdKafkaError | null, messages: Message[]) => {
        if (err) reject(err)
        else resolve(messages[0])
      })
    })
  }

  fastify.decorate('consumers', {
    async create (request, options) {
      if (closing) throw new ShuttingDownError()
      if (all.has(options.name)) throw new ConsumerExistsError(options.name)
      if (all.size >= config.consumerMax) throw new TooManyConsumersError(config.consumerMax)
      const groupId = options.groupId ?? `kosha-${options.name}`
      const consumer = new KafkaConsumer({
        ...fastify.kafka.clientConfig(),
        ...CONSUMER_PREFETCH,
        'client.id': `kosha-kafka-connector-${options.name}`,
        'group.id': groupId,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'enable.partition.eof': false
      }, { 'auto.offset.reset': options.offset }) // a topic-level setting: in the global config it is ignored
      const m: Managed = {
        name: options.name,
        groupId,
        topics: new Set(),
        consumer,
        closed: false,
        queue: new RequestQueue(config.consumerIdleTimeoutMs, () => {
          log.info({ consumer: m.name }, `consumer '${m.name}' idle for ${config.consumerIdleTimeoutMs} ms: closing it`)
          close(m).catch((err: unknown) => log.error({ err, consumer: m.name }, 'closing an idle consumer failed'))
        })
      }
      // Reserve the name before connecting, so that a concurrent create of the same name is a 409.
      all.set(options.name, m)
      try {
        await new Promise<void>((resolve, reject) => {
          consumer.connect({ timeout: config.kafkaTimeoutMs }, (err) => { if (err) reject(err); else resolve() })
        })
      } catch (err) {
        all.delete(options.name)
        m.closed = true
        throw fromKafkaError(err, { resource: `consumer '${options.name}'` }, request.id)
      }
      consumer.on('event.error', (err: LibrdKafkaError) => { log.warn({ consumer: m.name, code: err.code }, err.message) })
      m.queue.touch()
      return { name: m.name, groupId, topics: [] }
    },

    async subscribe (request, name, topic) {
      const m = get(name)
      await fastify.topics.assertExists(request, topic)
      const release = await m.queue.enqueue()
      try {
        if (m.closed) throw new ConsumerNotFoundError(name)
        m.topics.add(topic)
        m.consumer.subscribe([...m.topics])
        return { name, groupId: m.groupId, topics: [...m.topics] }
      } catch (err) {
        throw fromKafkaError(err, { topic }, request.id)
      } finally {
        release()
      }
    },

    async consume (request, reply, name, timeoutMs) {
      const m = get(name)
      if (m.topics.size === 0) throw new ConsumerNotSubscribedError(name)
      const deadline = Date.now() + timeoutMs
      const release = await m.queue.enqueue()
      let message: Message | undefined
      try {
        if (m.closed) throw new ConsumerNotFoundError(name)
        do {
          message = await pollOnce(m, Math.max(0, Math.min(POLL_SLICE_MS, deadline - Date.now())))
        } while (!message && Date.now() < deadline && !m.closed && !request.raw.destroyed)
      } catch (err) {
        release()
        throw fromKafkaError(err, {}, request.id)
      }
      if (!message) {
        release()
        return null
      }
      const delivered = message
      // The queue stays held until the response is written (commit) or lost (seek back): see the top of the file.
      let settled = false
      const settle = (ok: boolean): void => {
        if (settled) return
        settled = true
        if (ok) {
          try {
            m.consumer.commit({ topic: delivered.topic, partition: delivered.partition, offset: delivered.offset + 1 })
          } catch (err) {
            log.error({ consumer: m.name, err }, 'commit failed: the record may be delivered again')
          }
          release()
        } else {
          log.warn({ consumer: m.name, topic: delivered.topic, partition: delivered.partition, offset: delivered.offset },
            'the response carrying a record was not delivered: it will be returned again')
          m.consumer.seek({ topic: delivered.topic, partition: delivered.partition, offset: delivered.offset }, 0, () => release())
        }
      }
      reply.raw.once('finish', () => settle(reply.statusCode === 200))
      reply.raw.once('close', () => settle(reply.raw.writableFinished))
      // The client may have gone while the record was fetched: then 'close' was emitted already and 'finish' never
      // will be, so without this the record would be neither committed nor sought back, and the queue held forever.
      if (reply.raw.destroyed) settle(false)
      return toRecord(delivered)
    },

    async delete (name) {
      await close(get(name))
    },

    count: () => all.size
  } satisfies Consumers)

  // Runs before kafka-connection's (registered earlier) onClose: consumers close before the producer is flushed.
  fastify.addHook('onClose', async () => {
    closing = true
    await Promise.all([...all.values()].map((m) => close(m)))
  })
}

export default fp(consumers, { name: 'consumers', dependencies: ['kafka-connection', 'topics'] })
