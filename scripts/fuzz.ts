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
import { existsSync } from 'node:fs'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { homedir } from 'node:os'
import path from 'node:path'

const root = path.resolve(__dirname, '..')
export const SCHEMATHESIS_VERSION = '4.32.5'
/** Examples per operation and phase: enough to find what the checks find, within about three minutes on two cores. */
const MAX_EXAMPLES = Number(process.env.FUZZ_MAX_EXAMPLES ?? 3)

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

async function startService (bootstrap: string, port: number, log: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      BROKER_ADDRESS: bootstrap,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      // A stream the fuzzer opens shows its heartbeat at once, so that it has events to read within its limit.
      STREAM_HEARTBEAT_MS: '200'
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child.stdout?.on('data', (d: Buffer) => { log.push(d.toString()) })
  child.stderr?.on('data', (d: Buffer) => { log.push(d.toString()) })
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the service exited (${child.exitCode}): ${log.join('').slice(-2000)}`)
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false)
    if (ready) return child
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  child.kill('SIGKILL')
  throw new Error('the service was not ready within 60 s')
}

export interface FuzzResult { ok: boolean, summary: string, seconds: number }

/** Runs Schemathesis against a service on `bootstrap`; its output goes to `write` as it comes. */
export async function fuzz (bootstrap: string, write: (text: string) => void = (s) => process.stdout.write(s)): Promise<FuzzResult> {
  const started = Date.now()
  const st = schemathesisPath()
  if (!existsSync(st)) return { ok: false, summary: `schemathesis is not installed at ${st}: run scripts/setup`, seconds: 0 }
  const port = await freePort()
  const log: string[] = []
  const service = await startService(bootstrap, port, log)
  let output = ''
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
    })
    const summary = /=+ (.+ in [0-9.]+s) =+\s*$/m.exec(output)?.[1] ?? `schemathesis exited ${code}`
    return { ok: code === 0, summary, seconds: Math.round((Date.now() - started) / 1000) }
  } finally {
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
  fuzz(bootstrap).then((r) => {
    console.log(`fuzz: ${r.ok ? 'passed' : 'FAILED'}: ${r.summary} (${r.seconds}s)`)
    process.exitCode = r.ok ? 0 : 1
  }, (err: unknown) => { console.error(err); process.exitCode = 1 })
}
