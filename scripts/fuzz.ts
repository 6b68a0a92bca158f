// The fuzzing step: Schemathesis (installed by scripts/setup) against the real service on a real broker, generated
// from our own openapi.json, with every check (--checks all), a fixed number of examples per operation, and
// deterministic generation, so that a run is reproducible. It passes only with no failure at all; the checks that
// are not meaningful for an operation are turned off for that operation alone, each with its reason, in
// test/fuzz/schemathesis.toml.
//
//   KAFKA_BOOTSTRAP=host:port npm run -s fuzz     (run by `npm test` after the tap files, see scripts/run-tests.ts)
//
// The fuzzer creates and deletes topics, groups, consumers and ACLs and writes broker configs with the values it
// invents: it must run on a broker that nobody else uses at the time (npm test gives it the run's own broker once
// the tap files are done).
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { homedir, tmpdir } from 'node:os'
import path from 'node:path'

const root = path.resolve(__dirname, '..')
export const SCHEMATHESIS_VERSION = '4.32.5'
/** Examples per operation and phase: enough to find what the checks find, within about three minutes on two cores. */
const MAX_EXAMPLES = Number(process.env.FUZZ_MAX_EXAMPLES ?? 3)
/**
 * The longest a whole run may take (about five minutes alone, eight beside the tap files): past it, it is stopped and
 * failed. It runs beside the tap files (about 21 minutes), so this bound does not lengthen a test run.
 */
const MAX_RUN_MS = Number(process.env.FUZZ_MAX_SECONDS ?? 900) * 1000
/** How long the service may leave /healthz and GET /v3/clusters unanswered before the run is stopped as stalled. */
const STALL_MS = 60_000

export function schemathesisPath (): string {
  const cache = process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache')
  return process.env.KOSHA_SCHEMATHESIS ?? path.join(cache, 'kosha-kafka-connector', `schemathesis-${SCHEMATHESIS_VERSION}`, 'bin', 'schemathesis')
}

function freePort (): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

async function startService (bootstrap: string, registryUrl: string | undefined, port: number, log: string[], reports: string): Promise<ChildProcess> {
  // SIGWINCH writes a diagnostic report (JavaScript and native stacks, libuv handles) to `reports`: see watchdog.
  // Not SIGUSR2, the usual one: close-with-grace closes the service on it.
  const child = spawn(process.execPath, ['--report-on-signal', '--report-signal=SIGWINCH', `--report-directory=${reports}`, '--import', 'tsx', 'server.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      BROKER_ADDRESS: bootstrap,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      // A stream the fuzzer opens shows its heartbeat at once, so that it has events to read within its limit.
      STREAM_HEARTBEAT_MS: '200',
      // With the run's Schema Registry, the schema formats are fuzzed too (schemas, values and ids it invents).
      ...(registryUrl !== undefined ? { SCHEMA_REGISTRY_URL: registryUrl } : {})
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child.stdout?.on('data', (d: Buffer) => { log.push(d.toString()) })
  child.stderr?.on('data', (d: Buffer) => { log.push(d.toString()) })
  // tsx compiles the sources first: on a loaded 2-core machine that alone took most of a minute.
  const deadline = Date.now() + 180_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the service exited (${child.exitCode}): ${log.join('').slice(-2000)}`)
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false)
    if (ready) return child
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  child.kill('SIGKILL')
  throw new Error(`the service was not ready within 180 s: ${log.join('').slice(-2000)}`)
}

export interface FuzzResult { ok: boolean, summary: string, seconds: number }

async function answers (url: string): Promise<boolean> {
  return await fetch(url, { signal: AbortSignal.timeout(10_000) }).then(async (r) => { await r.arrayBuffer(); return r.status < 500 }, () => false)
}

/**
 * Watches the service while the fuzzer runs. When neither /healthz (the event loop) nor GET /v3/clusters (a Kafka
 * call) has answered for STALL_MS, or the run passes MAX_RUN_MS, it asks the service for a diagnostic report, writes
 * what shows where it is stuck, and calls `stop`: a stalled service fails the run at once, with its reason, rather
 * than after every remaining request has timed out.
 */
function watchdog (base: string, service: ChildProcess, reports: string, write: (text: string) => void, stop: (why: string) => void): () => void {
  const started = Date.now()
  let healthy = Date.now()
  let kafka = Date.now()
  let busy = false
  const check = async (): Promise<void> => {
    const [h, k] = await Promise.all([answers(`${base}/healthz`), answers(`${base}/v3/clusters`)])
    const now = Date.now()
    if (h) healthy = now
    if (k) kafka = now
    const stalled = now - healthy > STALL_MS ? 'the event loop (/healthz)' : now - kafka > STALL_MS ? 'Kafka calls (GET /v3/clusters)' : undefined
    const tooLong = now - started > MAX_RUN_MS
    if (stalled === undefined && !tooLong) { busy = false; return }
    clearInterval(timer)
    const why = stalled !== undefined ? `the service stopped answering: ${stalled} unanswered for ${STALL_MS / 1000} s` : `the run passed ${MAX_RUN_MS / 1000} s`
    write(`\nfuzz: ${why}; asking the service for a diagnostic report\n`)
    service.kill('SIGWINCH')
    await new Promise((resolve) => setTimeout(resolve, 5_000))
    const file = readdirSync(reports).find((f) => f.endsWith('.json'))
    if (file === undefined) {
      write('fuzz: no report within 5 s: the main thread is blocked outside JavaScript (a native call)\n')
    } else {
      const report = JSON.parse(readFileSync(path.join(reports, file), 'utf8')) as {
        javascriptStack?: { message?: string, stack?: string[] }, nativeStack?: Array<{ symbol?: string }>, libuv?: Array<{ type: string, is_active?: boolean }>
      }
      const handles = (report.libuv ?? []).filter((h) => h.is_active === true).map((h) => h.type)
      write(`fuzz: the service's JavaScript stack: ${report.javascriptStack?.message ?? ''}\n  ${(report.javascriptStack?.stack ?? []).slice(0, 15).join('\n  ')}\n`)
      write(`fuzz: its native stack:\n  ${(report.nativeStack ?? []).slice(0, 12).map((f) => f.symbol ?? '?').join('\n  ')}\n`)
      write(`fuzz: its active libuv handles: ${handles.length} (${[...new Set(handles)].map((t) => `${t} ${handles.filter((x) => x === t).length}`).join(', ')})\n`)
    }
    stop(why)
  }
  const timer = setInterval(() => {
    if (busy) return
    busy = true
    check().catch((err: unknown) => { write(`fuzz: the watchdog failed: ${String(err)}\n`) })
  }, 5_000)
  return () => { clearInterval(timer) }
}

export interface FuzzOptions {
  /** Where Schemathesis's output goes as it comes; standard output unless given. */
  write?: (text: string) => void
  /** A Schema Registry for the service (SCHEMA_REGISTRY_URL), so that the schema formats are fuzzed too. */
  registryUrl?: string
}

/** Runs Schemathesis against a service on `bootstrap`. */
export async function fuzz (bootstrap: string, { write = (s) => process.stdout.write(s), registryUrl }: FuzzOptions = {}): Promise<FuzzResult> {
  const started = Date.now()
  const st = schemathesisPath()
  if (!existsSync(st)) return { ok: false, summary: `schemathesis is not installed at ${st}: run scripts/setup`, seconds: 0 }
  const port = await freePort()
  const log: string[] = []
  const reports = mkdtempSync(path.join(tmpdir(), 'kosha-fuzz-report-'))
  const service = await startService(bootstrap, registryUrl, port, log, reports)
  let output = ''
  let stopped: string | undefined
  let unwatch = (): void => undefined
  try {
    const code = await new Promise<number>((resolve) => {
      const run = spawn(st, [
        '--config-file', path.join(root, 'test/fuzz/schemathesis.toml'),
        'run', path.join(root, 'openapi.json'),
        '--url', `http://127.0.0.1:${port}`,
        '--checks', 'all',
        '--max-examples', String(MAX_EXAMPLES),
        '--generation-deterministic',
        '--no-color'
      ], {
        cwd: root,
        // test/fuzz/hooks.py: how to send an NDJSON body.
        env: { ...process.env, SCHEMATHESIS_HOOKS: 'hooks', PYTHONPATH: path.join(root, 'test/fuzz') },
        stdio: ['ignore', 'pipe', 'pipe']
      })
      const take = (d: Buffer): void => { output += d.toString(); write(d.toString()) }
      run.stdout.on('data', take)
      run.stderr.on('data', take)
      run.on('exit', (c) => { resolve(c ?? 1) })
      unwatch = watchdog(`http://127.0.0.1:${port}`, service, reports, write, (why) => { stopped = why; run.kill('SIGKILL') })
    })
    unwatch()
    const summary = stopped ?? /=+ (.+ in [0-9.]+s) =+\s*$/m.exec(output)?.[1] ?? `schemathesis exited ${code}`
    return { ok: code === 0 && stopped === undefined, summary, seconds: Math.round((Date.now() - started) / 1000) }
  } finally {
    unwatch()
    service.kill('SIGTERM')
    await Promise.race([once(service, 'exit'), new Promise((resolve) => setTimeout(resolve, 30_000))])
    if (service.exitCode === null) service.kill('SIGKILL')
    // A 5xx the fuzzer found is explained in the service's log, under the request id its answer names.
    const errors = log.join('').split('\n').filter((l) => l.includes('"level":50'))
    if (errors.length > 0) write(`fuzz: the service logged ${errors.length} error(s):\n${errors.slice(0, 20).join('\n')}\n`)
  }
}

if (require.main === module) {
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (!bootstrap) {
    console.error('fuzz: set KAFKA_BOOTSTRAP to a broker nobody else uses right now')
    process.exit(2)
  }
  fuzz(bootstrap, { registryUrl: process.env.SCHEMA_REGISTRY_URL }).then((r) => {
    console.log(`fuzz: ${r.ok ? 'passed' : 'FAILED'}: ${r.summary} (${r.seconds}s)`)
    process.exitCode = r.ok ? 0 : 1
  }, (err: unknown) => { console.error(err); process.exitCode = 1 })
}
