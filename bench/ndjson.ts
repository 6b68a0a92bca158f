// Streaming produce through the v3 records route (routes/v3/records.ts) in NDJSON: one long request per connection,
// its body a stream of record lines written for as long as the run lasts, its answer a stream of delivery reports
// read as they come. A record counts when its report has an offset.
import { Readable } from 'node:stream'
import { Pool } from 'undici'
import { nowMs, percentiles, type LoadResult } from './load'

const NDJSON = 'application/x-ndjson'
// Lines per chunk of the body: large enough that the generator costs little, small enough to keep the stream fine-grained.
const LINES_PER_CHUNK = 100
// Records a stream may have sent without their reports. Without a bound, the sockets' buffers (megabytes each way)
// would hold tens of thousands of lines when the time is up, and the run would last until the service had caught up.
const WINDOW = 2000

/** The id of the cluster the gateway serves (GET /v3/clusters), which the v3 paths name. */
export async function clusterId (pool: Pool): Promise<string> {
  const res = await pool.request({ path: '/v3/clusters', method: 'GET', headers: { accept: 'application/json' } })
  const body = await res.body.json() as { data?: Array<{ cluster_id?: string }> }
  const id = body.data?.[0]?.cluster_id
  if (res.statusCode !== 200 || id === undefined) throw new Error(`GET /v3/clusters: ${res.statusCode} ${JSON.stringify(body)}`)
  return id
}

/**
 * Record lines until the deadline or `maxRecords`, whichever comes first, at most WINDOW ahead of the reports:
 * `reported` is called as reports arrive, and lets a stream that waited for them go on.
 */
function recordLines (value: unknown, deadline: number, maxRecords: number): { body: Readable, reported: (total: number) => void } {
  const line = JSON.stringify({ value: { type: 'JSON', data: value } }) + '\n'
  const chunk = Buffer.from(line.repeat(LINES_PER_CHUNK))
  let sent = 0
  let answered = 0
  let waiting = false
  const next = (body: Readable): void => {
    if (sent >= maxRecords || nowMs() >= deadline) { body.push(null); return }
    if (sent - answered >= WINDOW) { waiting = true; return }
    sent += LINES_PER_CHUNK
    body.push(chunk)
  }
  const body = new Readable({ read () { next(this) } })
  return {
    body,
    reported: (total) => {
      answered = total
      if (waiting) { waiting = false; next(body) }
    }
  }
}

/** Counts the report lines of an answer that carry an offset; a line split across chunks is joined first. */
class Reports {
  private tail = ''
  acknowledged = 0
  failed = 0
  add (text: string): void {
    const lines = (this.tail + text).split('\n')
    this.tail = lines.pop() ?? ''
    for (const l of lines) this.count(l)
  }

  end (): void {
    if (this.tail !== '') this.count(this.tail)
    this.tail = ''
  }

  private count (line: string): void {
    if (line.trim() === '') return
    const report = JSON.parse(line) as { error_code?: number, offset?: unknown }
    if (report.error_code === 200 && typeof report.offset === 'number') this.acknowledged++
    else this.failed++
  }
}

/** `connections` streams at once, each a single POST lasting `durationMs`; the elapsed time runs until the last answer ends. */
export async function ndjsonProduce (o: { origin: string, topic: string, value: unknown, connections: number, durationMs: number, maxRecords: number }): Promise<LoadResult> {
  const pool = new Pool(o.origin, { connections: o.connections, pipelining: 1 })
  try {
    const path = `/v3/clusters/${encodeURIComponent(await clusterId(pool))}/topics/${encodeURIComponent(o.topic)}/records`
    const started = nowMs()
    const deadline = started + o.durationMs
    const statuses: Record<string, number> = {}
    let records = 0
    let failed = 0
    const stream = async (): Promise<void> => {
      const reports = new Reports()
      const lines = recordLines(o.value, deadline, Math.ceil(o.maxRecords / o.connections))
      try {
        const res = await pool.request({
          path,
          method: 'POST',
          headers: { 'content-type': NDJSON, accept: NDJSON },
          body: lines.body,
          headersTimeout: o.durationMs + 60_000,
          bodyTimeout: 60_000
        })
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1
        for await (const chunk of res.body) {
          reports.add((chunk as Buffer).toString('utf8'))
          lines.reported(reports.acknowledged + reports.failed)
        }
        reports.end()
      } catch {
        statuses.error = (statuses.error ?? 0) + 1
      }
      records += reports.acknowledged
      failed += reports.failed
    }
    await Promise.all(Array.from({ length: o.connections }, stream))
    if (failed > 0) statuses['failed reports'] = failed
    return { requests: o.connections, records, elapsedSec: (nowMs() - started) / 1000, statuses, latencyMs: percentiles([]) }
  } finally {
    await pool.close()
  }
}
