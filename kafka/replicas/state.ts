// The replicas' shared state, in Kafka itself: one compacted topic (STATE_TOPIC, one partition), and in each process a
// view of it, a group-less consumer that reads the partition from the beginning and keeps tailing it. Keys:
//   replica/<replicaId>                          {"url": REPLICA_URL, "started": ms}   (a tombstone at shutdown)
//   consumer/v1/<name>, consumer/v2/<group>/<i>  {"holder": replicaId | null, "definition": {...}} (a tombstone on delete)
// Compaction keeps the last record of each key, so the topic stays as small as the set of live consumers; the log's
// order decides between two replicas writing one key at once (the later record wins, in every view alike).
//
// Nothing here runs until the first consumer is created or looked up (`start`), so that a service that never uses
// consumers never creates the topic nor runs the consumer. When the connector's Kafka user may not create, write or
// read the topic, `start` answers false once, logged, and consumers stay in the process that created them.
import { KafkaConsumer, type LibrdKafkaError, type Message } from '@confluentinc/kafka-javascript'
import type { Log } from '../log'
import type { KafkaConnection } from '../connection'
import { KafkaNotAuthorizedError, KafkaTimeoutError, TopicExistsError } from '../../lib/errors'
import { fromCallback } from '../callback'
import { librdkafkaConfig } from '../client-config'
import { fromKafkaError } from '../errors'
import { Topics } from '../topics'
import { pollBatch } from '../consumers/session'
import { parseConsumerRecord, parseReplicaRecord, type ConsumerRecord, type ReplicaRecord } from './records'
import { listenForErrors } from '../client-errors'

/** How often the view reads what other replicas wrote, when nothing asks it to catch up sooner. */
const TAIL_MS = 250
const OFFSET_BEGINNING = -2

export interface StateSettings { stateTopic: string }

/** A consumer's record as the view last read it, with its offset in the log. */
export interface ConsumerEntry extends ConsumerRecord { offset: number }
export type ConsumerListener = (key: string, entry: ConsumerEntry | undefined, offset: number) => void

export class StateView {
  private readonly replicas = new Map<string, ReplicaRecord>()
  private readonly consumers = new Map<string, ConsumerEntry>()
  private readonly listeners: ConsumerListener[] = []
  private consumer: KafkaConsumer | undefined
  private starting: Promise<boolean> | undefined
  private shared = false
  /** The offset after the last record applied. */
  private next = 0
  private pumping: Promise<void> = Promise.resolve()
  private timer: NodeJS.Timeout | undefined
  private closed = false

  constructor (private readonly kafka: KafkaConnection, private readonly settings: StateSettings, private readonly log: Log) {}

  get topic (): string { return this.settings.stateTopic }

  /** Whether the state topic is in use (started, and the connector may use it). */
  get usable (): boolean { return this.shared && !this.closed }

  /**
   * Creates the topic when missing, starts the view and reads the topic to its end: true once usable; false when the
   * connector's user may not use the topic (local-only consumers, logged once). Other failures reject, and the next
   * call tries again.
   */
  async start (): Promise<boolean> {
    this.starting ??= this.open().catch((err: unknown) => {
      const error = fromKafkaError(err, { topic: this.topic })
      if (error instanceof KafkaNotAuthorizedError) {
        this.log.warn({ topic: this.topic, err: error.message }, 'the connector may not use the state topic: each consumer stays in the replica that created it (requests reaching another replica get 404)')
        return false
      }
      this.starting = undefined
      throw error
    })
    return await this.starting
  }

  /** Resolves once the view has read every record written before the call (read-your-writes across replicas). */
  async sync (): Promise<void> {
    const consumer = this.consumer
    if (!consumer || this.closed) return
    const { highOffset } = await fromCallback<{ highOffset: number }>((done) => { consumer.queryWatermarkOffsets(this.topic, 0, this.kafka.timeoutMs, done) })
      .catch((err: unknown) => { throw fromKafkaError(err, { topic: this.topic }) })
    const deadline = Date.now() + this.kafka.timeoutMs
    while (this.next < highOffset && !this.closed) {
      if (Date.now() > deadline) throw new KafkaTimeoutError(`The state topic '${this.topic}' could not be read to its end in time: retry later.`)
      await this.pump(50)
    }
  }

  /** Writes a record (null: a tombstone), acknowledged by every in-sync replica; resolves with its offset. */
  async write (key: string, value: object | null): Promise<number> {
    const [outcome] = await this.kafka.produce(this.topic, [{ key, value: value === null ? null : Buffer.from(JSON.stringify(value)), partition: 0 }])
    if (!outcome) throw new KafkaTimeoutError('The state topic gave no delivery report.')
    if (!outcome.ok) throw outcome.error
    return outcome.delivery.offset
  }

  replica (replicaId: string): ReplicaRecord | undefined { return this.replicas.get(replicaId) }
  consumerEntry (key: string): ConsumerEntry | undefined { return this.consumers.get(key) }

  /** Called for every consumer record the view reads (after start), in log order. */
  onConsumer (listener: ConsumerListener): void { this.listeners.push(listener) }

  async close (): Promise<void> {
    this.closed = true
    clearTimeout(this.timer)
    await this.pumping
    const consumer = this.consumer
    this.consumer = undefined
    if (consumer?.isConnected() === true) await new Promise<void>((resolve) => { consumer.disconnect(() => resolve()) })
  }

  private async open (): Promise<boolean> {
    await this.ensureTopic()
    const consumer = new KafkaConsumer({
      ...librdkafkaConfig({ ...this.kafka.config }),
      'client.id': 'kosha-kafka-connector-state',
      // Assigned, never subscribed: the view joins no group and commits nothing; every process reads the whole topic.
      'group.id': 'kosha-state-view',
      'enable.auto.commit': false,
      'enable.partition.eof': false,
      'fetch.wait.max.ms': 100
    }, { 'auto.offset.reset': 'earliest' })
    consumer.on('event.error', (err: LibrdKafkaError) => { this.log.warn({ code: err.code }, `state topic view: ${err.message}`) })
    listenForErrors(consumer, this.log)
    await fromCallback<unknown>((done) => consumer.connect({ timeout: this.kafka.timeoutMs }, done))
    consumer.assign([{ topic: this.topic, partition: 0, offset: OFFSET_BEGINNING }])
    this.consumer = consumer
    try {
      await this.sync()
    } catch (err) {
      this.consumer = undefined
      await new Promise<void>((resolve) => { consumer.disconnect(() => resolve()) })
      throw err
    }
    this.shared = true
    this.tail()
    return true
  }

  /** The topic exists, or is created: one partition, compacted, replicated min(3, brokers). */
  private async ensureTopic (): Promise<void> {
    const visible = async (): Promise<boolean> => (await this.kafka.metadata()).topics.some((t) => t.name === this.topic && t.partitions.length > 0)
    if (await visible()) return
    const md = await this.kafka.metadata()
    const replicationFactor = Math.min(3, md.brokers.length)
    try {
      await new Topics(this.kafka).create({ topic: this.topic, partitions: 1, replicationFactor, configs: { 'cleanup.policy': 'compact' } })
    } catch (err) {
      // It exists, yet the metadata does not show it: the connector's user may not describe it.
      if (err instanceof TopicExistsError) throw new KafkaNotAuthorizedError(`The state topic '${this.topic}' exists but is hidden from the connector's user.`, err)
      throw err
    }
    // Created (Topics.create waits until the metadata shows it), yet still not shown: hidden from this user.
    if (!await visible()) throw new KafkaNotAuthorizedError(`The state topic '${this.topic}' was created but is hidden from the connector's user.`)
    this.log.info({ topic: this.topic, replicationFactor }, 'created the state topic')
  }

  private tail (): void {
    if (this.closed) return
    this.timer = setTimeout(() => {
      this.pump(0).catch((err: unknown) => this.log.warn({ err }, 'reading the state topic failed')).finally(() => this.tail())
    }, TAIL_MS)
    this.timer.unref()
  }

  /** Applies what the consumer has fetched (waiting up to waitMs for the first record); one pump at a time. */
  private async pump (waitMs: number): Promise<void> {
    const run = this.pumping.then(async () => {
      const consumer = this.consumer
      if (!consumer || this.closed) return
      const messages = await pollBatch(consumer, 1000, waitMs)
      for (const m of messages) this.apply(m)
    })
    this.pumping = run.catch(() => undefined)
    await run
  }

  private apply (m: Message): void {
    this.next = Math.max(this.next, m.offset + 1)
    const key = m.key === undefined || m.key === null ? '' : m.key.toString()
    const value = m.value === null || m.value === undefined ? null : m.value.toString('utf8')
    if (key.startsWith('replica/')) {
      const id = key.slice('replica/'.length)
      const record = value === null ? undefined : parseReplicaRecord(value)
      if (record) this.replicas.set(id, record)
      else this.replicas.delete(id)
      return
    }
    if (!key.startsWith('consumer/')) return
    const record = value === null ? undefined : parseConsumerRecord(value)
    if (value !== null && !record) this.log.warn({ key, offset: m.offset }, 'a state record that is not a consumer definition: ignored')
    const entry = record ? { ...record, offset: m.offset } : undefined
    if (entry) this.consumers.set(key, entry)
    else this.consumers.delete(key)
    for (const listener of this.listeners) listener(key, entry, m.offset)
  }
}
