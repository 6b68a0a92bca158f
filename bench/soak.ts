// The soak: the service as in production (scripts/serve) under mixed load for a long while (30 minutes by default),
// to see whether it leaks. Load, all at once and all the time:
//   - producers: 4 connections POSTing 100 JSON records at a time (v2);
//   - consumers: 4 loops that each create a v2 consumer instance, subscribe, fetch a few times, commit and delete
//     it, then start again (instances come and go, as in production);
//   - admin: a loop that creates a topic (v3), reads its configs and partitions, lists topics and deletes it.
// Every 5 s it samples the service's RSS (its process tree, from /proc) and the event loop's lag (p99 and max over
// the last interval, from /metrics: prom-client's monitorEventLoopDelay). The figure to report is the growth of RSS
// from minute 5 (warm) to the end; also the lag, and every request's status.
//
//   npm run soak                    30 minutes, a local Kafka started for it (port base 29292)
//   npm run soak -- --minutes 3     a short one; KAFKA_BOOTSTRAP=host:port to use a running cluster
//   npm run soak -- --loops consumers   only some of the loads (producers, consumers, admin), to find what grows
//   npm run soak -- --node=--max-old-space-size=256   options for the service's node (scripts/serve passes them)
// Each sample also has the JS heap in use and the heap V8 holds (nodejs_heap_size_used_bytes, _total_bytes), and the
// memory of Buffers outside it (nodejs_external_memory_bytes): RSS growing while the heap V8 holds does not is native.
// Results: bench/results/soak.json and soak.md (or --out DIR). Not part of CI: it is meant to take long.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'
import { startService } from './arms'
import { rssMb } from './proc'

const root = join(__dirname, '..')
const { values: args } = parseArgs({ options: { minutes: { type: 'string' }, out: { type: 'string' }, port: { type: 'string' }, loops: { type: 'string' }, node: { type: 'string' } } })
const LOOPS = ['producers', 'consumers', 'admin'] as const
const loops = new Set((args.loops ?? LOOPS.join(',')).split(',').map((l) => l.trim()))
for (const l of loops) if (!(LOOPS as readonly string[]).includes(l)) throw new Error(`--loops: '${l}' is none of ${LOOPS.join(', ')}`)
const minutes = Number(args.minutes ?? 30)
const outDir = args.out ?? join(root, 'bench', 'results')
const port = Number(args.port ?? 29284)
const SAMPLE_MS = 5000
const WARM_MINUTE = Math.min(5, minutes / 6)

const log = (message: string): void => { process.stderr.write(`soak: ${message}\n`) }

interface Sample { atS: number, rssMb: number, heapMb: number, heapTotalMb: number, externalMb: number, lagP99Ms: number, lagMaxMs: number }
const statuses = new Map<string, number>()
const count = (what: string, status: number | string): void => {
  const key = `${what} ${status}`
  statuses.set(key, (statuses.get(key) ?? 0) + 1)
}

async function call (pool: Pool, what: string, method: string, path: string, body?: unknown, type = 'application/json'): Promise<{ status: number, json: unknown }> {
  try {
    const res = await pool.request({
      method: method as 'GET',
      path,
      headers: body === undefined ? { accept: 'application/json' } : { 'content-type': type, accept: type },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headersTimeout: 60_000,
      bodyTimeout: 60_000
    })
    const text = await res.body.text()
    count(what, res.statusCode)
    return { status: res.statusCode, json: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : undefined }
  } catch (err) {
    count(what, (err as { code?: string }).code ?? 'error')
    return { status: 0, json: undefined }
  }
}

/** The value of a Prometheus gauge in /metrics text. */
function gauge (metrics: string, name: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? NaN : Number(line.split(' ')[1])
}

const V2_JSON = 'application/vnd.kafka.json.v2+json'
const V2 = 'application/vnd.kafka.v2+json'

async function main (): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'kosha-soak-'))
  let bootstrap = process.env.KAFKA_BOOTSTRAP
  let stopKafka = (): void => {}
  if (!bootstrap) {
    const dir = join(work, 'kafka')
    execFileSync('bash', ['scripts/kafka', 'start', '--port-base', '29292', '--dir', dir, '--fresh'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
    bootstrap = /KAFKA_BOOTSTRAP=(\S+)/.exec(readFileSync(join(dir, 'bootstrap.env'), 'utf8'))?.[1] ?? '127.0.0.1:29292'
    stopKafka = () => { execFileSync('bash', ['scripts/kafka', 'stop', '--dir', dir], { cwd: root, stdio: 'ignore' }) }
  }
  log(`Kafka on ${bootstrap}; building the service`)
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
  const nodeOptions = (args.node ?? '').split(' ').filter((o) => o !== '')
  const service = await startService({ bootstrap, port, logDir: work, nodeOptions })
  const pool = new Pool(service.origin, { connections: 16 })
  const samples: Sample[] = []
  const started = Date.now()
  const deadline = started + minutes * 60_000
  const running = (): boolean => Date.now() < deadline
  try {
    const cluster = ((await call(pool, 'clusters', 'GET', '/v3/clusters')).json as { data: Array<{ cluster_id: string }> }).data[0]?.cluster_id ?? ''
    const topic = `soak-${Date.now()}`
    await call(pool, 'create topic', 'POST', `/v3/clusters/${cluster}/topics`, { topic_name: topic, partitions_count: 4 })
    const records = Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: { i, text: 'x'.repeat(100) } }))

    const producer = async (): Promise<void> => {
      while (running()) await call(pool, 'produce', 'POST', `/topics/${topic}`, { records }, V2_JSON)
    }
    const consumerLife = async (n: number): Promise<void> => {
      for (let life = 0; running(); life++) {
        const group = `soak-group-${n}`
        const name = `c${n}-${life}`
        const base = `/consumers/${group}/instances/${name}`
        await call(pool, 'consumer create', 'POST', `/consumers/${group}`, { name, format: 'json', 'auto.offset.reset': 'latest' }, V2)
        await call(pool, 'consumer subscribe', 'POST', `${base}/subscription`, { topics: [topic] }, V2)
        for (let i = 0; i < 5 && running(); i++) {
          await call(pool, 'consumer fetch', 'GET', `${base}/records?timeout=1000&max_bytes=1000000`, undefined, V2_JSON)
        }
        await call(pool, 'consumer commit', 'POST', `${base}/offsets`, {}, V2)
        await call(pool, 'consumer delete', 'DELETE', base, undefined, V2)
      }
    }
    const admin = async (): Promise<void> => {
      for (let i = 0; running(); i++) {
        const name = `soak-admin-${Date.now()}-${i}`
        const topics = `/v3/clusters/${cluster}/topics`
        await call(pool, 'admin create', 'POST', topics, { topic_name: name, partitions_count: 2 })
        await call(pool, 'admin configs', 'GET', `${topics}/${name}/configs`)
        await call(pool, 'admin partitions', 'GET', `${topics}/${name}/partitions`)
        await call(pool, 'admin list', 'GET', topics)
        await call(pool, 'admin delete', 'DELETE', `${topics}/${name}`)
        await sleep(1000)
      }
    }
    const sampler = async (): Promise<void> => {
      while (running()) {
        await sleep(SAMPLE_MS)
        const metrics = await pool.request({ method: 'GET', path: '/metrics' }).then(async (r) => await r.body.text()).catch(() => '')
        const sample = {
          atS: Math.round((Date.now() - started) / 1000),
          rssMb: rssMb(service.pid),
          heapMb: gauge(metrics, 'nodejs_heap_size_used_bytes') / 2 ** 20,
          heapTotalMb: gauge(metrics, 'nodejs_heap_size_total_bytes') / 2 ** 20,
          externalMb: gauge(metrics, 'nodejs_external_memory_bytes') / 2 ** 20,
          lagP99Ms: gauge(metrics, 'nodejs_eventloop_lag_p99_seconds') * 1000,
          lagMaxMs: gauge(metrics, 'nodejs_eventloop_lag_max_seconds') * 1000
        }
        samples.push(sample)
        if (samples.length % 12 === 0) log(`${(sample.atS / 60).toFixed(1)} min: RSS ${sample.rssMb.toFixed(0)} MiB, JS heap ${sample.heapMb.toFixed(0)} of ${sample.heapTotalMb.toFixed(0)} MiB, external ${sample.externalMb.toFixed(0)} MiB, loop lag p99 ${sample.lagP99Ms.toFixed(1)} ms`)
      }
    }
    log(`${minutes} minutes of ${[...loops].join(', ')}`)
    await Promise.all([
      ...(loops.has('producers') ? [0, 1, 2, 3].map(async () => await producer()) : []),
      ...(loops.has('consumers') ? [0, 1, 2, 3].map(async (n) => await consumerLife(n)) : []),
      ...(loops.has('admin') ? [admin()] : []),
      sampler()
    ])
    await call(pool, 'delete topic', 'DELETE', `/v3/clusters/${cluster}/topics/${topic}`)
  } finally {
    await pool.close()
    await service.stop()
    stopKafka()
  }
  report(samples, nodeOptions)
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] ?? NaN }

function report (samples: Sample[], nodeOptions: string[]): void {
  const inMinute = (from: number, to: number): Sample[] => samples.filter((s) => s.atS >= from * 60 && s.atS < to * 60)
  const warm = inMinute(WARM_MINUTE, WARM_MINUTE + 1)
  const last = inMinute(minutes - 1, minutes + 1)
  const rssWarm = median(warm.map((s) => s.rssMb))
  const rssEnd = median(last.map((s) => s.rssMb))
  const heapWarm = median(warm.map((s) => s.heapMb))
  const heapEnd = median(last.map((s) => s.heapMb))
  const heldWarm = median(warm.map((s) => s.heapTotalMb))
  const heldEnd = median(last.map((s) => s.heapTotalMb))
  const outsideWarm = median(warm.map((s) => s.rssMb - s.heapTotalMb))
  const outsideEnd = median(last.map((s) => s.rssMb - s.heapTotalMb))
  const result = {
    date: new Date().toISOString(),
    minutes,
    loops: [...loops],
    nodeOptions,
    heapMiB: { warm: heapWarm, end: heapEnd, growth: heapEnd - heapWarm },
    heapHeldMiB: { warm: heldWarm, end: heldEnd, growth: heldEnd - heldWarm },
    outsideHeapMiB: { warm: outsideWarm, end: outsideEnd, growth: outsideEnd - outsideWarm },
    rssMiB: { atWarmMinute: WARM_MINUTE, warm: rssWarm, end: rssEnd, growth: rssEnd - rssWarm, growthPercent: 100 * (rssEnd - rssWarm) / rssWarm, max: Math.max(...samples.map((s) => s.rssMb)) },
    eventLoopLagMs: { p99Median: median(samples.map((s) => s.lagP99Ms)), p99Worst: Math.max(...samples.map((s) => s.lagP99Ms)), maxWorst: Math.max(...samples.map((s) => s.lagMaxMs)) },
    requests: Object.fromEntries([...statuses.entries()].sort()),
    samples
  }
  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(outDir, 'soak.json'), JSON.stringify(result, null, 2) + '\n')
  const md = [
    `# Soak, ${result.date.slice(0, 10)}: ${minutes} minutes of ${loops.size === LOOPS.length ? 'mixed load' : [...loops].join(', ')}${nodeOptions.length > 0 ? `, node ${nodeOptions.join(' ')}` : ''}`,
    '',
    `RSS (median of the samples in the minute): ${rssWarm.toFixed(0)} MiB at minute ${Number(WARM_MINUTE.toFixed(1))}, ${rssEnd.toFixed(0)} MiB in the last minute: ` +
      `**${(rssEnd - rssWarm >= 0 ? '+' : '')}${(rssEnd - rssWarm).toFixed(0)} MiB (${result.rssMiB.growthPercent.toFixed(1)} %)**; the highest sample ${result.rssMiB.max.toFixed(0)} MiB.`,
    '',
    `JS heap in use: ${heapWarm.toFixed(0)} MiB at minute ${Number(WARM_MINUTE.toFixed(1))}, ${heapEnd.toFixed(0)} MiB in the last minute; the heap V8 holds: ${heldWarm.toFixed(0)} MiB, then ${heldEnd.toFixed(0)} MiB.`,
    '',
    `Outside the V8 heap (RSS minus the heap V8 holds: librdkafka, Buffers, code): ${outsideWarm.toFixed(0)} MiB, then ${outsideEnd.toFixed(0)} MiB (${(outsideEnd - outsideWarm >= 0 ? '+' : '')}${(outsideEnd - outsideWarm).toFixed(0)} MiB).`,
    '',
    `Event-loop lag: p99 over each 5 s interval, median ${result.eventLoopLagMs.p99Median.toFixed(1)} ms, worst ${result.eventLoopLagMs.p99Worst.toFixed(1)} ms; the longest single delay ${result.eventLoopLagMs.maxWorst.toFixed(1)} ms.`,
    '',
    '| request | status | count |',
    '|---|---|---|',
    ...[...statuses.entries()].sort().map(([k, n]) => { const at = k.lastIndexOf(' '); return `| ${k.slice(0, at)} | ${k.slice(at + 1)} | ${n} |` }),
    ''
  ].join('\n')
  writeFileSync(join(outDir, 'soak.md'), md)
  process.stdout.write(md)
}

main().catch((err: unknown) => { process.stderr.write(`soak: ${String(err instanceof Error ? err.stack : err)}\n`); process.exit(1) })
