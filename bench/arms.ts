// Starting and stopping what the benchmark measures, each pinned to the gateway's CPU: the service (production
// build and configuration), the HTTP-only reference, Strimzi Kafka Bridge, the Karapace REST proxy, and the native
// ceiling process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, openSync, readdirSync, writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { request } from 'undici'
import type { ArmName } from './types'
import type { CeilingTask } from './ceiling'
import type { LoadResult } from './load'

export interface Process { pid: number, stop: () => Promise<void> }
export interface Gateway extends Process { arm: ArmName, origin: string }

const root = join(__dirname, '..')

/** Starts a command, pinned to `cpu` with taskset when one is given; its output goes straight to the file `log`. */
export function launch (command: string, args: string[], options: { cpu?: string, env?: NodeJS.ProcessEnv, log: string, stdio?: 'pipe', cwd?: string }): ChildProcess {
  const [cmd, argv] = options.cpu !== undefined ? ['taskset', ['-c', options.cpu, command, ...args]] : [command, args]
  // A file, not a pipe to this process: a gateway that logs must never wait for the load generator to read.
  const out = openSync(options.log, 'a')
  const child = spawn(cmd, argv, {
    cwd: options.cwd ?? root,
    env: { ...process.env, ...options.env },
    stdio: options.stdio === 'pipe' ? ['pipe', 'pipe', out] : ['ignore', out, out]
  })
  closeSync(out)
  return child
}

async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  await exited
  clearTimeout(timer)
}

/** Waits until `url` answers 2xx, or fails naming the log to read. */
export async function waitReady (url: string, child: ChildProcess, log: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited (${child.exitCode}); see ${log}`)
    try {
      const res = await request(url, { headersTimeout: 2000, bodyTimeout: 2000 })
      await res.body.dump()
      if (res.statusCode < 300) return
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`${url} did not become ready within ${timeoutMs} ms; see ${log}`)
}

async function gateway (arm: ArmName, child: ChildProcess, origin: string, readyPath: string, log: string): Promise<Gateway> {
  try {
    await waitReady(origin + readyPath, child, log)
  } catch (err) {
    await stopChild(child)
    throw err
  }
  if (child.pid === undefined) throw new Error(`${arm} did not start`)
  return { arm, origin, pid: child.pid, stop: async () => await stopChild(child) }
}

/**
 * The service as in production. With `profile` (a folder and a name), Node writes a V8 CPU profile of the whole run
 * there when the service exits (it exits cleanly on SIGTERM, which is how the bench stops it).
 */
export async function startService (o: { bootstrap: string, port: number, cpu?: string, logDir: string, profile?: { dir: string, name: string }, nodeOptions?: string[] }): Promise<Gateway> {
  const log = join(o.logDir, 'service.log')
  const profiling = o.profile !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${o.profile.dir}`, `--cpu-prof-name=${o.profile.name}.cpuprofile`] : []
  // The production launcher (npm start): jemalloc where the system has it.
  const child = launch('sh', ['scripts/serve', ...profiling, ...(o.nodeOptions ?? [])], {
    ...(o.cpu !== undefined ? { cpu: o.cpu } : {}),
    // The production environment (NODE_ENV); everything else at its default.
    env: { BROKER_ADDRESS: o.bootstrap, PORT: String(o.port), HOST: '127.0.0.1', NODE_ENV: 'production' },
    log
  })
  return await gateway('us', child, `http://127.0.0.1:${o.port}`, '/readyz', log)
}

export async function startHttpOnly (o: { port: number, cpu?: string, logDir: string }): Promise<Gateway> {
  const log = join(o.logDir, 'http-only.log')
  const child = launch(process.execPath, ['--import', 'tsx', 'bench/http-only.ts'], {
    ...(o.cpu !== undefined ? { cpu: o.cpu } : {}),
    env: { PORT: String(o.port), HOST: '127.0.0.1', NODE_ENV: 'production' },
    log
  })
  return await gateway('http-only', child, `http://127.0.0.1:${o.port}`, '/healthz', log)
}

/** A JDK of at least `major` for the bridge: BRIDGE_JAVA_HOME, else the default java if new enough, else the newest under /usr/lib/jvm. */
export function bridgeJavaHome (major: number): string | undefined {
  const versionOf = (java: string): number => {
    const out = spawnSync(java, ['-version'], { encoding: 'utf8' })
    return Number(/version "(\d+)/.exec(out.stderr ?? '')?.[1] ?? 0)
  }
  if (process.env.BRIDGE_JAVA_HOME) return process.env.BRIDGE_JAVA_HOME
  if (versionOf('java') >= major) return undefined
  const jvms = existsSync('/usr/lib/jvm') ? readdirSync('/usr/lib/jvm').map((d) => join('/usr/lib/jvm', d)) : []
  const found = jvms.map((home) => ({ home, v: existsSync(join(home, 'bin', 'java')) ? versionOf(join(home, 'bin', 'java')) : 0 }))
    .filter((j) => j.v >= major).sort((a, b) => b.v - a.v)[0]
  if (!found) throw new Error(`Strimzi Kafka Bridge needs Java ${major} or newer: set BRIDGE_JAVA_HOME`)
  return found.home
}

/** The bridge's version, from the jar in its libs folder. */
export function bridgeVersion (home: string): string {
  const jar = readdirSync(join(home, 'libs')).map((f) => /kafka-bridge-(\d[^/]*)\.jar$/.exec(f)?.[1]).find((v) => v !== undefined)
  return jar ?? 'unknown'
}

/**
 * Strimzi Kafka Bridge from an unpacked distribution (BRIDGE_HOME), with the service's producer settings:
 * acks=all, idempotence, linger 2 ms, no compression; consumers read with auto-commit off, as ours do.
 */
export async function startBridge (o: { home: string, bootstrap: string, port: number, cpu?: string, logDir: string, javaHome?: string }): Promise<Gateway> {
  const log = join(o.logDir, 'bridge.log')
  const properties = join(o.logDir, 'bridge.properties')
  writeFileSync(properties, [
    'bridge.id=kosha-bench',
    `kafka.bootstrap.servers=${o.bootstrap}`,
    'kafka.producer.acks=all',
    'kafka.producer.enable.idempotence=true',
    'kafka.producer.linger.ms=2',
    'kafka.producer.compression.type=none',
    'kafka.consumer.auto.offset.reset=earliest',
    'http.host=127.0.0.1',
    `http.port=${o.port}`,
    'http.cors.enabled=false',
    `http.management.port=${o.port + 100}`,
    ''
  ].join('\n'))
  const script = join(o.home, 'bin', 'kafka_bridge_run.sh')
  if (!existsSync(script)) throw new Error(`${script} not found: BRIDGE_HOME must be an unpacked Strimzi Kafka Bridge distribution`)
  // Its own folder as working directory: the bridge reads openapi.json from there before its classpath, and ours
  // is not its contract.
  const child = launch('bash', [script, '--config-file', properties], {
    cwd: o.home,
    ...(o.cpu !== undefined ? { cpu: o.cpu } : {}),
    env: { ...(o.javaHome ? { JAVA_HOME: o.javaHome, PATH: `${o.javaHome}/bin:${process.env.PATH ?? ''}` } : {}) },
    log
  })
  // Readiness is served on the management port; the API on the main one.
  const gw = await gateway('bridge', child, `http://127.0.0.1:${o.port + 100}`, '/ready', log)
  return { ...gw, origin: `http://127.0.0.1:${o.port}` }
}

/** The REST proxy's entry point in a Karapace install (KARAPACE_HOME): a virtualenv `venv/` with Karapace in it. */
export function karapaceEntryPoint (home: string): string {
  return join(home, 'venv', 'bin', 'karapace_rest_proxy')
}

/** Karapace's version, and those of the Python, confluent-kafka and librdkafka it runs on, asked of its venv. */
export function karapaceVersions (home: string): Record<string, string> {
  const script = [
    'import importlib.metadata as m, platform, confluent_kafka as c',
    'print(m.version("karapace"), platform.python_version(), m.version("confluent-kafka"), c.libversion()[0])'
  ].join('\n')
  const out = spawnSync(join(home, 'venv', 'bin', 'python'), ['-c', script], { encoding: 'utf8' })
  const [karapace, python, confluentKafka, librdkafka] = (out.stdout ?? '').trim().split(' ')
  return {
    karapace: karapace ?? 'unknown',
    'karapace python': python ?? 'unknown',
    'karapace confluent-kafka': confluentKafka ?? 'unknown',
    'karapace librdkafka': librdkafka ?? 'unknown'
  }
}

/**
 * The Karapace REST proxy (no schema registry) from its own venv, configured as Karapace 6 is, by KARAPACE_*
 * variables, with the service's producer settings as far as Karapace has them: acks=all, linger 2 ms, no
 * compression. Karapace has no setting for idempotence, so its producer runs with librdkafka's default (off).
 * Consumers read with auto-commit off, as ours do (the v2 create call asks for it).
 */
export async function startKarapace (o: { home: string, bootstrap: string, port: number, cpu?: string, logDir: string }): Promise<Gateway> {
  const log = join(o.logDir, 'karapace.log')
  // Only the variables set here configure it: none inherited from the runner's environment (KARAPACE_HOME among them).
  const inherited = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('KARAPACE_')).map((k) => [k, undefined]))
  const child = launch(karapaceEntryPoint(o.home), [], {
    cwd: o.home,
    ...(o.cpu !== undefined ? { cpu: o.cpu } : {}),
    env: {
      ...inherited,
      KARAPACE_KARAPACE_REST: 'true',
      KARAPACE_KARAPACE_REGISTRY: 'false',
      KARAPACE_BOOTSTRAP_URI: o.bootstrap,
      KARAPACE_HOST: '127.0.0.1',
      KARAPACE_PORT: String(o.port),
      KARAPACE_ADVERTISED_HOSTNAME: '127.0.0.1',
      KARAPACE_ADVERTISED_PROTOCOL: 'http',
      KARAPACE_CLIENT_ID: 'kosha-bench',
      // Its default is DEBUG; INFO is what a deployment runs, as the service runs at info.
      KARAPACE_LOG_LEVEL: 'INFO',
      KARAPACE_PRODUCER_ACKS: 'all',
      KARAPACE_PRODUCER_LINGER_MS: '2',
      KARAPACE_PRODUCER_COMPRESSION_TYPE: 'none'
    },
    log
  })
  return await gateway('karapace', child, `http://127.0.0.1:${o.port}`, '/_health', log)
}

/** The native ceiling: a long-lived process that runs one task at a time. */
export class Ceiling implements Process {
  readonly pid: number
  private readonly child: ChildProcess
  private readonly answers = new Map<number, (line: { result?: LoadResult, error?: string }) => void>()
  private nextId = 1

  private constructor (child: ChildProcess) {
    this.child = child
    this.pid = child.pid ?? 0
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let msg: { id?: number, result?: LoadResult, error?: string }
      try { msg = JSON.parse(line) as typeof msg } catch { return }
      const answer = msg.id !== undefined ? this.answers.get(msg.id) : undefined
      if (answer && msg.id !== undefined) { this.answers.delete(msg.id); answer(msg) }
    })
  }

  static async start (o: { bootstrap: string, cpu?: string, logDir: string }): Promise<Ceiling> {
    const child = launch(process.execPath, ['--import', 'tsx', 'bench/ceiling.ts'], {
      ...(o.cpu !== undefined ? { cpu: o.cpu } : {}),
      env: { BROKER_ADDRESS: o.bootstrap, NODE_ENV: 'production' },
      log: join(o.logDir, 'ceiling.log'),
      stdio: 'pipe'
    })
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! })
      lines.once('line', () => { lines.close(); resolve() })
      child.once('exit', (code) => reject(new Error(`the ceiling process exited (${code}); see ${join(o.logDir, 'ceiling.log')}`)))
    })
    return new Ceiling(child)
  }

  async run (task: CeilingTask): Promise<LoadResult> {
    const id = this.nextId++
    const answer = new Promise<{ result?: LoadResult, error?: string }>((resolve) => this.answers.set(id, resolve))
    this.child.stdin!.write(JSON.stringify({ id, task }) + '\n')
    const { result, error } = await answer
    if (!result) throw new Error(`ceiling: ${error ?? 'no result'}`)
    return result
  }

  async stop (): Promise<void> {
    this.child.stdin!.end()
    await stopChild(this.child)
  }
}
