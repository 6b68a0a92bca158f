// What schema encoding costs per record (`npm run bench:avro [-- --seconds N]`): the same v2 produce workload (8
// connections, 100 records of about 100 B a request) against the service in the json format and in the avro,
// jsonschema and protobuf formats, through a real broker (scripts/kafka) and a real Schema Registry (scripts/schema-registry), in
// alternating order, three repetitions. Reported: records/s, p99 latency, and the service's CPU per record, from which
// the cost of encoding follows (avro minus json); and, apart, the encoding alone in this process (µs per record).
// Results: bench/results/avro.md. Timing is this machine's; the differences are what to read.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Pool } from 'undici'
import { launch, waitReady } from './arms'
import { closedLoop, percentiles, recordValue, type Send } from './load'
import { cpuSeconds } from './proc'
import { SchemaRegistry } from '../registry/client'
import { Serdes } from '../registry/serdes'

const root = join(__dirname, '..')
const PORT_BASE = 29492 // clear of the tests' brokers and of the main benchmark's (29192, 29292)
const REGISTRY_PORT = PORT_BASE + 9
const SERVICE_PORT = 29480
const args = process.argv.slice(2)
const seconds = Number(args[args.indexOf('--seconds') + 1] ?? 10) || 10
const log = (msg: string): void => { process.stderr.write(`bench:avro: ${msg}\n`) }

const value = recordValue(100)
const AVRO_SCHEMA = JSON.stringify({ type: 'record', name: 'BenchValue', fields: [{ name: 'source', type: 'string' }, { name: 'pad', type: 'string' }] })
const JSON_SCHEMA = JSON.stringify({ type: 'object', properties: { source: { type: 'string' }, pad: { type: 'string' } }, required: ['source', 'pad'] })
const PROTO_SCHEMA = 'syntax = "proto3";\nmessage BenchValue { string source = 1; string pad = 2; }\n'
const FORMATS = {
  json: { type: 'application/vnd.kafka.json.v2+json', schema: {} },
  avro: { type: 'application/vnd.kafka.avro.v2+json', schema: { value_schema: AVRO_SCHEMA } },
  jsonschema: { type: 'application/vnd.kafka.jsonschema.v2+json', schema: { value_schema: JSON_SCHEMA } },
  protobuf: { type: 'application/vnd.kafka.protobuf.v2+json', schema: { value_schema: PROTO_SCHEMA } }
} as const
type Format = keyof typeof FORMATS

function sh (script: string, ...argv: string[]): void {
  const r = spawnSync('bash', [join(root, 'scripts', script), ...argv], { stdio: ['ignore', 'inherit', 'inherit'] })
  if (r.status !== 0) throw new Error(`scripts/${script} ${argv.join(' ')} failed (${r.status ?? r.signal})`)
}

/** The schema given by id after the first request registered it: what a steady producer sends. */
async function bodyFor (pool: Pool, topic: string, format: Format): Promise<string> {
  const records = Array.from({ length: 100 }, () => ({ value }))
  if (format === 'json') return JSON.stringify({ records })
  const first = await pool.request({ path: `/topics/${topic}`, method: 'POST', headers: { 'content-type': FORMATS[format].type }, body: JSON.stringify({ ...FORMATS[format].schema, records: records.slice(0, 1) }) })
  const answer = await first.body.json() as { value_schema_id?: number }
  if (typeof answer.value_schema_id !== 'number') throw new Error(`${format}: the first produce answered ${first.statusCode} ${JSON.stringify(answer)}`)
  return JSON.stringify({ value_schema_id: answer.value_schema_id, records })
}

function sender (pool: Pool, topic: string, format: Format, body: string): Send {
  return async () => {
    const res = await pool.request({ path: `/topics/${topic}`, method: 'POST', headers: { 'content-type': FORMATS[format].type }, body })
    const text = await res.body.text()
    const stored = res.statusCode === 200 ? (JSON.parse(text) as { offsets: Array<{ error: unknown }> }).offsets.filter((o) => o.error === null).length : 0
    return { status: String(res.statusCode), records: stored }
  }
}

/** Encoding alone, in this process: µs per record, over `n` records. */
async function encodeCost (registryUrl: string, n: number): Promise<Record<Format, number>> {
  const serdes = new Serdes(new SchemaRegistry({ url: registryUrl, timeoutMs: 5000, latestTtlMs: 5000 }))
  const avro = await serdes.writer('avro', { schema: AVRO_SCHEMA, subject: 'bench-encode-value' })
  const json = await serdes.writer('jsonschema', { schema: JSON_SCHEMA, subject: 'bench-encode-json-value' })
  const proto = await serdes.writer('protobuf', { schema: PROTO_SCHEMA, subject: 'bench-encode-proto-value' })
  const time = (f: () => void): number => {
    for (let i = 0; i < 2000; i++) f() // warm up
    const t0 = performance.now()
    for (let i = 0; i < n; i++) f()
    return (performance.now() - t0) * 1000 / n
  }
  return {
    json: time(() => Buffer.from(JSON.stringify(value))),
    avro: time(() => avro.encode(value, 'bench')),
    jsonschema: time(() => json.encode(value, 'bench')),
    protobuf: time(() => proto.encode(value, 'bench'))
  }
}

interface Run { format: Format, rep: number, recordsPerSec: number, p99Ms: number, cpuUsPerRecord: number, errors: number }

async function main (): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'kosha-bench-avro-'))
  const kafkaDir = join(work, 'kafka')
  const registryDir = join(work, 'registry')
  let service: ReturnType<typeof launch> | undefined
  try {
    // The service as npm start runs it: the built one.
    if (spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' }).status !== 0) throw new Error('npm run build failed')
    sh('kafka', 'start', '--port-base', String(PORT_BASE), '--dir', kafkaDir)
    sh('schema-registry', 'start', '--port', String(REGISTRY_PORT), '--dir', registryDir)
    const env = Object.fromEntries(readFileSync(join(registryDir, 'registry.env'), 'utf8').trim().split('\n').map((l) => l.split('=', 2) as [string, string]))
    const registryUrl = env.SCHEMA_REGISTRY_URL ?? ''
    const serviceLog = join(work, 'service.log')
    service = launch('sh', ['scripts/serve'], {
      env: { BROKER_ADDRESS: `127.0.0.1:${PORT_BASE}`, PORT: String(SERVICE_PORT), HOST: '127.0.0.1', NODE_ENV: 'production', SCHEMA_REGISTRY_URL: registryUrl },
      log: serviceLog
    })
    await waitReady(`http://127.0.0.1:${SERVICE_PORT}/readyz`, service, serviceLog)
    const pool = new Pool(`http://127.0.0.1:${SERVICE_PORT}`, { connections: 8 })
    const runs: Run[] = []
    const bodies = new Map<Format, { topic: string, body: string }>()
    for (const format of Object.keys(FORMATS) as Format[]) {
      const topic = `bench-avro-${format}-${Date.now()}`
      const created = await pool.request({ path: '/api/v1/create', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic, numParts: 3 }) })
      await created.body.text()
      bodies.set(format, { topic, body: await bodyFor(pool, topic, format) })
    }
    for (let rep = 1; rep <= 3; rep++) {
      const order = (rep % 2 === 1 ? ['json', 'avro', 'jsonschema', 'protobuf'] : ['protobuf', 'jsonschema', 'avro', 'json']) as Format[]
      for (const format of order) {
        const { topic, body } = bodies.get(format) as { topic: string, body: string }
        const pid = service.pid ?? 0
        const cpu0 = cpuSeconds(pid)
        const result = await closedLoop({ concurrency: 8, maxRequests: Number.MAX_SAFE_INTEGER, durationMs: seconds * 1000, send: sender(pool, topic, format, body) })
        const cpu = cpuSeconds(pid) - cpu0
        const run = {
          format,
          rep,
          recordsPerSec: result.records / result.elapsedSec,
          p99Ms: result.latencyMs.p99,
          cpuUsPerRecord: result.records > 0 ? cpu * 1e6 / result.records : 0,
          errors: result.requests - (result.statuses['200'] ?? 0)
        }
        runs.push(run)
        log(`${format} rep ${rep}: ${Math.round(run.recordsPerSec)} records/s, p99 ${run.p99Ms.toFixed(1)} ms, ${run.cpuUsPerRecord.toFixed(2)} CPU-µs/record, ${run.errors} errors`)
      }
    }
    await pool.close()
    const alone = await encodeCost(registryUrl, 200_000)
    const median = (f: Format, k: 'recordsPerSec' | 'p99Ms' | 'cpuUsPerRecord'): number => percentiles(runs.filter((r) => r.format === f).map((r) => r[k])).p50
    const rows = (Object.keys(FORMATS) as Format[]).map((f) =>
      `| ${f} | ${Math.round(median(f, 'recordsPerSec'))} | ${median(f, 'p99Ms').toFixed(1)} | ${median(f, 'cpuUsPerRecord').toFixed(2)} | ${(median(f, 'cpuUsPerRecord') - median('json', 'cpuUsPerRecord')).toFixed(2)} | ${alone[f].toFixed(2)} |`)
    const errors = runs.reduce((n, r) => n + r.errors, 0)
    const md = `# Schema encoding on produce, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC

\`npm run bench:avro -- --seconds ${seconds}\`: v2 produce, 8 connections, 100 records of about 100 B per request
(the schema by \`value_schema_id\`, as a steady producer sends it), one broker (scripts/kafka), Apicurio Registry
(scripts/schema-registry), the service as \`npm start\` runs it; medians of 3 repetitions of ${seconds} s in
alternating order, on this 2-core machine with the load generator, the broker and the registry beside the service.
${errors > 0 ? `\n**${errors} requests failed.**\n` : ''}
| format | records/s | p99 ms | service CPU µs/record | over json | encoding alone, µs/record |
|---|---|---|---|---|---|
${rows.join('\n')}

"encoding alone" is the service's own serializer (registry/serdes.ts) in one process, without HTTP or Kafka: for
json, \`JSON.stringify\` of the value; for avro, Avro's binary encoding through avsc (the value checked against the
schema on the way, its JSON re-read as Avro's JSON encoding) and the 5-byte frame; for jsonschema, ajv's check, the
JSON text and the frame; for protobuf, the JSON mapping's check field by field (registry/protobuf.ts), protobufjs's
binary encoding, the message index and the frame. Schemas are fetched from the registry once and then cached: the registry sees no request
per record.
`
    writeFileSync(join(root, 'bench', 'results', 'avro.md'), md)
    writeFileSync(join(root, 'bench', 'results', 'avro.json'), JSON.stringify({ seconds, runs, encodingAloneUs: alone }, null, 2) + '\n')
    log('written: bench/results/avro.md')
  } finally {
    if (service !== undefined && service.exitCode === null) service.kill('SIGTERM')
    try { sh('schema-registry', 'stop', '--dir', registryDir) } catch {}
    try { sh('kafka', 'stop', '--dir', kafkaDir) } catch {}
    rmSync(work, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
