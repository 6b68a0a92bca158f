// The connection to Kafka that every request shares: one idempotent producer (acks=all) and the admin clients.
// Routes and the operation plugins reach Kafka only through `fastify.kafka.clientsFor(request)`, so that a later
// per-caller identity (HTTP credentials passed through to SASL, one cached client per identity) plugs in here.
//
// Two clients, on purpose: librdkafka (@confluentinc/kafka-javascript) produces, consumes and does the admin calls
// it has; its JavaScript binding has no DescribeConfigs (nor ACL, AlterConfigs) call, so those go through
// @platformatic/kafka's Admin, a pure-JavaScript client that speaks those APIs over the same SASL/TLS settings.
import { readFileSync } from 'node:fs'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AdminClient, Producer, type GlobalConfig, type IAdminClient, type LibrdKafkaError, type Metadata, type ProducerGlobalConfig, type ProducerTopicConfig } from '@confluentinc/kafka-javascript'
import { Admin } from '@platformatic/kafka'
import type { Config } from '../lib/config'
import { KafkaAuthenticationError, KafkaUnavailableError, KoshaError, ShuttingDownError, fromKafkaError } from '../lib/errors'

export interface KafkaClients {
  /** librdkafka producer, connected, delivery reports on. Use produce() rather than this directly. */
  producer: Producer
  /** librdkafka admin client sharing the producer's connections. */
  admin: IAdminClient
  /** @platformatic/kafka admin client: DescribeConfigs and the calls librdkafka's binding lacks. */
  configAdmin: Admin
}

export interface Delivery { partition: number, offset: number, timestamp: number }
export interface OutgoingRecord {
  topic: string
  /** null: a tombstone. */
  value: Buffer | null
  key?: Buffer | string
  /** Unset: the partitioner chooses (murmur2 of the key, as the Java client does). */
  partition?: number
  headers?: Array<Record<string, string | Buffer>>
  /** The record's timestamp, ms since the epoch (CreateTime); unset: now. */
  timestamp?: number
}
export interface Watermarks { low: number, high: number }
export type Settled = { ok: true, delivery: Delivery } | { ok: false, error: unknown }

export interface KafkaConnection {
  /** The clients for this request's caller (today: the connector's one identity). */
  clientsFor: (request: FastifyRequest) => KafkaClients
  /** Sends a record and resolves once the broker acknowledged it (acks=all), with where it landed. */
  produce: (request: FastifyRequest, record: OutgoingRecord) => Promise<Delivery>
  /**
   * Sends records together and resolves once each was acknowledged or failed: one settlement per record, in order.
   * One promise for the lot, however many records (a request of 100 records used to cost 100 promises).
   */
  produceMany: (request: FastifyRequest, records: OutgoingRecord[]) => Promise<Settled[]>
  /** The cluster's id and controller, as Kafka reports them (asked once, then remembered). */
  cluster: (request: FastifyRequest) => Promise<{ id: string, controllerId: number }>
  /** The first stored offset and the offset the next record will get, of one partition. */
  watermarks: (request: FastifyRequest, topic: string, partition: number) => Promise<Watermarks>
  /** Cluster metadata for one topic (or all), never creating it. */
  metadata: (request: FastifyRequest, topic?: string) => Promise<Metadata>
  /** librdkafka settings for a new client of the connector's identity (consumers use it). */
  clientConfig: () => GlobalConfig
  /** Resolves when Kafka answers the connector; rejects with why not (unreachable, credentials refused). */
  checkReady: () => Promise<void>
  /** Count of records whose delivery is awaited. */
  inFlight: () => number
  /** Flushes and disconnects; called last in the shutdown order. */
  close: () => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance { kafka: KafkaConnection }
}

const RECONNECT_MS = 3000

export function librdkafkaConfig (config: Config): GlobalConfig {
  const protocol = config.tls ? (config.sasl ? 'sasl_ssl' : 'ssl') : (config.sasl ? 'sasl_plaintext' : 'plaintext')
  return {
    'metadata.broker.list': config.brokers.join(','),
    'client.id': 'kosha-kafka-connector',
    'security.protocol': protocol,
    ...(config.sasl ? { 'sasl.mechanisms': config.sasl.mechanism, 'sasl.username': config.sasl.username, 'sasl.password': config.sasl.password } : {}),
    ...(config.tls?.caFile ? { 'ssl.ca.location': config.tls.caFile } : {}),
    'socket.keepalive.enable': true,
    'allow.auto.create.topics': false,
    'log.connection.close': false
  }
}

/**
 * How much a consumer fetches ahead of what it was asked for. librdkafka's defaults (64 MiB and 100,000 records per
 * partition) suit one consumer per process; here a consumer serves HTTP polls of at most 500 records, and a hundred
 * live consumers with those defaults held 1.5 GiB in the benchmark. A full queue is checked again after 5 ms, not
 * librdkafka's 1 s, so that a small queue does not throttle a reader that keeps up (with a 1 s back-off, a 4 MiB
 * queue capped a drain at 4 MB/s).
 */
export const CONSUMER_PREFETCH = { 'queued.max.messages.kbytes': 1024, 'queued.min.messages': 1000, 'fetch.queue.backoff.ms': 5 } as const

/** The producer's settings (global, topic): one place, so the benchmark's native ceiling runs exactly these. */
export function producerConfig (config: Config): [ProducerGlobalConfig, ProducerTopicConfig] {
  return [{
    ...librdkafkaConfig(config),
    'enable.idempotence': true,
    'linger.ms': 2,
    'topic.metadata.propagation.max.ms': 3000,
    dr_cb: true
  }, {
    // acks=all and the delivery timeout are topic-level settings in librdkafka (idempotence requires acks=all).
    'request.required.acks': -1,
    'message.timeout.ms': config.kafkaTimeoutMs,
    // The Java producer's default: records with one key land on the partition a Java client would choose.
    partitioner: 'murmur2_random'
  }]
}

function platformaticAdmin (config: Config): Admin {
  return new Admin({
    clientId: 'kosha-kafka-connector-admin',
    bootstrapBrokers: config.brokers,
    retries: 1,
    timeout: config.kafkaTimeoutMs,
    connectTimeout: Math.min(config.kafkaTimeoutMs, 5000),
    ...(config.sasl ? { sasl: { mechanism: config.sasl.mechanism, username: config.sasl.username, password: config.sasl.password } } : {}),
    ...(config.tls ? { tls: config.tls.caFile ? { ca: readFileSync(config.tls.caFile) } : {} } : {})
  })
}

async function kafkaConnection (fastify: FastifyInstance): Promise<void> {
  const config = fastify.config
  const log = fastify.log.child({ component: 'kafka' })
  const configAdmin = platformaticAdmin(config)
  let producer: Producer | undefined
  let admin: IAdminClient | undefined
  let closing = false
  let reconnectTimer: NodeJS.Timeout | undefined
  let lastFailure: KoshaError | undefined
  // A batch of records handed to the producer together: settled when its last delivery report arrived.
  interface Batch { results: Settled[], left: number, done: (results: Settled[]) => void }
  const pending = new Map<number, { batch: Batch, index: number }>()
  let nextOpaque = 1

  function connect (): Promise<void> {
    const p = new Producer(...producerConfig(config))
    p.on('event.log', (e: { severity: number, fac: string, message: string }) => {
      // librdkafka says here why a connection failed (e.g. SASL authentication error): worth a warning, never secret.
      if (e.severity <= 4) log.warn({ facility: e.fac }, e.message)
    })
    p.on('event.error', (err: LibrdKafkaError) => { log.warn({ code: err.code }, `kafka client: ${err.message}`) })
    p.on('delivery-report', (err: LibrdKafkaError | null, report: { opaque?: unknown, partition: number, offset: number, timestamp?: number }) => {
      const waiter = typeof report?.opaque === 'number' ? pending.get(report.opaque) : undefined
      if (!waiter) return
      pending.delete(report.opaque as number)
      settle(waiter.batch, waiter.index, err
        ? { ok: false, error: err }
        : { ok: true, delivery: { partition: report.partition, offset: report.offset, timestamp: report.timestamp ?? Date.now() } })
    })
    return new Promise((resolve) => {
      p.connect({ timeout: Math.min(config.kafkaTimeoutMs, 10_000) }, (err) => {
        if (err) {
          p.removeAllListeners()
          lastFailure = fromKafkaError(err, { resource: 'the cluster' }, 'startup')
          log.error({ code: err.code, retryInMs: RECONNECT_MS }, `cannot connect to Kafka at ${config.brokers.join(',')}: ${err.message}`)
          if (!closing) reconnectTimer = setTimeout(() => { connect().catch(() => undefined) }, RECONNECT_MS)
          resolve()
          return
        }
        p.setPollInBackground(true)
        producer = p
        admin = AdminClient.createFrom(p)
        lastFailure = undefined
        log.info(`connected to Kafka at ${config.brokers.join(',')}`)
        resolve()
      })
    })
  }

  function settle (batch: Batch, index: number, result: Settled): void {
    batch.results[index] = result
    if (--batch.left === 0) batch.done(batch.results)
  }

  async function unavailable (): Promise<KoshaError> {
    if (closing) return new ShuttingDownError()
    // librdkafka reports a refused login only through its log; ask the other client, which names it.
    try {
      await configAdmin.metadata({ topics: [] })
    } catch (err) {
      const mapped = fromKafkaError(err, { resource: 'the cluster' }, 'readiness')
      if (mapped instanceof KafkaAuthenticationError) return mapped
    }
    return lastFailure ?? new KafkaUnavailableError(`Kafka is not reachable at ${config.brokers.join(',')}: retry later.`)
  }

  const connection: KafkaConnection = {
    clientsFor () {
      if (closing) throw new ShuttingDownError()
      if (!producer || !admin) throw lastFailure ?? new KafkaUnavailableError(`Kafka is not reachable at ${config.brokers.join(',')}: retry later.`)
      return { producer, admin, configAdmin }
    },
    async produce (request, record) {
      const [result] = await connection.produceMany(request, [record])
      if (!result?.ok) throw result?.error
      return result.delivery
    },
    async produceMany (request, records) {
      if (!producer) throw await unavailable()
      const { producer: p } = connection.clientsFor(request)
      return await new Promise<Settled[]>((resolve) => {
        const batch: Batch = { results: new Array<Settled>(records.length), left: records.length, done: resolve }
        if (records.length === 0) resolve([])
        const now = Date.now()
        records.forEach((record, index) => {
          const opaque = nextOpaque++
          pending.set(opaque, { batch, index })
          try {
            p.produce(record.topic, record.partition ?? null, record.value, record.key, record.timestamp ?? now, opaque, record.headers)
          } catch (err) {
            pending.delete(opaque)
            settle(batch, index, { ok: false, error: err })
          }
        })
      })
    },
    async metadata (request, topic) {
      if (!producer) throw await unavailable()
      const { producer: p } = connection.clientsFor(request)
      return await new Promise<Metadata>((resolve, reject) => {
        p.getMetadata({ ...(topic !== undefined ? { topic, allTopics: false } : { allTopics: true }), timeout: config.kafkaTimeoutMs }, (err, md) => {
          if (err) reject(err)
          else resolve(md)
        })
      })
    },
    async cluster (request) {
      const md = await connection.clientsFor(request).configAdmin.metadata({ topics: [] })
        .catch((err: unknown) => { throw fromKafkaError(err, { resource: 'the cluster' }, request.id) })
      return { id: md.id, controllerId: md.controllerId }
    },
    async watermarks (request, topic, partition) {
      if (!producer) throw await unavailable()
      const { producer: p } = connection.clientsFor(request)
      return await new Promise<Watermarks>((resolve, reject) => {
        p.queryWatermarkOffsets(topic, partition, config.kafkaTimeoutMs, (err, offsets) => {
          if (err) reject(err)
          else resolve({ low: offsets.lowOffset, high: offsets.highOffset })
        })
      })
    },
    clientConfig: () => librdkafkaConfig(config),
    async checkReady () {
      if (closing) throw new ShuttingDownError()
      if (!producer) throw await unavailable()
      try {
        await configAdmin.metadata({ topics: [] })
      } catch (err) {
        throw fromKafkaError(err, { resource: 'the cluster' }, 'readiness')
      }
    },
    inFlight: () => pending.size,
    async close () {
      closing = true
      clearTimeout(reconnectTimer)
      const p = producer
      producer = undefined
      admin = undefined
      if (p) {
        await new Promise<void>((resolve) => {
          p.flush(config.shutdownGraceMs || 10_000, (err) => {
            if (err) log.error({ code: (err as LibrdKafkaError).code, unflushed: pending.size }, 'flushing the producer failed')
            resolve()
          })
        })
        await new Promise<void>((resolve) => { p.disconnect(() => resolve()) })
      }
      for (const [, waiter] of pending) settle(waiter.batch, waiter.index, { ok: false, error: new ShuttingDownError() })
      pending.clear()
      await configAdmin.close().catch(() => undefined)
      log.info('disconnected from Kafka')
    }
  }

  fastify.decorate('kafka', connection)
  await connect()
  // Closed last (after the HTTP server stopped taking requests and consumers were closed): see plugins/consumers.ts.
  fastify.addHook('onClose', async () => { await connection.close() })
}

export default fp(kafkaConnection, { name: 'kafka-connection', dependencies: ['config'] })
