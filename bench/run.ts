// `npm run bench`: the native client (ceiling), Strimzi Kafka Bridge and Karapace (peers), the service (us) and the
// HTTP-only reference, side by side on one broker, the same workloads, three repetitions in alternating order.
// `npm run bench -- --smoke`: a few seconds per arm, correctness only (CI runs it). See bench/README.md.
import { execFileSync, spawnSync } from 'node:child_process'
import { cpus, freemem, release, tmpdir, totalmem } from 'node:os'
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { AdminClient, KafkaConsumer, Producer, librdkafkaVersion, type IAdminClient, type Metadata } from '@confluentinc/kafka-javascript'
import { Pool } from 'undici'
import { Ceiling, bridgeJavaHome, bridgeVersion, karapaceEntryPoint, karapaceVersions, startBridge, startHttpOnly, startKarapace, startService, type Gateway, type Process } from './arms'
import { DrainClock, closedLoop, nowMs, openLoop, percentiles, recordValue, type LoadResult } from './load'
import { cpuSeconds, rssSampler } from './proc'
import { ratios, summarise, writeReport } from './report'
import { ConsumerInstance, produceBody, produceSender } from './v2'
import { findWrk, wrkProduce } from './wrk'
import { ndjsonProduce } from './ndjson'
import type { ArmName, Cell, Meta, Workload } from './types'

const root = join(__dirname, '..')
const PARTITIONS = 6

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    reps: { type: 'string' },
    seconds: { type: 'string' },
    out: { type: 'string' },
    arms: { type: 'string' },
    only: { type: 'string' },
    profile: { type: 'string' }
  }
})
const smoke = args.smoke ?? false
const reps = Number(args.reps ?? (smoke ? 1 : 3))
const seconds = Number(args.seconds ?? (smoke ? 1 : 5))
const outDir = args.out ?? (smoke ? join(tmpdir(), 'kosha-bench-smoke') : join(root, 'bench', 'results'))
/** Where the service writes a CPU profile per start (--profile DIR), if asked. */
const profileDir = args.profile !== undefined ? resolve(args.profile) : undefined
const log = (msg: string): void => { process.stderr.write(`bench: ${msg}\n`) }

/** 100 → "100B", 1024 → "1KB", 10240 → "10KB": how workload ids name a value size. */
const sizeName = (bytes: number): string => bytes % 1024 === 0 ? `${bytes / 1024}KB` : `${bytes}B`
const VALUE_SIZES = [100, 1024, 10_240]

function workloads (): Workload[] {
  const all: Workload[] = []
  const gateways: ArmName[] = ['ceiling', 'us', 'bridge', 'karapace']
  const httpGateways: ArmName[] = ['us', 'bridge', 'karapace']
  const produce = (batch: number, valueBytes: number, connections: number): Workload =>
    ({ id: `produce-${batch}x${sizeName(valueBytes)}-c${connections}`, kind: 'produce', valueBytes, batch, connections, arms: [...gateways, 'http-only'] })
  if (smoke) {
    for (const batch of [1, 100]) all.push(produce(batch, 100, 8))
    all.push(produce(100, 10_240, 8))
    all.push({ id: 'produce-ndjson-100B', kind: 'produce-ndjson', valueBytes: 100, connections: 8, arms: ['us'] })
    all.push({ id: 'open-loop-100B-200rps', kind: 'open-loop', valueBytes: 100, rate: 200, arms: [...gateways, 'http-only'] })
    all.push({ id: 'drain-100B', kind: 'drain', valueBytes: 100, records: 5000, arms: gateways })
    all.push({ id: 'drain-10KB', kind: 'drain', valueBytes: 10_240, records: 1000, arms: gateways })
    all.push({ id: 'stream-drain-100B', kind: 'stream-drain', valueBytes: 100, records: 5000, arms: ['us'] })
    all.push({ id: 'e2e-100B-50rps', kind: 'e2e', valueBytes: 100, rate: 50, arms: gateways })
    all.push({ id: 'consumers-rss-5', kind: 'consumers-rss', valueBytes: 100, consumers: 5, arms: httpGateways })
    all.push({ id: 'consumers-poll-10', kind: 'consumers-poll', valueBytes: 100, consumers: 10, arms: httpGateways })
    return all
  }
  // Memory with live consumers first, before any load has grown a heap.
  all.push({ id: 'consumers-rss-100', kind: 'consumers-rss', valueBytes: 100, consumers: 100, arms: httpGateways })
  for (const batch of [1, 100]) {
    for (const valueBytes of [100, 1024]) {
      for (const connections of [1, 8, 64]) all.push(produce(batch, valueBytes, connections))
    }
    all.push(produce(batch, 10_240, 8))
  }
  all.push({ id: 'produce-ndjson-100B', kind: 'produce-ndjson', valueBytes: 100, connections: 8, arms: ['us'] })
  all.push({ id: 'open-loop-100B-1000rps', kind: 'open-loop', valueBytes: 100, rate: 1000, arms: [...gateways, 'http-only'] })
  all.push({ id: 'drain-100B', kind: 'drain', valueBytes: 100, records: 200_000, arms: gateways })
  all.push({ id: 'drain-1KB', kind: 'drain', valueBytes: 1024, records: 50_000, arms: gateways })
  all.push({ id: 'drain-10KB', kind: 'drain', valueBytes: 10_240, records: 10_000, arms: gateways })
  all.push({ id: 'stream-drain-100B', kind: 'stream-drain', valueBytes: 100, records: 200_000, arms: ['us'] })
  all.push({ id: 'stream-drain-1KB', kind: 'stream-drain', valueBytes: 1024, records: 50_000, arms: ['us'] })
  all.push({ id: 'e2e-100B-200rps', kind: 'e2e', valueBytes: 100, rate: 200, arms: gateways })
  all.push({ id: 'consumers-poll-100', kind: 'consumers-poll', valueBytes: 100, consumers: 100, arms: httpGateways })
  return all
}

// ---- Kafka side: topics, end offsets, pre-filled topics (from the runner's own core) ----

class Kafka {
  private constructor (readonly bootstrap: string, private readonly admin: IAdminClient, private readonly producer: Producer) {}

  static async connect (bootstrap: string): Promise<Kafka> {
    const producer = new Producer({ 'metadata.broker.list': bootstrap, 'linger.ms': 5, 'queue.buffering.max.messages': 1_000_000, dr_cb: true }, { 'request.required.acks': -1 })
    await new Promise<void>((resolve, reject) => producer.connect({ timeout: 30_000 }, (err) => err ? reject(err) : resolve()))
    producer.setPollInBackground(true)
    return new Kafka(bootstrap, AdminClient.createFrom(producer), producer)
  }

  async createTopic (topic: string): Promise<void> {
    await new Promise<void>((resolve, reject) => this.admin.createTopic({
      topic,
      num_partitions: PARTITIONS,
      replication_factor: 1,
      // Bounded disk: old segments go, end offsets stay.
      config: { 'retention.bytes': String(256 * 1024 * 1024), 'segment.bytes': String(64 * 1024 * 1024) }
    }, 30_000, (err) => err ? reject(err) : resolve()))
    // Until every partition has a leader (in this client's metadata too) the producer would only wait.
    const deadline = Date.now() + 30_000
    let last: unknown
    while (Date.now() < deadline) {
      try {
        const md = await new Promise<Metadata>((resolve, reject) => this.producer.getMetadata({ topic, allTopics: false, timeout: 5000 }, (err, m) => err ? reject(err) : resolve(m)))
        const partitions = md.topics.find((t) => t.name === topic)?.partitions ?? []
        if (partitions.length === PARTITIONS && partitions.every((p) => p.leader >= 0)) { await this.endOffsets(topic); return }
      } catch (err) { last = err }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    throw new Error(`topic ${topic} has no leaders after 30 s: ${String(last)}`)
  }

  /** The sum of the end offsets of every partition. */
  async endOffsets (topic: string): Promise<number> {
    let sum = 0
    for (let partition = 0; partition < PARTITIONS; partition++) {
      sum += await new Promise<number>((resolve, reject) => this.producer.queryWatermarkOffsets(topic, partition, 10_000, (err, o) => err ? reject(err) : resolve(o.highOffset)))
    }
    return sum
  }

  /** Writes `count` records of this value, spread over the partitions, and waits for every acknowledgement. */
  async fill (topic: string, count: number, value: Buffer): Promise<void> {
    let acked = 0
    let failed = 0
    const done = new Promise<void>((resolve) => {
      this.producer.on('delivery-report', (err) => {
        if (err) failed++
        else acked++
        if (acked + failed === count) resolve()
      })
    })
    for (let i = 0; i < count; i++) {
      for (;;) {
        try { this.producer.produce(topic, i % PARTITIONS, value); break } catch { await new Promise((resolve) => setTimeout(resolve, 5)) }
      }
    }
    await done
    this.producer.removeAllListeners('delivery-report')
    if (failed > 0) throw new Error(`pre-filling ${topic}: ${failed} records failed`)
  }

  /**
   * Waits until the broker has a group coordinator (a new broker creates its offsets topic on first use), so that
   * the first consumer of a measured run does not meet "not coordinator" and count it against its arm.
   */
  async primeGroupCoordinator (topic: string): Promise<void> {
    const c = new KafkaConsumer({ 'metadata.broker.list': this.bootstrap, 'group.id': `bench-prime-${Date.now()}` }, {})
    await new Promise<void>((resolve, reject) => c.connect({ timeout: 30_000 }, (err) => err ? reject(err) : resolve()))
    const deadline = Date.now() + 60_000
    try {
      for (;;) {
        const ok = await new Promise<boolean>((resolve) => c.committed([{ topic, partition: 0 }], 5000, (err) => resolve(!err)))
        if (ok) return
        if (Date.now() > deadline) throw new Error('the broker has no group coordinator after 60 s')
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
    } finally {
      await new Promise<void>((resolve) => c.disconnect(() => resolve()))
    }
  }

  async close (): Promise<void> {
    this.admin.disconnect()
    await new Promise<void>((resolve) => this.producer.disconnect(() => resolve()))
  }
}

// ---- One cell: one arm, one workload, one repetition ----

interface Arms { ceiling?: Ceiling, gateways: Partial<Record<Exclude<ArmName, 'ceiling'>, Gateway>> }

function processOf (arms: Arms, arm: ArmName): Process | undefined {
  return arm === 'ceiling' ? arms.ceiling : arms.gateways[arm]
}

const partitionsOf = (topic: string): Array<{ topic: string, partition: number }> => Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition }))

async function httpDrain (gw: Gateway, group: string, topic: string, records: number, durationMs: number): Promise<LoadResult> {
  const pool = new Pool(gw.origin, { connections: 1 })
  const consumer = await ConsumerInstance.create(pool, gw.arm, group, 'drain', partitionsOf(topic))
  const statuses: Record<string, number> = {}
  const drain = new DrainClock(records, durationMs)
  while (drain.going()) {
    const res = await consumer.records(1000, 16 * 1024 * 1024)
    statuses[res.status] = (statuses[res.status] ?? 0) + 1
    drain.got(res.records.length)
  }
  await consumer.delete()
  await pool.close()
  return { ...drain.result(), statuses, latencyMs: percentiles([]) }
}

/**
 * Drains the topic through one SSE stream with commit=auto (GET /api/v1/streams/{group}): counts record events as
 * the bytes arrive, timed from the first records to the last, as the v2 drain is.
 */
async function sseDrain (gw: Gateway, group: string, topic: string, records: number, durationMs: number): Promise<LoadResult> {
  const pool = new Pool(gw.origin, { connections: 1 })
  const drain = new DrainClock(records, durationMs)
  const abort = new AbortController()
  const statuses: Record<string, number> = {}
  const MARK = '\nevent: record\n'
  try {
    const res = await pool.request({
      path: `/api/v1/streams/${encodeURIComponent(group)}?topics=${encodeURIComponent(topic)}&offset=earliest&commit=auto`,
      method: 'GET',
      headers: { accept: 'text/event-stream' },
      signal: abort.signal,
      bodyTimeout: durationMs
    })
    statuses[res.statusCode] = 1
    if (res.statusCode !== 200) { await res.body.dump(); return { ...drain.result(), statuses, latencyMs: percentiles([]) } }
    // A record event is "event: record" after a blank line; the tail of each chunk is kept for one split across two.
    let tail = '\n'
    const timer = setInterval(() => { if (!drain.going()) abort.abort() }, 100)
    try {
      for await (const chunk of res.body) {
        const text = tail + (chunk as Buffer).toString('utf8')
        let count = 0
        for (let at = text.indexOf(MARK); at >= 0; at = text.indexOf(MARK, at + MARK.length)) count++
        tail = text.slice(-(MARK.length - 1))
        drain.got(count)
        if (!drain.going()) break
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err
    } finally {
      clearInterval(timer)
    }
  } finally {
    abort.abort()
    await pool.close()
  }
  return { ...drain.result(), statuses, latencyMs: percentiles([]) }
}

async function httpE2e (gw: Gateway, group: string, topic: string, rate: number, durationMs: number, valueBytes: number): Promise<LoadResult> {
  const consumerPool = new Pool(gw.origin, { connections: 1 })
  const producerPool = new Pool(gw.origin, { connections: 8 })
  const consumer = await ConsumerInstance.create(consumerPool, gw.arm, group, 'e2e', partitionsOf(topic))
  const pad = recordValue(valueBytes)
  const latencies: number[] = []
  const reader = { stop: false }
  const reading = (async () => {
    while (!reader.stop) {
      const res = await consumer.records(500, 16 * 1024 * 1024)
      const at = nowMs()
      for (const r of res.records) {
        const t = (r.value as { t?: number } | null)?.t
        if (typeof t === 'number') latencies.push(at - t)
      }
    }
  })()
  const produced = await openLoop({ rate, durationMs, send: produceSender(producerPool, topic, () => produceBody(1, { t: nowMs(), ...pad })) })
  const deadline = nowMs() + 10_000
  while (latencies.length < produced.records && nowMs() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  reader.stop = true
  await reading
  await consumer.delete()
  await Promise.all([consumerPool.close(), producerPool.close()])
  return { ...produced, records: latencies.length, latencyMs: percentiles(latencies) }
}

async function httpConsumers (gw: Gateway, topic: string, count: number): Promise<LoadResult> {
  const pool = new Pool(gw.origin, { connections: 8 })
  const started = nowMs()
  const instances: ConsumerInstance[] = []
  const statuses: Record<string, number> = {}
  for (let i = 0; i < count; i++) {
    const c = await ConsumerInstance.create(pool, gw.arm, `bench-rss-${Date.now()}-${i}`, `c${i}`, [{ topic, partition: 0 }])
    const res = await c.records(100, 16 * 1024 * 1024)
    statuses[res.status] = (statuses[res.status] ?? 0) + 1
    instances.push(c)
  }
  // Let memory settle with every instance alive, then read it (the runner samples throughout).
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const elapsedSec = (nowMs() - started) / 1000
  await Promise.all(instances.map(async (c) => await c.delete()))
  await pool.close()
  return { requests: count, records: instances.length, elapsedSec, statuses, latencyMs: percentiles([]) }
}

/** Runs `task` over `items`, `width` at a time (creating 100 instances at once would measure a burst, not a gateway). */
async function inGroups<T, R> (items: T[], width: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = []
  for (let i = 0; i < items.length; i += width) out.push(...await Promise.all(items.slice(i, i + width).map(task)))
  return out
}

/**
 * `count` consumer instances, each in its own group and assigned one partition of the pre-filled topic (instance i
 * reads partition i mod 6 from the start), all polling at once, each its next poll when the last one answered,
 * for `durationMs`: records/s over all of them and the latency of a poll. The gateway's CPU and memory include
 * creating and deleting the instances.
 */
async function httpConsumersPoll (gw: Gateway, topic: string, count: number, durationMs: number): Promise<LoadResult> {
  // One connection per instance, so that no long poll waits behind another.
  const pool = new Pool(gw.origin, { connections: count })
  const stamp = Date.now()
  const instances = await inGroups(Array.from({ length: count }, (_, i) => i), 10, async (i) =>
    await ConsumerInstance.create(pool, gw.arm, `bench-poll-${stamp}-${i}`, `p${i}`, [{ topic, partition: i % PARTITIONS }]))
  const statuses: Record<string, number> = {}
  const latencies: number[] = []
  let records = 0
  const started = nowMs()
  const deadline = started + durationMs
  await Promise.all(instances.map(async (c) => {
    while (nowMs() < deadline) {
      const t0 = nowMs()
      const res = await c.records(500, 1024 * 1024)
      latencies.push(nowMs() - t0)
      statuses[res.status] = (statuses[res.status] ?? 0) + 1
      records += res.records.length
    }
  }))
  const elapsedSec = (nowMs() - started) / 1000
  await inGroups(instances, 10, async (c) => { await c.delete() })
  await pool.close()
  return { requests: latencies.length, records, elapsedSec, statuses, latencyMs: percentiles(latencies) }
}

interface Topics { produce: Record<string, string>, drain: Record<number, string>, workDir: string }

/**
 * One run's load result, how far the topic's end offsets moved, the CPU seconds of a load generator the runner
 * started (wrk), and why it could not be made, if it could not.
 */
type CellRun = LoadResult & { offsetsMoved: number | null, loadCpuSec?: number, failure?: string }

const wrk = findWrk()
/** wrk threads: one per CPU the runner has (the gateway's CPU excluded), at most two. */
const wrkThreads = Math.min(2, Math.max(1, cpus().length - 1))

async function runCell (kafka: Kafka, arms: Arms, topics: Topics, w: Workload, arm: ArmName, rep: number, durationMs = seconds * 1000): Promise<CellRun> {
  const produceTopic = topics.produce[`${arm}-${w.valueBytes}`] ?? `bench-http-only-${w.valueBytes}`
  const tracksOffsets = arm !== 'http-only' && (w.kind === 'produce' || w.kind === 'open-loop' || w.kind === 'produce-ndjson')
  const before = tracksOffsets ? await kafka.endOffsets(produceTopic) : 0
  let result: LoadResult
  if (arm === 'ceiling') {
    const ceiling = arms.ceiling!
    switch (w.kind) {
      case 'produce':
        result = await ceiling.run({ kind: 'produce', topic: produceTopic, batch: w.batch!, connections: w.connections!, maxRequests: 10_000_000, durationMs, valueBytes: w.valueBytes })
        break
      case 'open-loop':
        result = await ceiling.run({ kind: 'open-loop', topic: produceTopic, rate: w.rate!, durationMs: durationMs * 2, valueBytes: w.valueBytes })
        break
      case 'drain':
        result = await ceiling.run({ kind: 'drain', topic: topics.drain[w.valueBytes]!, partitions: PARTITIONS, records: w.records!, durationMs: 120_000 })
        break
      case 'e2e': {
        const topic = `bench-e2e-${arm}-${rep}-${Date.now()}`
        await kafka.createTopic(topic)
        result = await ceiling.run({ kind: 'e2e', topic, partitions: PARTITIONS, rate: w.rate!, durationMs, valueBytes: w.valueBytes })
        break
      }
      default: throw new Error(`the ceiling does not run ${w.kind}`)
    }
  } else {
    const gw = arms.gateways[arm]!
    switch (w.kind) {
      case 'produce': {
        const body = produceBody(w.batch!, recordValue(w.valueBytes))
        if ('path' in wrk) {
          const url = `${gw.origin}/topics/${encodeURIComponent(produceTopic)}`
          const { loadCpuSec, ...load } = await wrkProduce({ wrk: wrk.path, url, body, connections: w.connections!, threads: wrkThreads, seconds: durationMs / 1000, workDir: topics.workDir })
          const offsetsMoved = tracksOffsets ? (await kafka.endOffsets(produceTopic)) - before : null
          return { ...load, offsetsMoved, loadCpuSec }
        }
        const pool = new Pool(gw.origin, { connections: w.connections!, pipelining: 1 })
        result = await closedLoop({ concurrency: w.connections!, maxRequests: 10_000_000, durationMs, send: produceSender(pool, produceTopic, () => body) })
        await pool.close()
        break
      }
      case 'produce-ndjson':
        result = await ndjsonProduce({ origin: gw.origin, topic: produceTopic, value: recordValue(w.valueBytes), connections: w.connections!, durationMs, maxRecords: 10_000_000 })
        break
      case 'open-loop': {
        const pool = new Pool(gw.origin, { connections: 64, pipelining: 1 })
        const body = produceBody(1, recordValue(w.valueBytes))
        result = await openLoop({ rate: w.rate!, durationMs: durationMs * 2, send: produceSender(pool, produceTopic, () => body) })
        await pool.close()
        break
      }
      case 'drain':
        result = await httpDrain(gw, `bench-drain-${arm}-${rep}-${Date.now()}`, topics.drain[w.valueBytes]!, w.records!, 120_000)
        break
      case 'stream-drain':
        result = await sseDrain(gw, `bench-stream-${arm}-${rep}-${Date.now()}`, topics.drain[w.valueBytes]!, w.records!, 120_000)
        break
      case 'e2e': {
        const topic = `bench-e2e-${arm}-${rep}-${Date.now()}`
        await kafka.createTopic(topic)
        result = await httpE2e(gw, `bench-e2e-${arm}-${rep}-${Date.now()}`, topic, w.rate!, durationMs, w.valueBytes)
        break
      }
      case 'consumers-rss':
        result = await httpConsumers(gw, topics.drain[100]!, w.consumers!)
        break
      case 'consumers-poll':
        result = await httpConsumersPoll(gw, topics.drain[100]!, w.consumers!, durationMs)
        break
    }
  }
  const offsetsMoved = tracksOffsets ? (await kafka.endOffsets(produceTopic)) - before : null
  return { ...result, offsetsMoved }
}

function correctness (w: Workload, r: CellRun): { correct: boolean, note?: string } {
  const failed = Object.entries(r.statuses).filter(([s]) => s !== '200' && s !== '204' && s !== 'ok').reduce((n, [, c]) => n + c, 0)
  if (w.kind === 'produce' || w.kind === 'open-loop' || w.kind === 'produce-ndjson') {
    if (r.offsetsMoved === null) return { correct: failed === 0, ...(failed > 0 ? { note: `${failed} requests failed` } : {}) }
    if (r.offsetsMoved !== r.records) return { correct: false, note: `end offsets moved by ${r.offsetsMoved}, acknowledged ${r.records}` }
    return { correct: r.records > 0 }
  }
  if (w.kind === 'drain' || w.kind === 'stream-drain') return r.records === w.records ? { correct: true } : { correct: false, note: `received ${r.records} of ${w.records}` }
  if (w.kind === 'e2e') return r.records === r.requests && r.records > 0 ? { correct: true } : { correct: false, note: `received ${r.records} of ${r.requests} sent` }
  if (w.kind === 'consumers-poll') return failed === 0 && r.records > 0 ? { correct: true } : { correct: false, note: `${r.records} records, statuses ${JSON.stringify(r.statuses)}` }
  return r.records === w.consumers && failed === 0 ? { correct: true } : { correct: false, note: `${r.records} of ${w.consumers} consumers, statuses ${JSON.stringify(r.statuses)}` }
}

let brokerPid: number | undefined

async function measure (kafka: Kafka, arms: Arms, topics: Topics, w: Workload, arm: ArmName, rep: number, position: number): Promise<Cell> {
  const proc = processOf(arms, arm)!
  const cpuBefore = cpuSeconds(proc.pid)
  const brokerBefore = brokerPid !== undefined ? cpuSeconds(brokerPid) : 0
  const sampler = rssSampler(proc.pid)
  const runnerBefore = process.cpuUsage()
  let r: CellRun
  try {
    r = await runCell(kafka, arms, topics, w, arm, rep)
  } catch (err) {
    // A run that could not be made is a failed cell in the results, not the end of the benchmark.
    r = { requests: 0, records: 0, elapsedSec: 1, statuses: { error: 1 }, latencyMs: percentiles([]), offsetsMoved: null, failure: String(err) }
  }
  const runner = process.cpuUsage(runnerBefore)
  const peakRssMb = sampler.stop()
  const cpuSec = cpuSeconds(proc.pid) - cpuBefore
  const { correct, note } = r.failure !== undefined ? { correct: false, note: r.failure } : correctness(w, r)
  const hasLatency = w.kind === 'produce' || w.kind === 'open-loop' || w.kind === 'e2e' || w.kind === 'consumers-poll'
  const cell: Cell = {
    arm,
    workload: w.id,
    rep,
    position,
    requests: r.requests,
    records: r.records,
    elapsedSec: r.elapsedSec,
    recordsPerSec: r.records / r.elapsedSec,
    mbPerSec: r.records * w.valueBytes / r.elapsedSec / 1e6,
    latencyMs: hasLatency ? r.latencyMs : null,
    cpuSec,
    loadGeneratorCpuSec: (runner.user + runner.system) / 1e6 + (r.loadCpuSec ?? 0),
    ...(brokerPid !== undefined ? { brokerCpuSec: cpuSeconds(brokerPid) - brokerBefore } : {}),
    recordsPerCpuSec: cpuSec > 0 ? r.records / cpuSec : 0,
    peakRssMb,
    statuses: r.statuses,
    offsetsMoved: r.offsetsMoved,
    correct,
    ...(note !== undefined ? { note } : {})
  }
  log(`${w.id} rep ${rep} ${arm}: ${Math.round(cell.recordsPerSec)} records/s, p99 ${cell.latencyMs?.p99.toFixed(2) ?? '-'} ms, ${cpuSec.toFixed(2)} CPU-s in ${r.elapsedSec.toFixed(1)} s (load ${cell.loadGeneratorCpuSec?.toFixed(2) ?? '-'}, broker ${cell.brokerCpuSec?.toFixed(2) ?? '-'}), ${peakRssMb.toFixed(0)} MiB${correct ? '' : `, NOT CORRECT: ${note ?? ''}`}`)
  return cell
}

// ---- The run ----

function machine (): Meta['machine'] {
  const osRelease = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : ''
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    os: /PRETTY_NAME="([^"]+)"/.exec(osRelease)?.[1] ?? 'unknown'
  }
}

/** The first line `java -version` prints (on stderr). */
function javaVersion (javaHome?: string): string {
  const out = spawnSync(javaHome ? join(javaHome, 'bin', 'java') : 'java', ['-version'], { encoding: 'utf8' })
  return (out.stderr || out.stdout || 'unknown').split('\n')[0] ?? 'unknown'
}

async function main (): Promise<void> {
  const began = Date.now()
  const work = mkdtempSync(join(tmpdir(), 'kosha-bench-'))
  const twoCores = cpus().length >= 2
  // The gateway (or the ceiling process) has CPU 1 to itself; the runner, its load generator and the broker share CPU 0.
  const gatewayCpu = twoCores ? String(cpus().length - 1) : undefined
  const otherCpus = twoCores ? (cpus().length === 2 ? '0' : `0-${cpus().length - 2}`) : undefined
  if (otherCpus !== undefined) execFileSync('taskset', ['-a', '-p', '-c', otherCpus, String(process.pid)], { stdio: 'ignore' })
  const placement: Record<string, string> = twoCores
    ? { gateway: `CPU ${gatewayCpu} (alone)`, 'ceiling process': `CPU ${gatewayCpu} (alone)`, 'load generator (this runner)': `CPU ${otherCpus}`, 'Kafka broker': `CPU ${otherCpus} (shared with the load generator)` }
    : { all: 'one CPU: no pinning' }
  const skipped: Record<string, string> = {}
  log(`working in ${work}; results to ${outDir}`)

  let brokerStop: (() => void) | undefined
  let bootstrap = process.env.KAFKA_BOOTSTRAP
  if (bootstrap) {
    placement['Kafka broker'] = `external (${bootstrap})`
  } else {
    const dir = join(work, 'kafka')
    // Started from this (pinned) process, the broker inherits its CPUs.
    execFileSync('bash', ['scripts/kafka', 'start', '--port-base', '29192', '--dir', dir, '--fresh'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
    bootstrap = /KAFKA_BOOTSTRAP=(\S+)/.exec(readFileSync(join(dir, 'bootstrap.env'), 'utf8'))?.[1] ?? '127.0.0.1:29192'
    const pid = spawnSync('pgrep', ['-f', join(dir, 'node-1', 'server.properties')], { encoding: 'utf8' }).stdout.trim().split('\n')[0]
    if (pid) brokerPid = Number(pid)
    brokerStop = () => { execFileSync('bash', ['scripts/kafka', 'stop', '--dir', dir], { cwd: root, stdio: 'ignore' }) }
    log(`Kafka broker on ${bootstrap}`)
  }

  const wanted = new Set((args.arms ?? 'ceiling,us,bridge,karapace,http-only').split(',') as ArmName[])
  const arms: Arms = { gateways: {} }
  const bridgeHome = process.env.BRIDGE_HOME
  // Strimzi Kafka Bridge 1.x is built for Java 21.
  const bridgeJava = bridgeHome ? bridgeJavaHome(21) : undefined
  const karapaceHome = process.env.KARAPACE_HOME
  let karapace: Record<string, string> | undefined
  let kafka: Kafka | undefined
  try {
    kafka = await Kafka.connect(bootstrap)
    log('building the service (npm run build)')
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
    const cpu = gatewayCpu !== undefined ? { cpu: gatewayCpu } : {}
    if ('missing' in wrk) log(`${wrk.missing}: the closed-loop produce load falls back to undici in this runner, which may then be what limits the fast arms (see loadGeneratorCpuSec)`)
    if (profileDir !== undefined) { mkdirSync(profileDir, { recursive: true }); log(`the service writes a CPU profile per start into ${profileDir}`) }
    // The ceiling and the bridge live for the whole run (the JVM takes long to warm up); the service, Karapace (no JIT
    // to warm up) and the HTTP-only reference are started anew for every workload (startFresh), so that no workload
    // inherits another's heap.
    if (wanted.has('ceiling')) arms.ceiling = await Ceiling.start({ bootstrap, ...cpu, logDir: work })
    if (wanted.has('bridge')) {
      if (!bridgeHome) {
        skipped.bridge = 'BRIDGE_HOME is not set: Strimzi Kafka Bridge is not published on Maven Central; point BRIDGE_HOME at an unpacked release of it'
      } else {
        arms.gateways.bridge = await startBridge({ home: bridgeHome, bootstrap, port: 29182, ...cpu, logDir: work, ...(bridgeJava ? { javaHome: bridgeJava } : {}) })
      }
    }
    if (wanted.has('karapace')) {
      if (!karapaceHome) {
        skipped.karapace = 'KARAPACE_HOME is not set: Karapace is not published on PyPI; build it from its sources into a virtualenv and point KARAPACE_HOME at the folder holding that venv/'
      } else if (!existsSync(karapaceEntryPoint(karapaceHome))) {
        skipped.karapace = `KARAPACE_HOME=${karapaceHome} has no ${karapaceEntryPoint(karapaceHome)}: it must hold a virtualenv venv/ with Karapace installed in it`
      } else {
        karapace = karapaceVersions(karapaceHome)
      }
    }
    type FreshArm = 'us' | 'karapace' | 'http-only'
    const fresh = (arm: ArmName): arm is FreshArm => arm === 'us' || arm === 'http-only' || (arm === 'karapace' && karapace !== undefined)
    const startFresh = async (arm: FreshArm, w: Workload): Promise<void> => {
      switch (arm) {
        case 'us':
          arms.gateways.us = await startService({ bootstrap: bootstrap!, port: 29180, ...cpu, logDir: work, ...(profileDir !== undefined ? { profile: { dir: profileDir, name: `us-${w.id}` } } : {}) })
          break
        case 'http-only':
          arms.gateways['http-only'] = await startHttpOnly({ port: 29181, ...cpu, logDir: work })
          break
        case 'karapace':
          arms.gateways.karapace = await startKarapace({ home: karapaceHome!, bootstrap: bootstrap!, port: 29183, ...cpu, logDir: work })
          break
      }
    }
    const stopFresh = async (arm: FreshArm): Promise<void> => {
      const gw = arms.gateways[arm]
      delete arms.gateways[arm]
      await gw?.stop()
    }
    const present = (['ceiling', 'us', 'bridge', 'karapace', 'http-only'] as ArmName[]).filter((a) => fresh(a) ? wanted.has(a) : processOf(arms, a) !== undefined)
    log(`arms: ${present.join(', ')}${Object.keys(skipped).length > 0 ? ` (skipped: ${Object.keys(skipped).join(', ')})` : ''}`)

    // Topics: one per arm and value size for produce runs (end offsets tell what each run stored), and one
    // pre-filled topic per value size that every arm drains.
    const list = workloads().filter((w) => args.only === undefined || args.only.split(',').some((o) => w.id.startsWith(o)))
    const topics: Topics = { produce: {}, drain: {}, workDir: work }
    const stamp = Date.now()
    for (const arm of present.filter((a) => a !== 'http-only')) {
      for (const size of VALUE_SIZES.filter((v) => list.some((w) => w.valueBytes === v))) {
        topics.produce[`${arm}-${size}`] = `bench-produce-${arm}-${size}-${stamp}`
        await kafka.createTopic(topics.produce[`${arm}-${size}`]!)
      }
    }
    const drains = (x: Workload): boolean => x.kind === 'drain' || x.kind === 'stream-drain'
    for (const w of list.filter((x) => drains(x) || x.kind === 'consumers-rss' || x.kind === 'consumers-poll')) {
      if (topics.drain[w.valueBytes] !== undefined) continue
      const records = Math.max(...list.filter((x) => drains(x) && x.valueBytes === w.valueBytes).map((x) => x.records ?? 0), 1000)
      const topic = `bench-drain-${w.valueBytes}-${stamp}`
      await kafka.createTopic(topic)
      log(`pre-filling ${topic} with ${records} records`)
      await kafka.fill(topic, records, Buffer.from(JSON.stringify(recordValue(w.valueBytes))))
      topics.drain[w.valueBytes] = topic
    }

    const anyTopic = Object.values(topics.produce)[0] ?? Object.values(topics.drain)[0]
    if (anyTopic !== undefined) await kafka.primeGroupCoordinator(anyTopic)

    // Warm-up (JIT, connections, buffers), not measured: produce at 1 and 100 records per POST. The long-lived arms
    // are warmed once; the service, Karapace and the HTTP-only reference at every start, except for the memory
    // workload, which measures a service as it starts. The JVM compiles as it runs, on the same single CPU: the
    // bridge gets a longer warm-up, so that it is measured compiled, as it would be in a long-running deployment.
    const cells: Cell[] = []
    const warm = async (which: ArmName[]): Promise<void> => {
      if (which.length === 0) return
      log(`warming up ${which.join(', ')}`)
      for (const arm of which) {
        const ms = fresh(arm) ? (smoke ? 500 : 2000) : (arm === 'bridge' ? 4 : 1) * (smoke ? 1000 : 5000)
        for (const batch of [1, 100]) {
          const w: Workload = { id: 'warm-up', kind: 'produce', valueBytes: 100, batch, connections: 8, arms: present }
          await runCell(kafka!, arms, topics, w, arm, 0, ms)
        }
      }
    }
    // The report is rewritten after every workload, so an interrupted run still leaves what it measured.
    const report = (cells: Cell[]): ReturnType<typeof writeReport> => {
      const summaries = summarise(cells)
      const meta: Meta = {
        date: new Date().toISOString(),
        mode: smoke ? 'smoke' : 'full',
        machine: machine(),
        versions: {
          service: (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version,
          node: process.version,
          librdkafka: librdkafkaVersion,
          kafka: /<kafka.version>([^<]+)</.exec(readFileSync(join(root, 'scripts', 'local-kafka', 'pom.xml'), 'utf8'))?.[1] ?? 'unknown',
          ...(arms.gateways.bridge && bridgeHome ? { 'strimzi-kafka-bridge': bridgeVersion(bridgeHome), 'bridge java': javaVersion(bridgeJava) } : {}),
          ...(present.includes('karapace') ? karapace : {}),
          java: javaVersion()
        },
        placement,
        settings: {
          'closed-loop produce load': 'path' in wrk ? `wrk (${wrkThreads} thread${wrkThreads === 1 ? '' : 's'}, bench/produce.lua)` : `undici in the runner (${wrk.missing})`,
          'service starts': 'the service, Karapace and the HTTP-only reference anew for every workload; the ceiling and the bridge once',
          ...(profileDir !== undefined ? { 'CPU profiles': profileDir } : {}),
          repetitions: reps,
          'seconds per closed-loop run': seconds,
          'partitions per topic': PARTITIONS,
          producer: present.includes('karapace')
            ? 'acks=all, linger.ms=2, no compression (every arm); idempotent in every arm but Karapace, which has no setting for it (librdkafka\'s default: off)'
            : 'acks=all, idempotent, linger.ms=2, no compression (every arm)',
          'free memory at start GiB': Math.round(freemem() / 2 ** 30)
        },
        skipped,
        durationSec: Math.round((Date.now() - began) / 1000)
      }
      return writeReport({ meta, workloads: list, cells, summaries, ratios: ratios(summaries, list) }, outDir)
    }
    let longLivedWarm = false
    for (const w of list) {
      const inWorkload = present.filter((a) => w.arms.includes(a))
      const started = inWorkload.filter(fresh)
      try {
        for (const arm of started) await startFresh(arm, w)
        if (w.kind !== 'consumers-rss') {
          if (!longLivedWarm) { await warm(present.filter((a) => !fresh(a))); longLivedWarm = true }
          await warm(started)
        }
        for (let rep = 1; rep <= reps; rep++) {
          const order = rep % 2 === 1 ? inWorkload : [...inWorkload].reverse()
          for (const [position, arm] of order.entries()) cells.push(await measure(kafka, arms, topics, w, arm, rep, position))
        }
      } finally {
        for (const arm of started) await stopFresh(arm)
      }
      report(cells)
    }

    const files = report(cells)
    log(`wrote ${files.markdown}, ${files.json}, ${files.svg}`)
    const wrong = cells.filter((c) => !c.correct)
    console.log(`${cells.length - wrong.length} passed, ${wrong.length} failed`)
    if (wrong.length > 0) {
      for (const c of wrong) log(`NOT CORRECT: ${c.arm} ${c.workload} rep ${c.rep}: ${c.note ?? ''}`)
      process.exitCode = 1
    }
  } finally {
    const running: Process[] = [...Object.values(arms.gateways), ...(arms.ceiling !== undefined ? [arms.ceiling] : [])]
    for (const p of running) await p.stop().catch((err: unknown) => log(`stopping: ${String(err)}`))
    await kafka?.close().catch(() => undefined)
    brokerStop?.()
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
