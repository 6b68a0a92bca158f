// Stateless reads of one partition: the records from an offset (or from a timestamp), with nothing kept on the
// server between requests, so any replica answers and a retry returns the same records.
//
// A read takes a consumer of a small pool, assigns it the partition at the start offset (no group membership: the
// consumers never subscribe nor commit), polls until it has what was asked for, unassigns it and gives it back. What
// a read returns is decided by the log alone: the first records from the start offset, at most `maxRecords` of them
// and (past the first) at most `maxBytes` of keys and values, and none past the end of the log as the read found it
// (its high watermark), so a retry of the same read returns the same records once they exist. When no record is past
// the start offset the read waits up to `timeoutMs` for the first one to arrive, and returns what arrived.
import { KafkaConsumer, type LibrdKafkaError, type Message, type TopicPartitionOffset } from '@confluentinc/kafka-javascript'
import type { Log } from './log'
import { KoshaError, OffsetOutOfRangeError, PartitionNotFoundError, ShuttingDownError } from '../lib/errors'
import { fromCallback } from './callback'
import { consumerConfig, type KafkaSettings } from './client-config'
import { existingTopic, partitionWatermarks } from './cluster'
import type { KafkaConnection, Watermarks } from './connection'
import { fromKafkaError } from './errors'
import { pollBatch, POLL_SLICE_MS } from './consumers/session'
import { recordBytes } from './consumers/decode'
import { consumed, traced } from './tracing'
import { listenForErrors } from './client-errors'

/** Where a read starts: an offset, the partition's first or next offset, or the first record at or after a time (ms). */
export type ReadStart = { offset: number | 'earliest' | 'latest' } | { timestamp: number }

export interface ReadRequest {
  topic: string
  partition: number
  start: ReadStart
  maxRecords: number
  maxBytes: number
  /** How long to wait for a first record when none is past the start offset. */
  timeoutMs: number
  /** The caller went away: stop waiting. */
  abandoned?: () => boolean
}

export interface ReadResult {
  messages: Message[]
  /** The offset after the last record returned (the start offset when none was): where the next page starts. */
  nextOffset: number
  /** The partition's watermarks when the read started. */
  watermarks: Watermarks
}

/**
 * How many consumers read at once; further reads wait for one to be free. A consumer waiting for records holds a
 * libuv worker thread for a poll slice at a time (Node has four by default, shared with the consumer engine).
 */
export const READ_CONSUMERS = 4
/** The consumers' group id: librdkafka requires one, but a read never joins, subscribes nor commits. */
export const READS_GROUP = 'kosha-reads'

export class Reads {
  private readonly idle: KafkaConsumer[] = []
  private readonly waiting: Array<{ resolve: (c: KafkaConsumer) => void, reject: (err: unknown) => void }> = []
  private readonly all = new Set<KafkaConsumer>()
  private creating = 0
  private disconnecting = 0
  private closing = false
  private allGone: (() => void) | undefined

  constructor (private readonly kafka: KafkaConnection, private readonly settings: KafkaSettings, private readonly log: Log, private readonly size = READ_CONSUMERS) {}

  /** Traced as one `receive` span, linked to the producers of the records it brought (their traceparent headers). */
  async read (r: ReadRequest): Promise<ReadResult> {
    return await traced(`receive ${r.topic}`, () => ({ 'messaging.operation.name': 'receive', 'messaging.operation.type': 'receive', 'messaging.destination.partition.id': String(r.partition) }),
      async (span) => {
        const result = await this.readNow(r)
        consumed(span, result.messages)
        return result
      })
  }

  private async readNow (r: ReadRequest): Promise<ReadResult> {
    if (this.closing) throw new ShuttingDownError()
    const { partitions } = await existingTopic(this.kafka, r.topic)
    if (!partitions.some((p) => p.id === r.partition)) throw new PartitionNotFoundError(r.topic, r.partition)
    const watermarks = await partitionWatermarks(this.kafka, r.topic, r.partition)
    const consumer = await this.acquire()
    let healthy = true
    try {
      const start = await this.startOffset(consumer, r, watermarks)
      if (start >= watermarks.high && r.timeoutMs === 0) return { messages: [], nextOffset: start, watermarks }
      const messages = await this.collect(consumer, r, start, watermarks)
      const last = messages[messages.length - 1]
      return { messages, nextOffset: last !== undefined ? last.offset + 1 : start, watermarks }
    } catch (err) {
      // A catalogue error is the request's (an offset out of range); a client's error leaves the consumer in doubt.
      healthy = err instanceof KoshaError
      throw fromKafkaError(err, { topic: r.topic, partition: r.partition })
    } finally {
      this.release(consumer, healthy)
    }
  }

  /**
   * Stops: later reads answer ShuttingDownError, reads waiting for a record answer what they have, and every
   * consumer is disconnected (a busy one once its read is done). Resolves when none is left.
   */
  async close (): Promise<void> {
    this.closing = true
    for (const w of this.waiting.splice(0)) w.reject(new ShuttingDownError())
    await Promise.all(this.idle.splice(0).map(async (c) => await this.disconnect(c)))
    while (this.all.size + this.creating + this.disconnecting > 0) await new Promise<void>((resolve) => { this.allGone = resolve })
  }

  private async startOffset (consumer: KafkaConsumer, r: ReadRequest, range: Watermarks): Promise<number> {
    const start = r.start
    if ('timestamp' in start) {
      const [found] = await fromCallback<TopicPartitionOffset[]>((done) => consumer.offsetsForTimes(
        [{ topic: r.topic, partition: r.partition, offset: start.timestamp }], this.settings.kafkaTimeoutMs, done))
      // No record at or after the time: the end, where the next record will go.
      return found === undefined || found.offset < 0 ? range.high : found.offset
    }
    const offset = start.offset
    if (offset === 'earliest') return range.low
    if (offset === 'latest') return range.high
    if (offset < range.low || offset > range.high) throw new OffsetOutOfRangeError(r.topic, r.partition, offset, range)
    return offset
  }

  /** The records from `start`: up to the counts asked, and not past the high watermark the read began with. */
  private async collect (consumer: KafkaConsumer, r: ReadRequest, start: number, range: Watermarks): Promise<Message[]> {
    consumer.assign([{ topic: r.topic, partition: r.partition, offset: start }])
    try {
      // Records that exist come within the Kafka timeout; when none exists yet, the caller said how long to wait.
      const deadline = Date.now() + (start < range.high ? Math.max(r.timeoutMs, this.settings.kafkaTimeoutMs) : r.timeoutMs)
      const out: Message[] = []
      let bytes = 0
      let next = start
      for (;;) {
        const wait = Math.max(0, Math.min(POLL_SLICE_MS, deadline - Date.now()))
        const batch = await pollBatch(consumer, r.maxRecords - out.length, out.length > 0 ? POLL_SLICE_MS : wait)
        const fresh = batch.filter((m) => m.topic === r.topic && m.partition === r.partition && m.offset >= next)
        for (const m of fresh) {
          // max_bytes keeps whole records, and always the first.
          bytes += recordBytes(m)
          if (out.length > 0 && bytes > r.maxBytes) return out
          out.push(m)
          next = m.offset + 1
          if (out.length >= r.maxRecords) return out
        }
        if (out.length > 0) {
          // Up to the end as the read found it; past that (or when nothing more is fetched, e.g. only transaction
          // markers remain) the page ends.
          if (next >= range.high || fresh.length === 0) return out
          continue
        }
        if (Date.now() >= deadline || r.abandoned?.() === true || this.closing) return out
      }
    } finally {
      consumer.unassign()
    }
  }

  private async acquire (): Promise<KafkaConsumer> {
    const free = this.idle.pop()
    if (free !== undefined) return free
    if (this.all.size + this.creating < this.size) {
      this.creating++
      try {
        const consumer = new KafkaConsumer(...consumerConfig(this.settings, READS_GROUP, 'reads', { offsetReset: 'earliest' }))
        listenForErrors(consumer, this.log)
        consumer.on('event.error', (err: LibrdKafkaError) => { this.log.warn({ code: err.code }, err.message) })
        await fromCallback<unknown>((done) => consumer.connect({ timeout: this.settings.kafkaTimeoutMs }, done))
          .catch((err: unknown) => { throw fromKafkaError(err, { resource: 'the cluster' }) })
        this.all.add(consumer)
        if (this.closing) {
          this.release(consumer, false)
          throw new ShuttingDownError()
        }
        return consumer
      } finally {
        this.creating--
      }
    }
    return await new Promise<KafkaConsumer>((resolve, reject) => { this.waiting.push({ resolve, reject }) })
  }

  /** A consumer back to the pool (or to the next waiting read); one a Kafka error left in doubt is replaced. */
  private release (consumer: KafkaConsumer, healthy: boolean): void {
    if (this.closing || !healthy) {
      this.disconnect(consumer).catch(() => undefined)
      const next = this.closing ? undefined : this.waiting.shift()
      if (next !== undefined) this.acquire().then(next.resolve, next.reject)
      return
    }
    const next = this.waiting.shift()
    if (next !== undefined) next.resolve(consumer)
    else this.idle.push(consumer)
  }

  private async disconnect (consumer: KafkaConsumer): Promise<void> {
    // Out of the count at once, so that a waiting read may have a new one while this one disconnects.
    this.all.delete(consumer)
    this.disconnecting++
    try {
      if (consumer.isConnected()) await new Promise<void>((resolve) => { consumer.disconnect(() => resolve()) })
    } finally {
      this.disconnecting--
      this.allGone?.()
    }
  }
}
