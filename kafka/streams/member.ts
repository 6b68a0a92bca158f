// One stream (GET /api/v1/streams/{group}): one member of a Kafka group, with its own subscribed consumer, that
// pushes records to an outlet (the HTTP side: SSE or WebSocket) as they come.
//
// At least once: a record's offset is committed only once the client acknowledged it (or, with commit=auto, once
// it was written to the client's connection). Acknowledging a record acknowledges every record delivered before it
// on the stream. Commits are batched (every COMMIT_EVERY_MS), and always made before partitions are given up in a
// rebalance and when the stream ends. Records delivered and never acknowledged are not committed: whoever holds
// their partition next (another stream of the group, or this one after a rebalance) gets them again.
//
// Bounded memory: the stream holds at most `bufferBytes` of records the outlet could not take yet, and delivers at
// most `maxUnacked` records without their acknowledgement. Past either it pauses its partitions (the consumer
// keeps polling, so it stays in the group, but fetches nothing) and resumes when the outlet drained or acks came.
import {
  CODES, KafkaConsumer, type LibrdKafkaError, type Message, type TopicPartition, type TopicPartitionOffset
} from '@confluentinc/kafka-javascript'
import type { Log } from '../log'
import { fromCallback } from '../callback'
import { consumerConfig, type KafkaSettings } from '../client-config'
import { fromKafkaError, kafkaCode } from '../errors'
import { ValidationError } from '../../lib/errors'
import { recordBytes } from '../consumers/decode'
import { forget, rebalanceThrough, type RebalanceHolder } from '../consumers/forget'
import { POLL_SLICE_MS, pollBatch } from '../consumers/session'
import type { RecordId } from './record-id'
import { SpanKind, context as otelContext, trace, type Link } from '@opentelemetry/api'
import { KAFKA, consumed, tracer } from '../tracing'
import { listenForErrors } from '../client-errors'

export type CommitMode = 'manual' | 'auto'
export type Subscription = { topics: string[] } | { pattern: string }

export interface StreamOptions {
  /** Opaque, unique: what the client names the stream by in commit calls. */
  id: string
  group: string
  subscription: Subscription
  /** Where a partition without a committed offset starts. */
  offsetReset: 'earliest' | 'latest'
  commit: CommitMode
  /** A reconnecting client's last record: its partition, once assigned here, starts right after it. */
  resumeAfter?: RecordId
  /** KAFKA_IDENTITY=caller: the Kafka principal that opened it, the only one whose commits it takes. */
  owner?: string
}

export interface StreamLimits { bufferBytes: number, maxUnacked: number }

export interface Committed { topic: string, partition: number, offset: number }

/** Where a stream's records go: the client's connection. The HTTP side implements it; this module never sees HTTP. */
export interface Outlet {
  /**
   * Writes the records to the client and calls `written` once they were handed to its connection. Answers false
   * when the connection wants draining: the stream then sends nothing more until the outlet calls `drained()`.
   */
  records: (messages: readonly Message[], written: () => void) => boolean
  assigned: (partitions: TopicPartition[]) => void
  revoked: (partitions: TopicPartition[]) => void
  /** The stream is over (shutdown, or its consumer failed): tell the client why and close the connection. */
  end: (reason: string) => void
}

/** What an acknowledgement did: acked; ignored (already acknowledged, or a partition no longer held); never delivered. */
export type AckResult = 'acked' | 'ignored' | 'not-delivered'

/** Records, and bytes of keys and values, handed to the outlet at most per call (a chunk is written as one piece). */
const CHUNK = 200
const CHUNK_BYTES = 64 * 1024
/** Records asked of librdkafka per poll. */
const POLL_COUNT = 500
const COMMIT_EVERY_MS = 100
/** Heartbeats come each second (client-config.ts); Kafka's brokers accept 6 s and up (group.min.session.timeout.ms). */
export const STREAM_SESSION_TIMEOUT_MS = 10_000
/** After a poll error that is not fatal (a topic deleted meanwhile), wait this long before polling again. */
const ERROR_BACKOFF_MS = 500
const E = CODES.ERRORS

const keyOf = (tp: TopicPartition): string => `${tp.topic}:${tp.partition}`

interface Delivered { offset: number, seq: number }

export class StreamMember {
  readonly id: string
  readonly group: string
  readonly owner: string | undefined
  readonly commitMode: CommitMode
  closed = false
  /** The partitions are paused: the buffer is full, or too many records wait for their acknowledgement. */
  paused = false
  private readonly consumer: KafkaConsumer
  /** Its rebalance handler, reached through this alone (see ../consumers/forget). */
  private readonly rebalanceHolder: RebalanceHolder = {}
  private readonly timeoutMs: number
  private readonly subscription: Subscription
  private readonly offsetReset: 'earliest' | 'latest'
  private outlet?: Outlet
  private resumeAfter?: RecordId
  private readonly assigned = new Map<string, TopicPartition>()
  /** Records polled, not yet handed to the outlet, in order; `head` is the next one. */
  private pending: Message[] = []
  private head = 0
  private pendingBytes = 0
  private outletBlocked = false
  /** Bytes per record lately: a poll asks for no more records than the buffer has room for. */
  private recordSize = 1024
  /** Per partition: records delivered and not yet acknowledged, in delivery order. */
  private readonly unacked = new Map<string, Delivered[]>()
  private unackedCount = 0
  private seq = 0
  /** Per partition: the highest offset this stream ever delivered (an ack beyond it names a record never sent). */
  private readonly deliveredUpTo = new Map<string, number>()
  /** Per partition: the offset to commit (after the last acknowledged record), not committed yet. */
  private readonly toCommit = new Map<string, TopicPartitionOffset>()
  private commitTimer?: NodeJS.Timeout
  /** Rebalance callbacks run one after the other (an assign may wait for the group's committed offsets). */
  private rebalancing: Promise<void> = Promise.resolve()
  private loop?: Promise<void>
  /** The link of each poll's span to the request that opened the stream (tracing on). */
  private requestLink: Link[] = []
  private closing?: Promise<void>

  constructor (settings: KafkaSettings, options: StreamOptions, private readonly limits: StreamLimits,
    private readonly log: Log, private readonly onClosed: () => void) {
    this.id = options.id
    this.group = options.group
    this.owner = options.owner
    this.commitMode = options.commit
    this.timeoutMs = settings.kafkaTimeoutMs
    if (options.resumeAfter) this.resumeAfter = options.resumeAfter
    const [global, topic] = consumerConfig(settings, options.group, `stream-${options.id.slice(0, 8)}`, { offsetReset: options.offsetReset })
    this.consumer = new KafkaConsumer({
      ...global,
      // A stream whose process died (SIGKILL, a lost node) keeps its partitions until the group gives up on it: after
      // STREAM_SESSION_TIMEOUT_MS, not Kafka's default 45 s. The other streams (or the client's reconnect) wait that long.
      'session.timeout.ms': STREAM_SESSION_TIMEOUT_MS,
      rebalance_cb: rebalanceThrough(this.rebalanceHolder)
    }, topic)
    this.rebalanceHolder.handler = (err, partitions) => { this.rebalance(err, partitions) }
    listenForErrors(this.consumer, this.log)
    this.consumer.on('event.error', (err: LibrdKafkaError) => { this.log.warn({ code: err.code }, err.message) })
    this.subscription = options.subscription
    this.offsetReset = options.offsetReset
  }

  async connect (): Promise<void> {
    await fromCallback<unknown>((done) => this.consumer.connect({ timeout: this.timeoutMs }, done))
      .catch((err: unknown) => { throw fromKafkaError(err, { resource: `stream of group '${this.group}'` }) })
  }

  /**
   * Subscribes, before anything is written to the client, so that a subscription librdkafka refuses (a pattern its
   * POSIX regular expressions cannot take, such as a lookahead) is an HTTP answer. The group is joined at the first
   * poll, in start(): no partition is assigned before the outlet exists.
   */
  subscribe (): void {
    // librdkafka treats a topic starting with ^ as a regular expression.
    const s = this.subscription
    try {
      this.consumer.subscribe('pattern' in s ? [s.pattern.startsWith('^') ? s.pattern : `^${s.pattern}`] : s.topics)
    } catch (err) {
      if ('pattern' in s && kafkaCode(err) === E.ERR__INVALID_ARG) {
        throw new ValidationError(`querystring/pattern '${s.pattern.slice(0, 200)}' is not a regular expression Kafka's client accepts (POSIX extended: no lookaround, no backreferences, bounded repeats).`)
      }
      throw fromKafkaError(err, { resource: `stream of group '${this.group}'` })
    }
  }

  /**
   * Starts pushing records to the outlet (subscribe() first). Each poll that brings records is a `receive` span: a
   * trace of its own (a stream lives for hours), linked to the stream's request and to the records' producers.
   */
  start (outlet: Outlet): void {
    if (this.closed || this.outlet) return
    this.outlet = outlet
    const request = trace.getSpanContext(otelContext.active())
    this.requestLink = request !== undefined ? [{ context: request }] : []
    this.loop = this.poll()
  }

  private traceReceived (messages: Message[], startTime: number): void {
    const span = tracer().startSpan('receive', { kind: SpanKind.CLIENT, root: true, startTime, links: this.requestLink })
    if (span.isRecording()) {
      span.setAttributes({ ...KAFKA, 'messaging.operation.name': 'receive', 'messaging.operation.type': 'receive', 'messaging.consumer.group.name': this.group })
      consumed(span, messages)
    }
    span.end()
  }

  /** The outlet can take records again. */
  drained (): void {
    this.outletBlocked = false
    this.pump()
  }

  /** Acknowledges the record and every record delivered before it on this stream; committed within COMMIT_EVERY_MS. */
  ack (id: RecordId): AckResult {
    const key = keyOf(id)
    const upTo = this.deliveredUpTo.get(key)
    if (upTo === undefined || id.offset > upTo) return 'not-delivered'
    if (!this.assigned.has(key)) return 'ignored'
    const list = this.unacked.get(key) ?? []
    let last: Delivered | undefined
    for (const d of list) { if (d.offset > id.offset) break; last = d }
    if (last === undefined) return 'ignored'
    this.ackThrough(last.seq)
    return 'acked'
  }

  /** Acknowledges as `ack` does and commits at once: the offsets this call committed. */
  async commitThrough (id: RecordId): Promise<{ result: AckResult, committed: Committed[] }> {
    const result = this.ack(id)
    if (result === 'not-delivered') return { result, committed: [] }
    return { result, committed: await this.flush() }
  }

  /** Live numbers, for logs and metrics. */
  state (): { assigned: number, buffered: number, bufferedBytes: number, unacked: number, paused: boolean } {
    return { assigned: this.assigned.size, buffered: this.pending.length - this.head, bufferedBytes: this.pendingBytes, unacked: this.unackedCount, paused: this.paused }
  }

  /**
   * Ends the stream: stops polling, commits what was acknowledged, tells the client (`reason`), and leaves the group
   * (the other streams of the group take its partitions over). Idempotent.
   */
  async close (reason: string): Promise<void> {
    this.closing ??= this.shutdown(reason).catch((err: unknown) => { this.log.error({ err }, 'closing the stream failed') })
    await this.closing
  }

  private async shutdown (reason: string): Promise<void> {
    this.closed = true
    clearTimeout(this.commitTimer)
    await this.loop
    await this.rebalancing
    await this.flush()
    this.outlet?.end(reason)
    this.dropPending(() => true)
    if (this.consumer.isConnected()) await new Promise<void>((resolve) => { this.consumer.disconnect(() => resolve()) })
    forget(this.consumer, this.rebalanceHolder)
    this.log.info({ reason }, 'stream closed')
    this.onClosed()
  }

  // ---- polling and delivery ----------------------------------------------------------------------------------------

  private async poll (): Promise<void> {
    while (!this.closed) {
      let messages: Message[]
      const polled = Date.now()
      try {
        const room = Math.max(0, this.limits.bufferBytes - this.pendingBytes)
        messages = await pollBatch(this.consumer, Math.max(1, Math.min(POLL_COUNT, Math.floor(room / this.recordSize))), POLL_SLICE_MS)
      } catch (err) {
        if (this.closed) return
        const e = err as Partial<LibrdKafkaError>
        this.log.warn({ code: e.code }, `stream poll failed: ${e.message ?? String(err)}`)
        if (e.isFatal === true || !this.consumer.isConnected()) {
          this.close('error: the stream\'s Kafka consumer failed').catch(() => undefined)
          return
        }
        await new Promise((resolve) => setTimeout(resolve, ERROR_BACKOFF_MS))
        continue
      }
      let bytes = 0
      for (const m of messages) {
        bytes += recordBytes(m)
        // A record of a partition given up meanwhile is not ours to deliver: its next holder reads it.
        if (!this.assigned.has(keyOf(m))) continue
        this.pending.push(m)
        this.pendingBytes += recordBytes(m)
      }
      if (messages.length > 0) {
        this.recordSize = Math.max(1, Math.round((this.recordSize + bytes / messages.length) / 2))
        this.traceReceived(messages, polled)
      }
      this.pump()
    }
  }

  /** Hands buffered records to the outlet while it takes them and the unacknowledged ones are below the limit. */
  private pump (): void {
    const outlet = this.outlet
    if (!outlet) return
    while (!this.closed && !this.outletBlocked && this.head < this.pending.length && this.unackedCount < this.limits.maxUnacked) {
      const most = Math.min(CHUNK, this.pending.length - this.head, this.limits.maxUnacked - this.unackedCount)
      let n = 0
      for (let bytes = 0; n < most && (n === 0 || bytes < CHUNK_BYTES); n++) bytes += recordBytes(this.pending[this.head + n] as Message)
      const chunk = this.pending.slice(this.head, this.head + n)
      this.head += n
      for (const m of chunk) {
        this.pendingBytes -= recordBytes(m)
        const key = keyOf(m)
        const list = this.unacked.get(key)
        const d = { offset: m.offset, seq: ++this.seq }
        if (list) list.push(d); else this.unacked.set(key, [d])
        this.unackedCount++
        this.deliveredUpTo.set(key, Math.max(this.deliveredUpTo.get(key) ?? -1, m.offset))
      }
      const last = this.seq
      const written = this.commitMode === 'auto' ? () => { if (!this.closed) this.ackThrough(last) } : () => undefined
      if (!outlet.records(chunk, written)) this.outletBlocked = true
    }
    if (this.head === this.pending.length) {
      this.pending = []
      this.head = 0
    } else if (this.head > 4096) {
      this.pending = this.pending.slice(this.head)
      this.head = 0
    }
    this.applyBackpressure()
  }

  private applyBackpressure (): void {
    if (this.closed) return
    const full = this.pendingBytes >= this.limits.bufferBytes || this.unackedCount >= this.limits.maxUnacked
    // Resuming only below half the buffer: a pause makes librdkafka drop what it had fetched ahead.
    const roomy = this.pendingBytes <= this.limits.bufferBytes / 2 && this.unackedCount < this.limits.maxUnacked
    if (full && !this.paused) {
      this.paused = true
      this.setPaused([...this.assigned.values()], true)
      this.log.debug(this.state(), 'stream paused: the client is behind')
    } else if (roomy && this.paused) {
      this.paused = false
      this.setPaused([...this.assigned.values()], false)
      this.log.debug(this.state(), 'stream resumed')
    }
  }

  private setPaused (partitions: TopicPartition[], paused: boolean): void {
    if (partitions.length === 0) return
    try {
      if (paused) this.consumer.pause(partitions); else this.consumer.resume(partitions)
    } catch (err) {
      this.log.warn({ err }, paused ? 'pausing the stream\'s partitions failed' : 'resuming the stream\'s partitions failed')
    }
  }

  // ---- acknowledgements and commits --------------------------------------------------------------------------------

  /** Every record delivered up to sequence number `seq` is acknowledged: their partitions commit past them. */
  private ackThrough (seq: number): void {
    for (const [key, list] of this.unacked) {
      let n = 0
      while (n < list.length && (list[n]?.seq ?? Infinity) <= seq) n++
      if (n === 0) continue
      const last = list[n - 1]
      const tp = this.assigned.get(key)
      if (last && tp) this.toCommit.set(key, { topic: tp.topic, partition: tp.partition, offset: last.offset + 1 })
      list.splice(0, n)
      this.unackedCount -= n
    }
    this.commitTimer ??= setTimeout(() => {
      this.commitTimer = undefined
      this.flush().catch(() => undefined)
    }, COMMIT_EVERY_MS)
    this.pump()
  }

  /** Commits every acknowledged offset not committed yet; answers what it committed. A failure is logged: those records come again. */
  private async flush (): Promise<Committed[]> {
    if (this.toCommit.size === 0) return []
    const targets = [...this.toCommit.values()]
    this.toCommit.clear()
    try {
      await fromCallback((done) => this.consumer.commitCb(targets, done))
    } catch (err) {
      this.log.warn({ code: (err as Partial<LibrdKafkaError>).code }, 'stream commit failed: its records may come again')
      return []
    }
    return targets.map((t) => ({ topic: t.topic, partition: t.partition, offset: t.offset }))
  }

  // ---- rebalances --------------------------------------------------------------------------------------------------

  private rebalance (err: LibrdKafkaError, partitions: TopicPartition[]): void {
    const parts = partitions.map((p) => ({ topic: p.topic, partition: p.partition }))
    const step = err.code === E.ERR__ASSIGN_PARTITIONS
      ? async () => { await this.onAssign(parts) }
      : err.code === E.ERR__REVOKE_PARTITIONS
        ? async () => { await this.onRevoke(parts) }
        : async () => { this.log.warn({ code: err.code }, `stream rebalance failed: ${err.message}`) }
    this.rebalancing = this.rebalancing.then(step).catch((e: unknown) => { this.log.error({ err: e }, 'stream rebalance step failed') })
  }

  private async onAssign (partitions: TopicPartition[]): Promise<void> {
    const assignment = this.closed ? partitions : await this.startPositions(partitions)
    try {
      this.consumer.assign(assignment)
    } catch (err) {
      this.log.warn({ err }, 'assigning the stream\'s partitions failed')
      return
    }
    if (this.closed) return
    for (const p of partitions) this.assigned.set(keyOf(p), p)
    if (this.paused) this.setPaused(partitions, true)
    this.log.info({ partitions: partitions.length }, 'stream assigned partitions')
    this.outlet?.assigned(partitions)
  }

  /**
   * Where each newly assigned partition starts, fixed (and committed) before the client is told of the assignment:
   * - the partition of a reconnecting client's last record starts right after it, unless the group's committed
   *   offset is past it already;
   * - a partition the group never committed starts, with offset=latest, at its end as of now. Left to librdkafka,
   *   "latest" is resolved on the first fetch, a moment after the `assigned` event, and a record produced in that
   *   moment would be skipped. Committing it too means a record produced after the event reaches the group even
   *   if this stream ends before acknowledging anything.
   * When Kafka does not answer, the partitions start where librdkafka puts them (the committed offset or the reset).
   */
  private async startPositions (partitions: TopicPartition[]): Promise<Array<TopicPartition | TopicPartitionOffset>> {
    const resume = this.resumeAfter
    if (resume && partitions.some((p) => keyOf(p) === keyOf(resume))) this.resumeAfter = undefined
    try {
      const committed = await fromCallback<TopicPartitionOffset[]>((done) => this.consumer.committed(partitions, this.timeoutMs, done))
      const at = new Map(committed.map((c) => [keyOf(c), c.offset]))
      const pinned: TopicPartitionOffset[] = []
      for (const p of partitions) {
        const current = at.get(keyOf(p)) ?? -1
        if (resume && keyOf(p) === keyOf(resume) && current < resume.offset + 1) {
          pinned.push({ ...p, offset: resume.offset + 1 })
        } else if (current < 0 && this.offsetReset === 'latest') {
          const marks = await fromCallback<{ highOffset: number }>((done) => this.consumer.queryWatermarkOffsets(p.topic, p.partition, this.timeoutMs, done))
          pinned.push({ ...p, offset: marks.highOffset })
        }
      }
      if (pinned.length === 0) return partitions
      await fromCallback((done) => this.consumer.commitCb(pinned, done))
      const byKey = new Map(pinned.map((p) => [keyOf(p), p]))
      return partitions.map((p) => byKey.get(keyOf(p)) ?? p)
    } catch (err) {
      this.log.warn({ code: (err as Partial<LibrdKafkaError>).code }, 'fixing where the assigned partitions start failed: they start at their committed offset or the reset')
      return partitions
    }
  }

  private async onRevoke (partitions: TopicPartition[]): Promise<void> {
    const gone = new Set(partitions.map(keyOf))
    // What was acknowledged is committed before the partitions go; what was not comes again to their next holder.
    await this.flush()
    for (const key of gone) {
      this.assigned.delete(key)
      this.unackedCount -= this.unacked.get(key)?.length ?? 0
      this.unacked.delete(key)
      this.toCommit.delete(key)
    }
    this.dropPending((m) => gone.has(keyOf(m)))
    try {
      this.consumer.unassign()
    } catch (err) {
      this.log.warn({ err }, 'unassigning the stream\'s partitions failed')
    }
    if (this.closed) return
    this.log.info({ partitions: partitions.length }, 'stream revoked partitions')
    this.outlet?.revoked(partitions)
    this.pump()
  }

  private dropPending (drop: (m: Message) => boolean): void {
    const kept: Message[] = []
    let bytes = 0
    for (let i = this.head; i < this.pending.length; i++) {
      const m = this.pending[i]
      if (m === undefined || drop(m)) continue
      kept.push(m)
      bytes += recordBytes(m)
    }
    this.pending = kept
    this.head = 0
    this.pendingBytes = bytes
  }
}
