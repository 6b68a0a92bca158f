// The connection to Kafka that every request shares: one idempotent producer (acks=all), the librdkafka admin client
// on its connections, and @platformatic/kafka's Admin. Every module of the Kafka layer reaches the clients through
// `clients()`. One connection serves the connector's own identity; with KAFKA_IDENTITY=caller, each caller has one of
// its own, on its own SASL login (kafka/identities.ts).
//
// Two clients, on purpose: librdkafka (@confluentinc/kafka-javascript) produces, consumes and does the admin calls
// it has; its JavaScript binding has no DescribeConfigs (nor ACL, AlterConfigs, validate-only CreateTopics) call, so
// those go through @platformatic/kafka's Admin, a pure-JavaScript client that speaks those APIs over the same
// SASL/TLS settings.
import { readFileSync } from 'node:fs'
import type { ConnectionOptions } from 'node:tls'
import { AdminClient, CODES, Producer, type IAdminClient, type LibrdKafkaError, type Metadata } from '@confluentinc/kafka-javascript'
import { Admin } from '@platformatic/kafka'
import type { Log } from './log'
import type { Config } from '../lib/config'
import { KafkaAuthenticationError, KafkaNotAuthorizedError, KafkaTimeoutError, KafkaTlsError, KafkaUnavailableError, ShuttingDownError, type KoshaError } from '../lib/errors'
import { fromCallback } from './callback'
import { producerConfig } from './client-config'
import { fromKafkaError, type KafkaContext } from './errors'
import { tlsConnectionError } from './tls-probe'
import { listenForErrors } from './client-errors'

export interface KafkaClients {
  /** librdkafka producer, connected, delivery reports on. Records go through `produce()`. */
  producer: Producer
  /** librdkafka admin client sharing the producer's connections. */
  admin: IAdminClient
  /** @platformatic/kafka admin client: DescribeConfigs and the calls librdkafka's binding lacks. */
  configAdmin: Admin
}

export interface Delivery { partition: number, offset: number, timestamp: number }
export interface OutgoingRecord {
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
/** How one record of a batch ended: where the broker stored it, or why not (a catalogue error). */
export type Outcome = { ok: true, delivery: Delivery } | { ok: false, error: KoshaError }

const RECONNECT_MS = 3000
const FATAL_REASON_WAIT_MS = 500
const CONNECT_TIMEOUT_MS = 5000
// While every broker is unreachable, how often the cluster is asked again whether it is back.
const PROBE_MS = 1000
// How long the start waits for the first connection: well within Fastify's plugin timeout (10 s), which a first
// attempt of KAFKA_TIMEOUT_MS (10 s by default) against a broker that refuses the credentials or does not answer used
// to exceed, killing the process instead of serving /readyz's 503.
const STARTUP_WAIT_MS = 5000

// How long after KAFKA_TIMEOUT_MS a produce waits for librdkafka's delivery reports before it answers without them.
const REPORT_GRACE_MS = 5000

// A batch of records handed to the producer together: settled when its last delivery report arrived.
interface Batch { topic: string, records: OutgoingRecord[], results: Outcome[], left: number, done: (results: Outcome[]) => void, sentAt: number }

function platformaticAdmin (config: Config, tls: ConnectionOptions | undefined): Admin {
  return new Admin({
    clientId: 'kosha-kafka-connector-admin',
    bootstrapBrokers: config.brokers,
    retries: 1,
    timeout: config.kafkaTimeoutMs,
    connectTimeout: Math.min(config.kafkaTimeoutMs, 5000),
    ...(config.sasl
      ? { sasl: config.sasl.mechanism === 'OAUTHBEARER' ? { mechanism: 'OAUTHBEARER', token: config.sasl.token } : { mechanism: config.sasl.mechanism, username: config.sasl.username, password: config.sasl.password } }
      : {}),
    ...(tls ? { tls } : {})
  })
}

/** Node's TLS options for the brokers, from the same files librdkafka reads (read once, at start). */
function tlsOptions (tls: NonNullable<Config['tls']>): ConnectionOptions {
  return {
    ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
    ...(tls.certFile && tls.keyFile ? { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) } : {})
  }
}

export class KafkaConnection {
  readonly config: Config
  private readonly log: Log
  private readonly configAdmin: Admin
  /** The TLS options of @platformatic/kafka and of `diagnose`'s own connections; undefined without KAFKA_TLS. */
  private readonly tls: ConnectionOptions | undefined
  private producer: Producer | undefined
  private admin: IAdminClient | undefined
  private closing = false
  private reconnectTimer: NodeJS.Timeout | undefined
  private lastFailure: KoshaError | undefined
  /** Why the last attempt to connect failed, while that is being found out (`diagnose`). */
  private diagnosis: Promise<KoshaError> | undefined
  private readonly pending = new Map<number, { batch: Batch, index: number }>()
  private nextOpaque = 1
  /**
   * Set while no broker of the cluster answers (the whole cluster down, or out of reach): every call fails at once
   * with it, instead of each waiting KAFKA_TIMEOUT_MS for brokers that are not there. Cleared by the probe that
   * reaches the cluster again, or by any acknowledged record.
   */
  private down: KafkaUnavailableError | undefined
  private probing: Promise<void> | undefined
  /** The last outage, and when it was noticed: a record sent before it and timed out after is told it (503). */
  private lastDown: KafkaUnavailableError | undefined
  private lastDownAt = 0
  /** Set once Kafka refused the producer its id (see connect): the producer fails every record from then on. */
  private deniedProducing: KafkaNotAuthorizedError | undefined
  private probeTimer: NodeJS.Timeout | undefined

  /** idempotent: false for a caller's connection (kafka/client-config.ts, producerConfig, says why). */
  constructor (config: Config, log: Log, private readonly options: { idempotent?: boolean } = {}) {
    this.config = config
    this.log = log
    this.tls = config.tls ? tlsOptions(config.tls) : undefined
    this.configAdmin = platformaticAdmin(config, this.tls)
  }

  get timeoutMs (): number { return this.config.kafkaTimeoutMs }

  /**
   * Starts connecting: resolves once connected, once the first attempt failed, or after STARTUP_WAIT_MS, whichever
   * comes first; the attempt goes on (and is retried) while the service serves, readiness saying why it is not ready.
   */
  async start (): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.connect(), new Promise<void>((resolve) => { timer = setTimeout(resolve, Math.min(STARTUP_WAIT_MS, this.timeoutMs)) })])
    clearTimeout(timer)
  }

  /**
   * Connects the producer. Resolves either way: when Kafka is not reachable the service still starts (readiness says
   * why) and tries again every few seconds.
   */
  connect (): Promise<void> {
    const config = this.config
    const p = new Producer(...producerConfig(config, this.options))
    listenForErrors(p, this.log)
    p.on('event.log', (e: { severity: number, fac: string, message: string }) => {
      // librdkafka says here why a connection failed (e.g. SASL authentication error): worth a warning, never secret.
      if (e.severity <= 4) this.log.warn({ facility: e.fac }, e.message)
    })
    p.on('event.error', (err: LibrdKafkaError) => {
      this.log.warn({ code: err.code }, `kafka client: ${err.message}`)
      // librdkafka lost its connection to every broker it knows: whether the cluster is gone, a probe tells.
      if (err.code === CODES.ERRORS.ERR__ALL_BROKERS_DOWN) this.probe()
      // The idempotent producer could not get a producer id: Kafka denies this user IDEMPOTENT_WRITE (granted with
      // WRITE on any topic). librdkafka makes that fatal: every record fails from then on with "Fatal error".
      if (/authorization failed/i.test(err.message) && this.deniedProducing === undefined) {
        this.deniedProducing = new KafkaNotAuthorizedError(`Kafka denied producing to the user this connection logs in as (${err.message}: it needs WRITE on the topic, which also grants the idempotent producer its id).`, err)
      }
    })
    p.on('delivery-report', (err: LibrdKafkaError | null, report: { opaque?: unknown, partition: number, offset: number, timestamp?: number }) => {
      const waiter = typeof report?.opaque === 'number' ? this.pending.get(report.opaque) : undefined
      if (!waiter) return
      this.pending.delete(report.opaque as number)
      if (!err) this.up()
      const settle = (): void => {
        this.settle(waiter.batch, waiter.index, err
          ? { ok: false, error: this.recordError(waiter.batch, waiter.index, err) }
          : { ok: true, delivery: { partition: report.partition, offset: report.offset, timestamp: report.timestamp ?? Date.now() } })
      }
      // A fatal producer error may fail records before librdkafka's event.error says why: a moment lets the reason
      // (a denied producer id, above) come first, so that the record's failure names it.
      if (err?.code === CODES.ERRORS.ERR__FATAL && this.deniedProducing === undefined) setTimeout(settle, FATAL_REASON_WAIT_MS)
      else settle()
    })
    return new Promise((resolve) => {
      // At most 5 s: the app's start waits for this, and Fastify gives a plugin 10 s before it fails the start. A
      // broker that never completes a handshake (TLS, SASL) takes all of it.
      p.connect({ timeout: Math.min(config.kafkaTimeoutMs, CONNECT_TIMEOUT_MS) }, (err) => {
        if (err) {
          p.removeAllListeners()
          this.log.error({ code: err.code, retryInMs: RECONNECT_MS }, `cannot connect to Kafka at ${config.brokers.join(',')}: ${err.message}`)
          // librdkafka says only "transport failure" here; what calls answer until a connection succeeds should say
          // why (refused credentials, a failed TLS handshake): found out while the start goes on, and awaited by a
          // call that comes before it is known.
          const failure = fromKafkaError(err, { resource: 'the cluster' })
          this.lastFailure = failure
          const diagnosis = this.diagnose(failure).catch(() => failure)
          this.diagnosis = diagnosis
          diagnosis.then((why) => {
            if (this.diagnosis === diagnosis) this.diagnosis = undefined
            this.lastFailure = why
            if (!this.closing) this.reconnectTimer = setTimeout(() => { this.connect().catch(() => undefined) }, RECONNECT_MS)
          })
          resolve()
          return
        }
        // Connected after the service began closing (the start stopped waiting for it): let it go again.
        if (this.closing) {
          p.disconnect(() => resolve())
          return
        }
        p.setPollInBackground(true)
        this.producer = p
        this.admin = AdminClient.createFrom(p)
        this.lastFailure = undefined
        this.log.info(`connected to Kafka at ${config.brokers.join(',')}`)
        resolve()
      })
    })
  }

  /** undefined once connected; else why not (refused credentials, a failed TLS handshake, unreachable). */
  async failure (): Promise<KoshaError | undefined> {
    if (this.producer && this.admin) return undefined
    return await this.unavailable()
  }

  /** The clients of this connection's identity; ShuttingDownError or why Kafka is unavailable. */
  clients (): KafkaClients {
    if (this.closing) throw new ShuttingDownError()
    if (!this.producer || !this.admin) throw this.lastFailure ?? this.unreachable()
    if (this.down) throw this.down
    return { producer: this.producer, admin: this.admin, configAdmin: this.configAdmin }
  }

  /**
   * Sends records of one topic together and resolves once each was acknowledged (acks=all) or failed: one outcome
   * per record, in order. One promise for the lot, however many records (librdkafka batches them).
   */
  async produce (topic: string, records: OutgoingRecord[]): Promise<Outcome[]> {
    if (!this.producer) throw await this.unavailable()
    const { producer } = this.clients()
    return await new Promise<Outcome[]>((resolve) => {
      const opaques: number[] = []
      // librdkafka reports each record by message.timeout.ms (KAFKA_TIMEOUT_MS), but a request already in flight to a
      // broker that holds it is waited for beyond that (its idempotent producer cannot drop it): past this bound the
      // records still unreported are answered as timed out (504: not acknowledged, possibly written later), so that
      // no request hangs on a report that comes late or never. A report arriving after that finds no waiter.
      const deadline = setTimeout(() => {
        const late = opaques.filter((opaque) => this.pending.has(opaque)).length
        if (late > 0) this.log.warn({ topic, records: late, waitedMs: this.timeoutMs + REPORT_GRACE_MS }, 'no delivery report from librdkafka in time: answered as timed out')
        for (const [index, opaque] of opaques.entries()) {
          if (!this.pending.delete(opaque)) continue
          // As a reported time-out is: a 503 when the cluster went down while it waited (recordError), else 504.
          this.settle(batch, index, { ok: false, error: this.recordError(batch, index, new KafkaTimeoutError(`Kafka did not acknowledge the record within ${this.timeoutMs + REPORT_GRACE_MS} ms (KAFKA_TIMEOUT_MS and a ${REPORT_GRACE_MS} ms grace): it may still be written.`)) })
        }
      }, this.timeoutMs + REPORT_GRACE_MS)
      const done = (results: Outcome[]): void => { clearTimeout(deadline); resolve(results) }
      const batch: Batch = { topic, records, results: new Array<Outcome>(records.length), left: records.length, done, sentAt: Date.now() }
      if (records.length === 0) done([])
      const now = Date.now()
      records.forEach((record, index) => {
        const opaque = this.nextOpaque++
        opaques.push(opaque)
        this.pending.set(opaque, { batch, index })
        try {
          producer.produce(topic, record.partition ?? null, record.value, record.key, record.timestamp ?? now, opaque, record.headers)
        } catch (err) {
          this.pending.delete(opaque)
          this.settle(batch, index, { ok: false, error: this.recordError(batch, index, err) })
        }
      })
    })
  }

  /** Cluster metadata for one topic (or all), never creating it. */
  async metadata (topic?: string): Promise<Metadata> {
    if (!this.producer) throw await this.unavailable()
    const { producer } = this.clients()
    const since = Date.now()
    const metadata = await fromCallback<Metadata>((done) => {
      producer.getMetadata({ ...(topic !== undefined ? { topic, allTopics: false } : { allTopics: true }), timeout: this.timeoutMs }, done)
    }).catch((err: unknown) => { throw this.explained(err, topic !== undefined ? { topic } : {}, since) })
    if (topic !== undefined && !metadata.topics.some((t) => t.name === topic && t.partitions.length > 0)) await this.assertMayDescribe(topic)
    return metadata
  }

  /**
   * KafkaNotAuthorizedError when Kafka's ACLs hide the topic from this connection's user. librdkafka's binding
   * leaves out a topic's error from its metadata, so a topic the user may not describe looked like a missing one (a
   * 404 instead of a 403); @platformatic/kafka's metadata names the error.
   */
  private async assertMayDescribe (topic: string): Promise<void> {
    const denied = await this.configAdmin.metadata({ topics: [topic] }).then(() => undefined, (err: unknown) => fromKafkaError(err, { topic }))
    if (denied instanceof KafkaNotAuthorizedError) throw denied
  }

  /** The first stored offset and the offset the next record will get, of one partition. */
  async watermarks (topic: string, partition: number): Promise<Watermarks> {
    if (!this.producer) throw await this.unavailable()
    const { producer } = this.clients()
    const since = Date.now()
    const offsets = await fromCallback<{ lowOffset: number, highOffset: number }>((done) => {
      producer.queryWatermarkOffsets(topic, partition, this.timeoutMs, done)
    }).catch((err: unknown) => { throw this.explained(err, { topic, partition }, since) })
    return { low: offsets.lowOffset, high: offsets.highOffset }
  }

  /** The cluster's id and controller, as Kafka reports them. */
  async cluster (): Promise<{ id: string, controllerId: number }> {
    const md = await this.clients().configAdmin.metadata({ topics: [] }).catch((err: unknown) => { throw this.explained(err, { resource: 'the cluster' }) })
    return { id: md.id, controllerId: md.controllerId }
  }

  /**
   * Resolves when Kafka answers the connector now (a fresh metadata request, not a cached answer); rejects with why
   * not (unreachable, every broker down, credentials refused, closing). A cluster found unreachable here is probed
   * until it is back, as when librdkafka reports every broker down.
   */
  async checkReady (): Promise<void> {
    if (this.closing) throw new ShuttingDownError()
    if (!this.producer) throw await this.unavailable()
    if (this.down) throw this.down
    await this.configAdmin.metadata({ topics: [], forceUpdate: true }).catch((err: unknown) => {
      const mapped = fromKafkaError(err, { resource: 'the cluster' })
      if (mapped instanceof KafkaUnavailableError) this.markDown(err)
      throw this.down ?? mapped
    })
  }

  /**
   * Asks the cluster for fresh metadata: answered, it is up; no broker reachable, it is down, and asked again every
   * PROBE_MS until one is. One probe at a time.
   */
  private probe (): void {
    if (this.probing || this.closing) return
    clearTimeout(this.probeTimer)
    this.probing = this.configAdmin.metadata({ topics: [], forceUpdate: true }).then(
      () => { this.up() },
      (err: unknown) => {
        // Only no connection to any broker is an outage. A broker that is connected but slow to answer (a timeout) is
        // not: its calls may still succeed. Refused credentials are not either: readiness and the calls name them.
        if (!(fromKafkaError(err, { resource: 'the cluster' }) instanceof KafkaUnavailableError)) return
        this.markDown(err)
        if (!this.closing) this.probeTimer = setTimeout(() => { this.probe() }, PROBE_MS)
      }
    ).finally(() => { this.probing = undefined })
  }

  private markDown (cause: unknown): void {
    if (this.down) return
    this.down = new KafkaUnavailableError(`No Kafka broker answers at ${this.config.brokers.join(',')}: retry later.`, cause)
    this.lastDown = this.down
    this.lastDownAt = Date.now()
    this.log.error({ retryInMs: PROBE_MS }, 'every Kafka broker is unreachable: calls fail at once until the cluster answers again')
    if (!this.probing && !this.closing) this.probeTimer = setTimeout(() => { this.probe() }, PROBE_MS)
  }

  private up (): void {
    if (!this.down) return
    this.down = undefined
    clearTimeout(this.probeTimer)
    this.log.info(`Kafka answers again at ${this.config.brokers.join(',')}`)
  }

  /** Flushes the producer and disconnects; called last in the shutdown order (after the consumers closed). */
  async close (): Promise<void> {
    this.closing = true
    clearTimeout(this.reconnectTimer)
    clearTimeout(this.probeTimer)
    await this.probing
    const p = this.producer
    this.producer = undefined
    this.admin = undefined
    if (p) {
      await fromCallback((done) => { p.flush(this.config.shutdownGraceMs || 10_000, done) }).catch((err: unknown) => {
        this.log.error({ code: (err as LibrdKafkaError).code, unflushed: this.pending.size }, 'flushing the producer failed')
      })
      await new Promise<void>((resolve) => { p.disconnect(() => resolve()) })
    }
    for (const [, waiter] of this.pending) this.settle(waiter.batch, waiter.index, { ok: false, error: new ShuttingDownError() })
    this.pending.clear()
    await this.configAdmin.close().catch(() => undefined)
    this.log.info('disconnected from Kafka')
  }

  private recordError (batch: Batch, index: number, err: unknown): KoshaError {
    const partition = batch.records[index]?.partition
    const context: KafkaContext = { topic: batch.topic, ...(partition !== undefined ? { partition } : {}) }
    if (this.deniedProducing && (err as LibrdKafkaError | undefined)?.code === CODES.ERRORS.ERR__FATAL) return this.deniedProducing
    return this.explained(err, context, batch.sentAt)
  }

  /**
   * A client's error as a catalogue error; a call that timed out while no broker answers (it was waiting when the
   * cluster went down) timed out for that reason: it says so, 503 with Retry-After, as the calls made since do.
   */
  private explained (err: unknown, context: KafkaContext, since?: number): KoshaError {
    const mapped = fromKafkaError(err, context)
    if (!(mapped instanceof KafkaTimeoutError)) return mapped
    if (this.down) return this.down
    // The cluster went down while this call waited, even if a late answer to another call has cleared the outage
    // since: it timed out for that reason.
    return since !== undefined && this.lastDown && this.lastDownAt >= since ? this.lastDown : mapped
  }

  private settle (batch: Batch, index: number, result: Outcome): void {
    batch.results[index] = result
    if (--batch.left === 0) batch.done(batch.results)
  }

  private unreachable (): KoshaError {
    return new KafkaUnavailableError(`Kafka is not reachable at ${this.config.brokers.join(',')}: retry later.`)
  }

  /**
   * Why there is no producer: closing, credentials refused or a failed TLS handshake (what the last attempt to connect
   * found, or finds now), or unreachable. A reason an operator must fix is kept until a connection succeeds, so that
   * calls answer it at once; any other is looked into again (a busy start may have timed out the first look).
   */
  private async unavailable (): Promise<KoshaError> {
    if (this.closing) return new ShuttingDownError()
    const known = this.diagnosis ? await this.diagnosis : this.lastFailure
    if (isConfigurationFailure(known)) return known
    const why = await this.diagnose(known ?? this.unreachable())
    if (isConfigurationFailure(why) && !this.producer) this.lastFailure = why
    return why
  }

  /**
   * Why Kafka cannot be used, when the reason is one an operator fixes in the configuration: a failed TLS handshake
   * or refused credentials (librdkafka only logs those). A TLS connection of our own to each broker names a TLS
   * failure (an untrusted or wrong certificate, the broker's refusal of ours) in a few milliseconds;
   * @platformatic/kafka names a refused login. Else `otherwise`.
   */
  private async diagnose (otherwise: KoshaError): Promise<KoshaError> {
    const tls = this.tls
    if (tls) {
      const timeoutMs = Math.min(this.config.kafkaTimeoutMs, 5000)
      const errors = await Promise.all(this.config.brokers.map((broker) => tlsConnectionError(broker, tls, timeoutMs)))
      for (const error of errors) {
        const mapped = error ? fromKafkaError(error, { resource: 'the cluster' }) : undefined
        if (mapped instanceof KafkaTlsError) return mapped
      }
    }
    try {
      await this.configAdmin.metadata({ topics: [] })
    } catch (err) {
      const mapped = fromKafkaError(err, { resource: 'the cluster' })
      if (isConfigurationFailure(mapped)) return mapped
    }
    return otherwise
  }
}

/** Kafka refused the connector's credentials, or the TLS handshake failed: retrying alone will not help. */
function isConfigurationFailure (error: KoshaError | undefined): error is KafkaAuthenticationError | KafkaTlsError {
  return error instanceof KafkaAuthenticationError || error instanceof KafkaTlsError
}
