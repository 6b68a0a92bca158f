// Confluent REST Proxy v2 consumer instances behind /consumers/{group}/instances/{instance}/...: each a librdkafka
// consumer in the named group, with a subscription (topics or a pattern) or a manual assignment, seeks, commits
// and batched record fetches in the binary or json format.
//
// Delivery guarantee, as for the v1 consumers (plugins/consumers.ts): with auto.commit.enable, the offsets of the
// records a response carried are committed only once that response was written to the client; a response that
// could not be written seeks its partitions back, so the records come again. Requests on one instance are served
// one at a time, in arrival order.
import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { KafkaConsumer, type ConsumerGlobalConfig, type ConsumerTopicConfig, type LibrdKafkaError, type Message, type TopicPartition, type TopicPartitionOffset } from '@confluentinc/kafka-javascript'
import type { Config } from '../lib/config'
import { CONSUMER_PREFETCH, librdkafkaConfig } from './kafka-connection'
import { RequestQueue } from '../lib/request-queue'
import {
  ConsumerExistsError, ConsumerInstanceNotFoundError, IllegalStateError, ShuttingDownError, TooManyConsumersError,
  UnsupportedFormatError, fromKafkaError
} from '../lib/errors'

// The binding has these but its types do not declare them: commitCb (commit with a completion callback), and the
// switch that makes consume(n) wait only for the first record instead of for each of the n.
declare module '@confluentinc/kafka-javascript' {
  interface KafkaConsumer {
    commitCb: (toppars: TopicPartitionOffset[], cb: (err: LibrdKafkaError | null) => void) => this
    setDefaultIsTimeoutOnlyForFirstMessage: (isTimeoutOnlyForFirstMessage: boolean) => void
  }
}

/**
 * Up to `count` records: waits up to `sliceMs` for the first, then takes only what is already fetched. (By default
 * the binding waits up to the timeout for every one of the `count`, so a trickle of records was held back until 500
 * had come or a gap of `sliceMs` appeared: more than a second of added latency at 200 records/s.)
 */
export async function pollBatch (consumer: KafkaConsumer, count: number, sliceMs: number): Promise<Message[]> {
  consumer.setDefaultConsumeTimeout(sliceMs)
  consumer.setDefaultIsTimeoutOnlyForFirstMessage(true)
  return await new Promise<Message[]>((resolve, reject) => consumer.consume(count, (err, messages) => err ? reject(err) : resolve(messages)))
}

/** A consumer instance's librdkafka settings (global, topic): one place, so the benchmark's native ceiling reads with these. */
export function instanceConsumerConfig (config: Config, group: string, name: string, options: Pick<InstanceOptions, 'offsetReset' | 'fetchMinBytes'>): [ConsumerGlobalConfig, ConsumerTopicConfig] {
  return [{
    ...librdkafkaConfig(config),
    ...CONSUMER_PREFETCH,
    'client.id': `kosha-kafka-connector-${name}`,
    'group.id': group,
    'enable.auto.commit': false,
    'enable.auto.offset.store': false,
    'enable.partition.eof': false,
    ...(options.fetchMinBytes !== undefined ? { 'fetch.min.bytes': options.fetchMinBytes } : {})
  }, { 'auto.offset.reset': options.offsetReset }]
}

export type Format = 'binary' | 'json'
export interface InstanceOptions {
  name?: string
  format: string
  offsetReset: 'earliest' | 'latest'
  autoCommit: boolean
  requestTimeoutMs: number
  fetchMinBytes?: number
}
export interface V2Record {
  topic: string
  key: unknown
  value: unknown
  partition: number
  offset: number
  timestamp: number
  headers: Array<{ name: string, value: string | null }>
}
export interface Committed { topic: string, partition: number, offset: number, metadata: string | null }

interface Instance {
  group: string
  name: string
  format: Format
  autoCommit: boolean
  requestTimeoutMs: number
  consumer: KafkaConsumer
  mode: 'none' | 'subscribed' | 'assigned'
  topics: string[]
  /** Per "topic:partition", the offset after the last record a delivered response carried: what "commit all" commits. */
  delivered: Map<string, TopicPartitionOffset>
  queue: RequestQueue
  closed: boolean
}

export interface ConsumerInstances {
  create: (request: FastifyRequest, group: string, options: InstanceOptions) => Promise<{ instanceId: string }>
  delete: (group: string, name: string) => Promise<void>
  subscribe: (request: FastifyRequest, group: string, name: string, target: { topics?: string[], pattern?: string }) => Promise<void>
  subscription: (group: string, name: string) => Promise<string[]>
  unsubscribe: (request: FastifyRequest, group: string, name: string) => Promise<void>
  assign: (request: FastifyRequest, group: string, name: string, partitions: TopicPartition[]) => Promise<void>
  assignments: (group: string, name: string) => Promise<TopicPartition[]>
  seek: (request: FastifyRequest, group: string, name: string, to: { offsets?: TopicPartitionOffset[], timestamps?: Array<TopicPartition & { timestamp: number }> }) => Promise<void>
  seekToEdge: (request: FastifyRequest, group: string, name: string, partitions: TopicPartition[], edge: 'beginning' | 'end') => Promise<void>
  commit: (request: FastifyRequest, group: string, name: string, offsets?: TopicPartitionOffset[]) => Promise<Committed[]>
  committed: (request: FastifyRequest, group: string, name: string, partitions?: TopicPartition[]) => Promise<Committed[]>
  /** The format of the instance, for content negotiation. */
  format: (group: string, name: string) => Format
  records: (request: FastifyRequest, reply: FastifyReply, group: string, name: string, options: { timeoutMs?: number, maxBytes?: number }) => Promise<V2Record[]>
  count: () => number
}

declare module 'fastify' {
  interface FastifyInstance { consumerInstances: ConsumerInstances }
}

/** A records request polls librdkafka in slices of this long, for up to this many records. */
export const POLL_SLICE_MS = 200
export const BATCH = 500
const OFFSET_BEGINNING = -2
const OFFSET_END = -1
const keyOf = (tp: TopicPartition): string => `${tp.topic}:${tp.partition}`
const utf8 = new TextDecoder('utf-8', { fatal: true })

function encode (bytes: Buffer | string | null | undefined, format: Format): unknown {
  if (bytes === null || bytes === undefined) return null
  const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes
  if (format === 'binary') return buf.toString('base64')
  let text: string
  try { text = utf8.decode(buf) } catch { return buf.toString('base64') }
  try { return JSON.parse(text) as unknown } catch { return text }
}

export function toV2Record (m: Message, format: Format): V2Record {
  return {
    topic: m.topic,
    key: encode(m.key, format),
    value: encode(m.value, format),
    partition: m.partition,
    offset: m.offset,
    timestamp: m.timestamp ?? 0,
    headers: (m.headers ?? []).flatMap((h) => Object.entries(h).map(([name, v]) => {
      const buf = typeof v === 'string' ? Buffer.from(v) : v
      return { name, value: format === 'binary' ? buf.toString('base64') : buf.toString('utf8') }
    }))
  }
}

function recordBytes (m: Message): number {
  return (m.value?.length ?? 0) + (typeof m.key === 'string' ? Buffer.byteLength(m.key) : (m.key?.length ?? 0))
}

function callback<T> (work: (cb: (err: LibrdKafkaError | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => { work((err, value) => { if (err) reject(err); else resolve(value as T) }) })
}

async function consumerInstances (fastify: FastifyInstance): Promise<void> {
  const config = fastify.config
  const log = fastify.log.child({ component: 'consumer-instances' })
  const all = new Map<string, Instance>()
  const id = (group: string, name: string): string => `${group}\u0000${name}`
  let closing = false

  function get (group: string, name: string): Instance {
    if (closing) throw new ShuttingDownError()
    const i = all.get(id(group, name))
    if (!i || i.closed) throw new ConsumerInstanceNotFoundError(group, name)
    return i
  }

  /** Runs one request's work on the instance, in turn; errors of the Kafka client are classified. */
  async function serial<T> (request: FastifyRequest | undefined, group: string, name: string, work: (i: Instance) => Promise<T> | T): Promise<T> {
    const i = get(group, name)
    const release = await i.queue.enqueue()
    try {
      if (i.closed) throw new ConsumerInstanceNotFoundError(group, name)
      return await work(i)
    } catch (err) {
      throw fromKafkaError(err, {}, request?.id ?? 'consumer-instance')
    } finally {
      release()
    }
  }

  async function close (i: Instance): Promise<void> {
    if (i.closed) return
    i.closed = true
    i.queue.stop()
    if (all.get(id(i.group, i.name)) === i) all.delete(id(i.group, i.name))
    await i.queue.drained()
    if (i.consumer.isConnected()) await new Promise<void>((resolve) => { i.consumer.disconnect(() => resolve()) })
  }

  function assertAssigned (i: Instance, partitions: TopicPartition[]): void {
    const assigned = new Set(i.consumer.assignments().map(keyOf))
    const missing = partitions.find((p) => !assigned.has(keyOf(p)))
    if (missing) throw new IllegalStateError(`Partition ${missing.topic}-${missing.partition} is not assigned to this instance: subscribe and fetch first, or assign it.`)
  }

  async function seekAll (i: Instance, targets: TopicPartitionOffset[]): Promise<void> {
    for (const t of targets) await callback<void>((cb) => i.consumer.seek(t, config.kafkaTimeoutMs, (err) => cb(err)))
  }

  const service: ConsumerInstances = {
    async create (request, group, options) {
      if (closing) throw new ShuttingDownError()
      if (options.format !== 'binary' && options.format !== 'json') {
        throw new UnsupportedFormatError(`The ${options.format} format needs a schema registry, which this service does not have: use binary or json.`)
      }
      const name = options.name ?? `kosha-${randomUUID()}`
      if (all.has(id(group, name))) throw new ConsumerExistsError(`${name}' of group '${group}`)
      if (all.size >= config.consumerMax) throw new TooManyConsumersError(config.consumerMax)
      const consumer = new KafkaConsumer(...instanceConsumerConfig(config, group, name, options))
      const instance: Instance = {
        group,
        name,
        format: options.format,
        autoCommit: options.autoCommit,
        requestTimeoutMs: options.requestTimeoutMs,
        consumer,
        mode: 'none',
        topics: [],
        delivered: new Map(),
        closed: false,
        queue: new RequestQueue(config.consumerIdleTimeoutMs, () => {
          log.info({ group, instance: name }, 'consumer instance idle: closing it')
          close(instance).catch((err: unknown) => log.error({ err }, 'closing an idle consumer instance failed'))
        })
      }
      all.set(id(group, name), instance)
      try {
        await callback<void>((cb) => consumer.connect({ timeout: config.kafkaTimeoutMs }, (err) => cb(err)))
      } catch (err) {
        all.delete(id(group, name))
        instance.closed = true
        throw fromKafkaError(err, { resource: `consumer instance '${name}'` }, request.id)
      }
      instance.queue.touch()
      return { instanceId: name }
    },

    async delete (group, name) { await close(get(group, name)) },

    async subscribe (request, group, name, target) {
      if (target.topics !== undefined && target.pattern !== undefined) throw new IllegalStateError('Give topics or topic_pattern, not both.')
      if (target.topics === undefined && target.pattern === undefined) throw new IllegalStateError('Give topics or topic_pattern.')
      await serial(request, group, name, (i) => {
        if (i.mode === 'assigned') throw new IllegalStateError('This instance has assigned partitions: it cannot also subscribe.')
        // librdkafka treats a topic starting with ^ as a regular expression.
        const topics = target.pattern !== undefined ? [target.pattern.startsWith('^') ? target.pattern : `^${target.pattern}`] : target.topics ?? []
        i.consumer.subscribe(topics)
        i.topics = topics
        i.mode = 'subscribed'
      })
    },

    async subscription (group, name) { return [...get(group, name).topics] },

    async unsubscribe (request, group, name) {
      await serial(request, group, name, (i) => {
        if (i.mode === 'subscribed') i.consumer.unsubscribe()
        i.topics = []
        if (i.mode === 'subscribed') i.mode = 'none'
      })
    },

    async assign (request, group, name, partitions) {
      await serial(request, group, name, (i) => {
        if (i.mode === 'subscribed') throw new IllegalStateError('This instance is subscribed: it cannot also take manual assignments.')
        i.consumer.assign(partitions.map((p) => ({ topic: p.topic, partition: p.partition })))
        i.mode = partitions.length > 0 ? 'assigned' : 'none'
      })
    },

    async assignments (group, name) {
      return get(group, name).consumer.assignments().map((p) => ({ topic: p.topic, partition: p.partition }))
    },

    async seek (request, group, name, to) {
      await serial(request, group, name, async (i) => {
        const offsets = to.offsets ?? []
        const times = to.timestamps ?? []
        assertAssigned(i, [...offsets, ...times])
        const byTime = times.length === 0
          ? []
          : await callback<TopicPartitionOffset[]>((cb) => i.consumer.offsetsForTimes(
            times.map((t) => ({ topic: t.topic, partition: t.partition, offset: t.timestamp })), config.kafkaTimeoutMs, (err, result) => cb(err, result)))
        // A timestamp after the last record gives no offset (-1): the partition's end, where the next record lands.
        await seekAll(i, [...offsets, ...byTime.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset < 0 ? OFFSET_END : o.offset }))])
      })
    },

    async seekToEdge (request, group, name, partitions, edge) {
      await serial(request, group, name, async (i) => {
        assertAssigned(i, partitions)
        await seekAll(i, partitions.map((p) => ({ topic: p.topic, partition: p.partition, offset: edge === 'beginning' ? OFFSET_BEGINNING : OFFSET_END })))
      })
    },

    async commit (request, group, name, offsets) {
      return await serial(request, group, name, async (i) => {
        const targets = offsets ?? [...i.delivered.values()]
        if (targets.length > 0) await callback<void>((cb) => i.consumer.commitCb(targets, (err) => cb(err)))
        return targets.map((t) => ({ topic: t.topic, partition: t.partition, offset: t.offset, metadata: null }))
      })
    },

    async committed (request, group, name, partitions) {
      return await serial(request, group, name, async (i) => {
        const asked = partitions ?? i.consumer.assignments().map((p) => ({ topic: p.topic, partition: p.partition }))
        if (asked.length === 0) return []
        const result = await callback<TopicPartitionOffset[]>((cb) => i.consumer.committed(asked, config.kafkaTimeoutMs, (err, tps) => cb(err, tps)))
        return result.map((t) => ({ topic: t.topic, partition: t.partition, offset: t.offset, metadata: null }))
      })
    },

    format: (group, name) => get(group, name).format,

    async records (request, reply, group, name, options) {
      const i = get(group, name)
      if (i.mode === 'none') throw new IllegalStateError('This instance has neither a subscription nor an assignment: subscribe or assign first.')
      const deadline = Date.now() + (options.timeoutMs ?? i.requestTimeoutMs)
      const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY
      const release = await i.queue.enqueue()
      let messages: Message[] = []
      try {
        if (i.closed) throw new ConsumerInstanceNotFoundError(group, name)
        do {
          messages = await pollBatch(i.consumer, BATCH, Math.max(0, Math.min(POLL_SLICE_MS, deadline - Date.now())))
        } while (messages.length === 0 && Date.now() < deadline && !i.closed && !request.raw.destroyed)
        // max_bytes: keep whole records up to the budget (always at least one); give the rest back by seeking.
        let bytes = 0
        const keep = messages.findIndex((m, n) => { bytes += recordBytes(m); return n > 0 && bytes > maxBytes })
        if (keep > 0) {
          const back = new Map<string, TopicPartitionOffset>()
          for (const m of messages.slice(keep)) if (!back.has(keyOf(m))) back.set(keyOf(m), { topic: m.topic, partition: m.partition, offset: m.offset })
          messages = messages.slice(0, keep)
          await seekAll(i, [...back.values()])
        }
      } catch (err) {
        release()
        throw fromKafkaError(err, {}, request.id)
      }
      if (messages.length === 0) { release(); return [] }
      const fetched = messages
      let settled = false
      const settle = (ok: boolean): void => {
        if (settled) return
        settled = true
        const next = new Map<string, TopicPartitionOffset>()
        for (const m of fetched) next.set(keyOf(m), { topic: m.topic, partition: m.partition, offset: m.offset + 1 })
        if (ok) {
          for (const [k, v] of next) i.delivered.set(k, v)
          if (i.autoCommit) {
            i.consumer.commitCb([...next.values()], (err) => { if (err) log.warn({ code: err.code }, 'auto-commit failed: records may come again') })
          }
          release()
          return
        }
        const first = new Map<string, TopicPartitionOffset>()
        for (const m of fetched) if (!first.has(keyOf(m))) first.set(keyOf(m), { topic: m.topic, partition: m.partition, offset: m.offset })
        log.warn({ group, instance: name, records: fetched.length }, 'a records response was not delivered: its records will come again')
        seekAll(i, [...first.values()]).catch((err: unknown) => log.error({ err }, 'seeking back failed')).finally(release)
      }
      reply.raw.once('finish', () => settle(reply.statusCode === 200))
      reply.raw.once('close', () => settle(reply.raw.writableFinished))
      if (reply.raw.destroyed) settle(false)
      return fetched.map((m) => toV2Record(m, i.format))
    },

    count: () => all.size
  }
  fastify.decorate('consumerInstances', service)

  fastify.addHook('onClose', async () => {
    closing = true
    await Promise.all([...all.values()].map((i) => close(i)))
  })
}

export default fp(consumerInstances, { name: 'consumer-instances', dependencies: ['kafka-connection'] })
