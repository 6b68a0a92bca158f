// One consumer as the HTTP APIs hold it: a librdkafka consumer in its group, with a subscription (topics or a
// pattern) or a manual assignment, seeks, commits, and fetches of up to N records. A v1 consumer is a session asked
// for one record at a time; a v2 consumer instance asks for as many as its answer's max_bytes holds. Requests on one
// session are served one at a time, in arrival order (request-queue.ts), so concurrent requests each get their own
// records.
//
// Delivery, at least once: the records of a fetch stay held (the queue with them) until the caller says whether it
// handed them to its client (`delivered`: they count as delivered, and are committed when the session auto-commits)
// or not (`lost`: the session seeks back, so the same records come again). The HTTP side decides which, from the
// socket (http/deliver-once.ts); this module never sees it.
import {
  CODES, KafkaConsumer, type LibrdKafkaError, type Message, type TopicPartition, type Metadata, type TopicPartitionOffset
} from '@confluentinc/kafka-javascript'
import type { Log } from '../log'
import {
  ConsumerNotFoundError, IllegalStateError, KafkaTimeoutError, KafkaUnavailableError, PartitionNotFoundError, TopicNotFoundError, type KoshaError
} from '../../lib/errors'
import { fromCallback } from '../callback'
import { consumerConfig, type ConsumerOptions, type KafkaSettings } from '../client-config'
import { fromKafkaError, kafkaCode } from '../errors'
import { recordBytes, type Format } from './decode'
import { RequestQueue } from './request-queue'
import { forget } from './forget'
import { consumed, traced } from '../tracing'
import { listenForErrors } from '../client-errors'

// The binding has these but its types do not declare them: commitCb (commit with a completion callback), and the
// switch that makes consume(n) wait only for the first record instead of for each of the n.
declare module '@confluentinc/kafka-javascript' {
  interface KafkaConsumer {
    commitCb: (toppars: TopicPartitionOffset[], cb: (err: LibrdKafkaError | null) => void) => this
    setDefaultIsTimeoutOnlyForFirstMessage: (isTimeoutOnlyForFirstMessage: boolean) => void
  }
}

/** A fetch waits in slices of this long (a consume call holds a libuv worker thread while it waits), for up to BATCH records. */
export const POLL_SLICE_MS = 200
/** Records asked of librdkafka per poll. */
export const BATCH = 500
/** Filling an answer, a poll waits at most this long for records not fetched yet (the broker is sending them). */
const FILL_SLICE_MS = 10
/**
 * Filling stops at a poll that brings fewer records than this (or than it asked for): records are no longer coming
 * in bulk from a backlog but one by one as they are produced, and the answer would otherwise wait for its timeout
 * (benchmark e2e, records produced at 200/s read by a client polling with timeout=500: 229 ms from send to receipt
 * at the median before this rule, 17 ms with it; a drain still gets answers of 5,000 records).
 */
const FILL_MIN_RECORDS = 50
const OFFSET_BEGINNING = -2
const OFFSET_END = -1
const keyOf = (tp: TopicPartition): string => `${tp.topic}:${tp.partition}`

/**
 * Up to `count` records: waits up to `sliceMs` for the first, then takes only what is already fetched. (By default
 * the binding waits up to the timeout for every one of the `count`, so a trickle of records was held back until 500
 * had come or a gap of `sliceMs` appeared: more than a second of added latency at 200 records/s.)
 */
export async function pollBatch (consumer: KafkaConsumer, count: number, sliceMs: number): Promise<Message[]> {
  consumer.setDefaultConsumeTimeout(sliceMs)
  consumer.setDefaultIsTimeoutOnlyForFirstMessage(true)
  return await fromCallback<Message[]>((done) => consumer.consume(count, done))
}

/** Names a consumer: a v1 consumer by its name alone, a v2 consumer instance by its name within its group. */
/**
 * A consumer's name (v1), or its instance name and group (v2). owner (KAFKA_IDENTITY=caller): the Kafka principal
 * that created it, the only one it answers; any other caller is told it does not exist.
 */
export interface ConsumerId { name: string, group?: string, owner?: string }

export interface SessionOptions extends ConsumerOptions {
  id: ConsumerId
  /** The Kafka group the consumer joins. */
  groupId: string
  /** Commit what a fetch's caller delivered, as soon as it did. */
  autoCommit: boolean
  /** How a v2 instance presents its records. */
  format: Format
  /** A fetch's wait when the request names none. */
  requestTimeoutMs: number
}

/** offset -1: the group has committed none for the partition. */
export interface Committed { topic: string, partition: number, offset: number }

/** What a session reads from: its subscription (topics, or a pattern as one '^...' entry) or its assignment. */
export interface Subscription {
  mode: 'none' | 'subscribed' | 'assigned'
  topics: string[]
  partitions: TopicPartition[]
}

/** Everything needed to create the same session again, in another process: its options and what it reads. */
export interface ConsumerDefinition extends SessionOptions, Subscription {}

export interface SessionHooks {
  /** Unused this long, the session calls onIdle. */
  idleMs: number
  onIdle: () => void
  /** Another process started this consumer's static member (group.instance.id): this one is fenced off. */
  onFenced?: () => void
  /** The subscription or assignment changed: awaited before the request that changed it is answered. */
  onChange?: (definition: ConsumerDefinition) => Promise<void>
}

// librdkafka reports a fenced static member as a fatal error: the client is unusable from then on.
const FENCED = new Set<number>([CODES.ERRORS.ERR__FATAL, CODES.ERRORS.ERR_FENCED_INSTANCE_ID])
const ASSIGN_PARTITIONS = CODES.ERRORS.ERR__ASSIGN_PARTITIONS

/** The records of one fetch, held until the caller says what became of them (exactly one of the two, once). */
export interface Fetched {
  messages: Message[]
  /** The caller's client has them: they count as delivered (and are committed, with auto-commit). */
  delivered: () => void
  /** They never reached the client: the next fetch returns them again. */
  lost: () => void
}

export interface FetchOptions { max: number, maxBytes?: number, timeoutMs?: number, abandoned?: () => boolean }

export class ConsumerSession {
  readonly id: ConsumerId
  readonly groupId: string
  readonly format: Format
  readonly autoCommit: boolean
  readonly requestTimeoutMs: number
  mode: Subscription['mode'] = 'none'
  topics: string[] = []
  closed = false
  private partitions: TopicPartition[] = []
  private readonly options: SessionOptions
  private readonly onChange: NonNullable<SessionHooks['onChange']>
  private readonly onFenced: () => void
  /** Whether the group gave this consumer an assignment since it last subscribed. */
  private hasJoined = true
  private readonly consumer: KafkaConsumer
  private readonly queue: RequestQueue
  private readonly timeoutMs: number
  /** Per partition, the offset after the last record a delivered fetch carried: what "commit all" commits. */
  private readonly deliveredOffsets = new Map<string, TopicPartitionOffset>()

  constructor (settings: KafkaSettings, options: SessionOptions, private readonly log: Log, hooks: SessionHooks) {
    this.options = options
    this.onChange = hooks.onChange ?? (async () => undefined)
    this.id = options.id
    this.groupId = options.groupId
    this.format = options.format
    this.autoCommit = options.autoCommit
    this.requestTimeoutMs = options.requestTimeoutMs
    this.timeoutMs = settings.kafkaTimeoutMs
    this.onFenced = () => { if (!this.closed) hooks.onFenced?.() }
    const [global, topic] = consumerConfig(settings, options.groupId, options.id.name, options)
    // rebalance_cb: the binding assigns as librdkafka does by default, and tells when the group has assigned.
    this.consumer = new KafkaConsumer({ ...global, rebalance_cb: true }, topic)
    listenForErrors(this.consumer, this.log)
    this.consumer.on('rebalance', (err: LibrdKafkaError) => { if (err.code === ASSIGN_PARTITIONS) this.hasJoined = true })
    this.consumer.on('event.error', (err: LibrdKafkaError) => {
      this.log.warn({ code: err.code }, err.message)
      if (FENCED.has(err.code)) this.onFenced()
    })
    this.queue = new RequestQueue(hooks.idleMs, hooks.onIdle)
  }

  /** The options and the subscription or assignment: what creates this session again elsewhere. */
  definition (): ConsumerDefinition {
    return { ...this.options, mode: this.mode, topics: [...this.topics], partitions: this.partitions.map((p) => ({ topic: p.topic, partition: p.partition })) }
  }

  /** Reads what a definition says this consumer reads (a takeover); positions come from the committed offsets. */
  async restore (subscription: Subscription): Promise<void> {
    await this.serial(() => {
      if (subscription.mode === 'subscribed' && subscription.topics.length > 0) this.subscribing(subscription.topics)
      else if (subscription.mode === 'assigned') this.consumer.assign(subscription.partitions.map((p) => ({ topic: p.topic, partition: p.partition })))
      else return
      this.mode = subscription.mode
      this.topics = [...subscription.topics]
      this.partitions = subscription.partitions.map((p) => ({ topic: p.topic, partition: p.partition }))
    })
  }

  async connect (): Promise<void> {
    await fromCallback<unknown>((done) => this.consumer.connect({ timeout: this.timeoutMs }, done))
      .catch((err: unknown) => { throw fromKafkaError(err, { resource: `consumer '${this.id.name}'` }) })
    this.queue.touch()
  }

  /** Runs one request's work on the session, in turn; a Kafka client's error comes out classified. */
  async serial<T> (work: () => Promise<T> | T): Promise<T> {
    const release = await this.queue.enqueue()
    try {
      this.assertOpen()
      return await work()
    } catch (err) {
      throw this.failed(err)
    } finally {
      release()
    }
  }

  /** A Kafka client's error, classified; a fatal one (this static member was fenced) ends the session. */
  private failed (err: unknown): KoshaError {
    if (kafkaCode(err) === CODES.ERRORS.ERR__FATAL) this.onFenced()
    return fromKafkaError(err)
  }

  /** Subscribing makes the consumer join its group again: a commit waits for that (see commit). */
  private subscribing (topics: string[]): void {
    this.hasJoined = false
    this.consumer.subscribe(topics)
  }

  /** Subscribes to topics (v1: `add` keeps the ones already subscribed) or to a pattern. */
  async subscribe (target: { topics: string[], add?: boolean } | { pattern: string }): Promise<string[]> {
    return await this.serial(async () => {
      if (this.mode === 'assigned') throw new IllegalStateError('This instance has assigned partitions: it cannot also subscribe.')
      // librdkafka treats a topic starting with ^ as a regular expression.
      const topics = 'pattern' in target
        ? [target.pattern.startsWith('^') ? target.pattern : `^${target.pattern}`]
        : target.add === true ? [...new Set([...this.topics, ...target.topics])] : target.topics
      this.subscribing(topics)
      this.topics = topics
      this.mode = 'subscribed'
      await this.onChange(this.definition())
      return [...topics]
    })
  }

  async unsubscribe (): Promise<void> {
    await this.serial(async () => {
      if (this.mode === 'subscribed') {
        this.consumer.unsubscribe()
        this.mode = 'none'
      }
      this.topics = []
      await this.onChange(this.definition())
    })
  }

  async assign (partitions: TopicPartition[]): Promise<void> {
    await this.serial(async () => {
      if (this.mode === 'subscribed') throw new IllegalStateError('This instance is subscribed: it cannot also take manual assignments.')
      this.consumer.assign(partitions.map((p) => ({ topic: p.topic, partition: p.partition })))
      this.mode = partitions.length > 0 ? 'assigned' : 'none'
      this.partitions = partitions.map((p) => ({ topic: p.topic, partition: p.partition }))
      await this.onChange(this.definition())
    })
  }

  assignments (): TopicPartition[] {
    this.assertOpen()
    return this.consumer.assignments().map((p) => ({ topic: p.topic, partition: p.partition }))
  }

  /** Moves assigned partitions to offsets, or to the first record at or after a timestamp (the end when none is). */
  async seek (to: { offsets?: TopicPartitionOffset[], timestamps?: Array<TopicPartition & { timestamp: number }> }): Promise<void> {
    await this.serial(async () => {
      const offsets = to.offsets ?? []
      const times = to.timestamps ?? []
      this.assertAssigned([...offsets, ...times])
      const byTime = times.length === 0
        ? []
        : await fromCallback<TopicPartitionOffset[]>((done) => this.consumer.offsetsForTimes(
          times.map((t) => ({ topic: t.topic, partition: t.partition, offset: t.timestamp })), this.timeoutMs, done))
      // A timestamp after the last record gives no offset (-1): the partition's end, where the next record lands.
      await this.seekAll([...offsets, ...byTime.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset < 0 ? OFFSET_END : o.offset }))])
    })
  }

  async seekToEdge (partitions: TopicPartition[], edge: 'beginning' | 'end'): Promise<void> {
    await this.serial(async () => {
      this.assertAssigned(partitions)
      await this.seekAll(partitions.map((p) => ({ topic: p.topic, partition: p.partition, offset: edge === 'beginning' ? OFFSET_BEGINNING : OFFSET_END })))
    })
  }

  /**
   * Commits the offsets given, or (none given) the offsets after every record delivered so far; answers them. A
   * subscribed consumer still joining its group waits until it has joined: a static member committing before it has
   * a member id is fenced by the broker (FENCED_INSTANCE_ID, fatal in librdkafka).
   */
  async commit (offsets?: TopicPartitionOffset[]): Promise<Committed[]> {
    return await this.serial(async () => {
      const targets = offsets ?? [...this.deliveredOffsets.values()]
      if (targets.length > 0 && this.mode === 'subscribed') await this.joinedWithin(this.timeoutMs)
      if (targets.length > 0) await this.commitStored(targets)
      return targets.map((t) => ({ topic: t.topic, partition: t.partition, offset: t.offset }))
    })
  }

  /** The group's committed offsets of the partitions (default: the assigned ones). */
  async committed (partitions?: TopicPartition[]): Promise<Committed[]> {
    return await this.serial(async () => {
      const asked = partitions ?? this.assignments()
      if (asked.length === 0) return []
      const result = await fromCallback<TopicPartitionOffset[]>((done) => this.consumer.committed(asked, this.timeoutMs, done))
      // A partition without a committed offset comes back without one (or librdkafka's invalid offset, -1001): -1.
      return result.map((t) => ({ topic: t.topic, partition: t.partition, offset: typeof t.offset === 'number' && t.offset >= 0 ? t.offset : -1 }))
    })
  }

  /**
   * Up to `max` records (and, past the first, at most `maxBytes` of keys and values), waiting up to `timeoutMs` for
   * the first. The session stays held until the caller settles the fetch (see the top of the file); a fetch that
   * found nothing is settled already. `abandoned` stops the wait early (the client went away). Traced as one
   * `receive` span, linked to the producers of the records it brought (their traceparent headers).
   */
  async fetch (options: FetchOptions): Promise<Fetched> {
    return await traced('receive', () => ({ 'messaging.operation.name': 'receive', 'messaging.operation.type': 'receive', 'messaging.consumer.group.name': this.groupId }),
      async (span) => {
        const fetched = await this.fetchRecords(options)
        consumed(span, fetched.messages)
        return fetched
      })
  }

  private async fetchRecords (options: FetchOptions): Promise<Fetched> {
    const deadline = Date.now() + (options.timeoutMs ?? this.requestTimeoutMs)
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY
    const release = await this.queue.enqueue()
    let messages: Message[] = []
    try {
      this.assertOpen()
      do {
        messages = await pollBatch(this.consumer, Math.min(options.max, BATCH), Math.max(0, Math.min(POLL_SLICE_MS, deadline - Date.now())))
      } while (messages.length === 0 && Date.now() < deadline && !this.closed && options.abandoned?.() !== true)
      // Filling the answer: past the first records, what is fetched already or arrives within FILL_SLICE_MS, up to
      // `max` records and `maxBytes`, within the deadline. Each poll asks for about as many records as the budget
      // has room for (by the size of those so far), so that little is given back below.
      let bytes = 0
      for (const m of messages) bytes += recordBytes(m)
      while (messages.length > 0 && messages.length < options.max && bytes < maxBytes && Date.now() < deadline && !this.closed && options.abandoned?.() !== true) {
        const room = Math.ceil((maxBytes - bytes) / Math.max(1, bytes / messages.length))
        const asked = Math.max(1, Math.min(BATCH, options.max - messages.length, room))
        const more = await pollBatch(this.consumer, asked, FILL_SLICE_MS)
        for (const m of more) { messages.push(m); bytes += recordBytes(m) }
        if (more.length < Math.min(asked, FILL_MIN_RECORDS)) break
      }
      // max_bytes: keep whole records up to the budget (always at least one); give the rest back by seeking.
      if (bytes > maxBytes) {
        let kept = 0
        const keep = messages.findIndex((m, n) => { kept += recordBytes(m); return n > 0 && kept > maxBytes })
        if (keep > 0) {
          const rest = messages.slice(keep)
          messages = messages.slice(0, keep)
          await this.seekAll(firstOffsets(rest))
        }
      }
    } catch (err) {
      release()
      throw this.failed(err)
    }
    if (messages.length === 0) {
      release()
      return { messages, delivered: () => undefined, lost: () => undefined }
    }
    let settled = false
    const fetched = messages
    return {
      messages,
      delivered: () => {
        if (settled) return
        settled = true
        const next = new Map<string, TopicPartitionOffset>()
        for (const m of fetched) next.set(keyOf(m), { topic: m.topic, partition: m.partition, offset: m.offset + 1 })
        for (const [k, v] of next) this.deliveredOffsets.set(k, v)
        if (this.autoCommit) {
          this.consumer.commitCb([...next.values()], (err) => { if (err) this.log.warn({ code: err.code }, 'commit failed: records may come again') })
        }
        release()
      },
      lost: () => {
        if (settled) return
        settled = true
        this.log.warn({ records: fetched.length }, 'the response carrying records was not delivered: it will be returned again')
        this.seekAll(firstOffsets(fetched)).catch((err: unknown) => this.log.error({ err }, 'seeking back failed')).finally(release)
      }
    }
  }

  /** Closes the consumer once the requests already queued are done; idempotent. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.queue.stop()
    await this.queue.drained()
    if (this.consumer.isConnected()) await new Promise<void>((resolve) => { this.consumer.disconnect(() => resolve()) })
    forget(this.consumer)
  }

  /**
   * Commits and resolves once the group's coordinator holds these offsets. librdkafka's commit (commitCb) calls back
   * once the commit is queued, not once the coordinator stored it: a commit sent while the coordinator moves to
   * another broker was lost without an error (test/faults.test.ts). So the offsets are read back from the
   * coordinator (an OffsetFetch, sent after the commit on the same connection), and committed again until they hold;
   * past KAFKA_TIMEOUT_MS, KafkaUnavailableError (503: retry the commit).
   */
  private async commitStored (targets: TopicPartitionOffset[]): Promise<void> {
    const deadline = Date.now() + this.timeoutMs
    const asked = targets.map(({ topic, partition }) => ({ topic, partition }))
    let first = true
    for (;;) {
      await fromCallback((done) => this.consumer.commitCb(targets, done))
      const wait = Math.max(deadline - Date.now(), 100)
      const stored = await fromCallback<TopicPartitionOffset[]>((done) => this.consumer.committed(asked, wait, done)).catch(() => [])
      if (targets.every((t) => stored.some((s) => s.topic === t.topic && s.partition === t.partition && s.offset === t.offset))) return
      // A partition that does not exist is never stored, and librdkafka's commit tells nothing of it: ask once.
      if (first) await this.assertPartitionsExist(asked, deadline)
      first = false
      if (Date.now() > deadline) {
        throw new KafkaUnavailableError(`Kafka did not store the commit of consumer '${this.id.name}' within ${this.timeoutMs} ms (the group's coordinator is unavailable): retry the commit.`)
      }
      this.log.warn('a commit was not stored (the group\'s coordinator moved?): committing again')
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }

  /** TopicNotFoundError or PartitionNotFoundError (404) for the first partition the cluster's metadata lacks. */
  private async assertPartitionsExist (partitions: TopicPartition[], deadline: number): Promise<void> {
    const timeout = Math.max(deadline - Date.now(), 100)
    for (const topic of new Set(partitions.map((p) => p.topic))) {
      const metadata = await fromCallback<Metadata>((done) => { this.consumer.getMetadata({ topic, allTopics: false, timeout }, done) })
        .catch(() => undefined)
      // No answer says nothing: the caller's loop goes on (and ends in a 503 if Kafka stays away).
      if (!metadata) return
      const found = metadata.topics.find((t) => t.name === topic)
      if (!found || found.partitions.length === 0) throw new TopicNotFoundError(topic)
      for (const p of partitions) {
        if (p.topic === topic && !found.partitions.some((fp) => fp.id === p.partition)) throw new PartitionNotFoundError(topic, p.partition)
      }
    }
  }

  /**
   * Waits until the group has given this consumer its assignment, polling meanwhile: librdkafka completes a join
   * only while the application polls. Records a poll brings are given back (seek), so the next fetch returns them.
   */
  private async joinedWithin (ms: number): Promise<void> {
    const deadline = Date.now() + ms
    while (!this.hasJoined) {
      if (Date.now() > deadline) throw new KafkaTimeoutError(`Consumer '${this.id.name}' has not joined its group yet: retry the commit.`)
      const messages = await pollBatch(this.consumer, BATCH, 100)
      if (messages.length > 0) await this.seekAll(firstOffsets(messages))
    }
  }

  private assertOpen (): void {
    if (this.closed) throw new ConsumerNotFoundError(this.id.name, this.id.group)
  }

  private assertAssigned (partitions: TopicPartition[]): void {
    const assigned = new Set(this.consumer.assignments().map(keyOf))
    const missing = partitions.find((p) => !assigned.has(keyOf(p)))
    if (missing) throw new IllegalStateError(`Partition ${missing.topic}-${missing.partition} is not assigned to this instance: subscribe and fetch first, or assign it.`)
  }

  private async seekAll (targets: TopicPartitionOffset[]): Promise<void> {
    for (const t of targets) await fromCallback((done) => this.consumer.seek(t, this.timeoutMs, done))
  }
}

/** The offset of the first of the records, per partition: where to seek so that they all come again. */
function firstOffsets (messages: Message[]): TopicPartitionOffset[] {
  const first = new Map<string, TopicPartitionOffset>()
  for (const m of messages) if (!first.has(keyOf(m))) first.set(keyOf(m), { topic: m.topic, partition: m.partition, offset: m.offset })
  return [...first.values()]
}
