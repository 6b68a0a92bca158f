// Producing, for every API (v1, v2, v3): one path, send(topic, records) → one outcome per record. An outcome that
// is ok only ever means the broker acknowledged the record (acks=all).
import { TopicReservedError } from '../lib/errors'
import { existingTopic } from './cluster'
import type { KafkaConnection, OutgoingRecord, Outcome } from './connection'

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
   * with one outcome per record, in order. A missing topic fails the whole call (TopicNotFoundError).
   */
  async send (topic: string, records: OutgoingRecord[]): Promise<Outcome[]> {
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
