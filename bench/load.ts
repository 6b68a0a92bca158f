// Load loops shared by every arm, so that the native ceiling and the HTTP arms are driven the same way.
// Every loop is bounded in count and in time.
import { performance } from 'node:perf_hooks'
import type { Latency } from './types'

/** What one request achieved: its status ("200", "error", "ok") and how many records it got acknowledged. */
export interface Sent { status: string, records: number }
export type Send = () => Promise<Sent>

export interface LoadResult {
  requests: number
  records: number
  elapsedSec: number
  statuses: Record<string, number>
  latencyMs: Latency
}

class Tally {
  requests = 0
  records = 0
  statuses: Record<string, number> = {}
  latencies: number[] = []

  add (sent: Sent, latencyMs: number): void {
    this.requests++
    this.records += sent.records
    this.statuses[sent.status] = (this.statuses[sent.status] ?? 0) + 1
    this.latencies.push(latencyMs)
  }

  result (elapsedSec: number): LoadResult {
    return { requests: this.requests, records: this.records, elapsedSec, statuses: this.statuses, latencyMs: percentiles(this.latencies) }
  }
}

export function percentiles (values: number[]): Latency {
  const sorted = Float64Array.from(values).sort()
  const at = (p: number): number => sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: at(1), count: sorted.length }
}

async function settle (send: Send): Promise<Sent> {
  try {
    return await send()
  } catch {
    return { status: 'error', records: 0 }
  }
}

/** `concurrency` senders, each sending its next request when the last one answered, until either bound is hit. */
export async function closedLoop (options: { concurrency: number, maxRequests: number, durationMs: number, send: Send }): Promise<LoadResult> {
  const tally = new Tally()
  const started = performance.now()
  const deadline = started + options.durationMs
  let issued = 0
  async function worker (): Promise<void> {
    while (issued < options.maxRequests && performance.now() < deadline) {
      issued++
      const t0 = performance.now()
      const sent = await settle(options.send)
      tally.add(sent, performance.now() - t0)
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  return tally.result((performance.now() - started) / 1000)
}

/**
 * Requests at a fixed rate whatever the answers do (open loop). Latency counts from the moment a request was due,
 * not from when it left, so a stall shows in the percentiles instead of quietly lowering the load.
 */
export async function openLoop (options: { rate: number, durationMs: number, send: Send, drainMs?: number }): Promise<LoadResult> {
  const tally = new Tally()
  const total = Math.floor(options.rate * options.durationMs / 1000)
  const interval = 1000 / options.rate
  const started = performance.now()
  const inFlight = new Set<Promise<void>>()
  let next = 0
  while (next < total) {
    const now = performance.now()
    while (next < total && started + next * interval <= now) {
      const due = started + next * interval
      const p = settle(options.send).then((sent) => { tally.add(sent, performance.now() - due) })
      inFlight.add(p)
      p.finally(() => inFlight.delete(p)).catch(() => undefined)
      next++
    }
    const wait = started + next * interval - performance.now()
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.floor(wait))))
  }
  const drained = Promise.all(inFlight)
  const limit = new Promise((resolve) => setTimeout(resolve, options.drainMs ?? 30_000).unref())
  await Promise.race([drained, limit])
  const unanswered = inFlight.size
  const result = tally.result((performance.now() - started) / 1000)
  if (unanswered > 0) result.statuses.unanswered = unanswered
  return result
}

/** A JSON record value of exactly `bytes` bytes, the same for every arm. */
export function recordValue (bytes: number): Record<string, string> {
  const skeleton = JSON.stringify({ source: 'kosha-bench', pad: '' })
  return { source: 'kosha-bench', pad: 'x'.repeat(Math.max(0, bytes - skeleton.length)) }
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable between processes on one machine. */
export const nowMs = (): number => performance.timeOrigin + performance.now()

/**
 * Times a drain from its first records to its last, so that what precedes the first fetch (joining, finding the
 * group coordinator, the first fetch's round trip) is not counted as reading speed: the same for every arm.
 */
export class DrainClock {
  private readonly deadline: number
  private first = 0
  private last = 0
  private firstBatch = 0
  received = 0
  requests = 0
  constructor (private readonly records: number, durationMs: number) { this.deadline = nowMs() + durationMs }
  going (): boolean { return this.received < this.records && nowMs() < this.deadline }
  got (count: number): void {
    this.requests++
    if (count === 0) return
    const now = nowMs()
    if (this.received === 0) { this.first = now; this.firstBatch = count }
    this.last = now
    this.received += count
  }

  /** Records after the first batch, over the time from the first batch to the last. */
  result (): { requests: number, records: number, elapsedSec: number } {
    const elapsedSec = Math.max(1e-3, (this.last - this.first) / 1000)
    return { requests: this.requests, records: this.received, elapsedSec: elapsedSec * this.received / Math.max(1, this.received - this.firstBatch) }
  }
}
