// Producing, for every API (v1, v2, v3): one path, send(topic, records) → one outcome per record. An outcome that
// is ok only ever means the broker acknowledged the record (acks=all).
//
// Tracing: each send (or stream of sends, `open`) is one producer span, a child of the context it is given (the
// request's), and every record it sends carries that span's context in a `traceparent` header unless the client set
// one on the record. With tracing off the span is the API's no-op one, whose context is the one it was given: the
// records carry the request's own traceparent unchanged (when it came with a valid one), or no header at all.
import { SpanKind, context as otelContext, type Context, type Span } from '@opentelemetry/api'
import { TopicReservedError } from '../lib/errors'
import { existingTopic } from './cluster'
import type { KafkaConnection, OutgoingRecord, Outcome } from './connection'
import { KAFKA, TRACEPARENT, markFailed, traceparentOf, tracer } from './tracing'

export type { Delivery, OutgoingRecord, Outcome } from './connection'

/** What producing needs of the connection (the HTTP-only benchmark passes a stand-in). */
export type RecordSink = Pick<KafkaConnection, 'produce' | 'metadata'>

export interface ProduceOptions {
  /** Called after every send: records acknowledged, records failed, and the seconds the broker took for them all. */
  onProduced?: (acknowledged: number, failed: number, seconds: number) => void
  /** Topics no client may produce to (the replicas' state topic: its records steer where consumer requests go). */
  reserved?: readonly string[]
}

// A topic seen to exist is trusted for a few seconds: the check costs a metadata round trip, and without it a
// record for a missing topic would wait in librdkafka until its delivery timeout instead of failing at once.
const KNOWN_TOPIC_MS = 5000

export class Produce {
  private readonly known = new Map<string, number>()
  private readonly onProduced: NonNullable<ProduceOptions['onProduced']>
  private readonly reserved: ReadonlySet<string>

  constructor (private readonly kafka: RecordSink, options: ProduceOptions = {}) {
    this.onProduced = options.onProduced ?? (() => undefined)
    this.reserved = new Set(options.reserved ?? [])
  }

  /**
   * Rejects unless the topic may be produced to: TopicReservedError for a reserved topic, TopicNotFoundError unless
   * it exists (a topic seen to exist is trusted for a few seconds).
   */
  async assertTopic (topic: string): Promise<void> {
    if (this.reserved.has(topic)) throw new TopicReservedError(topic)
    const seen = this.known.get(topic)
    if (seen === undefined || Date.now() - seen > KNOWN_TOPIC_MS) {
      await existingTopic(this.kafka, topic)
      this.known.set(topic, Date.now())
    }
  }

  /**
   * Sends records of one topic together (librdkafka batches them; each has its own delivery report) and resolves
   * with one outcome per record, in order. A missing topic fails the whole call (TopicNotFoundError). `parent`: the
   * trace context the send belongs to (default: the active one). The records are the caller's no more: each gets
   * the send's traceparent header (see the top of the file).
   */
  async send (topic: string, records: OutgoingRecord[], parent?: Context): Promise<Outcome[]> {
    const sending = this.open(topic, parent)
    try {
      return await sending.send(records)
    } finally {
      sending.end()
    }
  }

  /**
   * One producer span for several sends to one topic (a stream of records read from one request): `send` as above
   * for each, then `end` once.
   */
  open (topic: string, parent: Context = otelContext.active()): Sending {
    const span = tracer().startSpan(`send ${topic}`, { kind: SpanKind.PRODUCER }, parent)
    return new Sending(this, topic, span)
  }

  /** @internal Sending's way in: the topic check, the send, the metrics. */
  async sendRecords (topic: string, records: OutgoingRecord[]): Promise<Outcome[]> {
    await this.assertTopic(topic)
    const started = process.hrtime.bigint()
    const outcomes = await this.kafka.produce(topic, records)
    const failed = outcomes.filter((o) => !o.ok).length
    // A failure may mean the topic is gone: it is checked again next time.
    if (failed > 0) this.known.delete(topic)
    this.onProduced(outcomes.length - failed, failed, Number(process.hrtime.bigint() - started) / 1e9)
    return outcomes
  }
}

/** The sends of one producer span (Produce.open). */
export class Sending {
  private count = 0
  private failures = 0
  private firstFailure: unknown
  /** The one header every record of this span gets, and the header list of records that had none: shared, not per record. */
  private readonly header: Record<string, string> | undefined
  private readonly onlyHeader: Array<Record<string, string>> | undefined

  constructor (private readonly produce: Produce, private readonly topic: string, private readonly span: Span) {
    const traceparent = traceparentOf(span.spanContext())
    this.header = traceparent !== undefined ? { [TRACEPARENT]: traceparent } : undefined
    this.onlyHeader = this.header !== undefined ? [this.header] : undefined
    if (span.isRecording()) {
      span.setAttributes({ ...KAFKA, 'messaging.operation.name': 'send', 'messaging.operation.type': 'send', 'messaging.destination.name': topic })
    }
  }

  async send (records: OutgoingRecord[]): Promise<Outcome[]> {
    if (this.header !== undefined) for (const r of records) this.stamp(r)
    this.count += records.length
    let outcomes: Outcome[]
    try {
      outcomes = await this.produce.sendRecords(this.topic, records)
    } catch (err) {
      // Nothing was sent (a missing topic, say).
      this.failed(records.length, err)
      throw err
    }
    if (this.span.isRecording()) for (const o of outcomes) if (!o.ok) this.failed(1, o.error)
    return outcomes
  }

  end (): void {
    const span = this.span
    if (span.isRecording()) {
      span.setAttribute('messaging.batch.message_count', this.count)
      if (this.failures > 0) {
        span.setAttribute('kosha.records.failed', this.failures)
        markFailed(span, this.firstFailure)
      }
    }
    span.end()
  }

  private failed (records: number, err: unknown): void {
    this.failures += records
    this.firstFailure ??= err
  }

  /** The record's own traceparent header wins; a record without one gets this span's. */
  private stamp (record: OutgoingRecord): void {
    const headers = record.headers
    if (headers === undefined || headers.length === 0) {
      record.headers = this.onlyHeader
      return
    }
    for (const h of headers) if (TRACEPARENT in h) return
    record.headers = [...headers, this.header as Record<string, string>]
  }
}
