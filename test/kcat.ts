// Debian's kcat as an independent Kafka client for cross-checks: what the service produced, kcat reads back;
// what kcat produced, the service consumes.
//
// Debian 12's kcat links librdkafka 2.0.2, whose SCRAM client is rejected by Kafka 4.x brokers (librdkafka
// appended the client nonce twice; fixed in 2.6.1). For SCRAM only, kcat is run against the librdkafka that
// setup compiled for @confluentinc/kafka-javascript. PLAINTEXT and PLAIN use Debian's librdkafka as it is.
import { execFile } from 'node:child_process'
import path from 'node:path'
import type { Mechanism, SaslUser } from './kafka'
import { bootstrap, saslBootstrap } from './kafka'

const newerLibrdkafka = path.join(path.dirname(require.resolve('@confluentinc/kafka-javascript/package.json')), 'build', 'deps')

export interface KcatOptions {
  sasl?: { mechanism: Mechanism, user: SaslUser }
  /** TLS (SSL, or SASL_SSL with `sasl`) to these brokers, verified with `ca`; `cert` and `key` for mTLS. */
  tls?: { brokers: string, ca: string, cert?: string, key?: string }
  timeoutMs?: number
  /** PLAINTEXT bootstrap addresses of another cluster than the run's (the 3-node one of test/cluster3.ts). */
  brokers?: string
}

export interface KcatRecord {
  topic: string
  partition: number
  offset: number
  key: string | null
  payload: string | null
  ts: number
  headers?: string[]
}

function connectionArgs (options: KcatOptions): string[] {
  const { sasl, tls } = options
  if (tls) {
    return [
      '-b', tls.brokers,
      '-X', `security.protocol=${sasl ? 'SASL_SSL' : 'SSL'}`,
      '-X', `ssl.ca.location=${tls.ca}`,
      ...(tls.cert && tls.key ? ['-X', `ssl.certificate.location=${tls.cert}`, '-X', `ssl.key.location=${tls.key}`] : []),
      ...(sasl ? saslArgs(sasl) : [])
    ]
  }
  if (!sasl) return ['-b', options.brokers ?? bootstrap()]
  const brokers = saslBootstrap()
  if (!brokers) throw new Error('this cluster has no SASL listener (KAFKA_SASL_BOOTSTRAP is not set)')
  return ['-b', brokers, '-X', 'security.protocol=SASL_PLAINTEXT', ...saslArgs(sasl)]
}

function saslArgs (sasl: NonNullable<KcatOptions['sasl']>): string[] {
  return ['-X', `sasl.mechanisms=${sasl.mechanism}`, '-X', `sasl.username=${sasl.user.username}`, '-X', `sasl.password=${sasl.user.password}`]
}

function run (args: string[], options: KcatOptions, input?: string): Promise<Buffer> {
  const env = { ...process.env }
  if (options.sasl?.mechanism.startsWith('SCRAM')) {
    env.LD_LIBRARY_PATH = [newerLibrdkafka, env.LD_LIBRARY_PATH].filter(Boolean).join(':')
  }
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', args, { env, encoding: 'buffer', timeout: options.timeoutMs ?? 20_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kcat ${args.filter((a) => !a.startsWith('sasl.password')).join(' ')} failed: ${stderr.toString() || err.message}`))
      else resolve(stdout)
    })
    // kcat may exit (done reading, or failed) before taking its stdin: the EPIPE that follows is not the test's
    // failure, and the exit status above says whether kcat did its work.
    child.stdin?.on('error', () => undefined)
    child.stdin?.end(input ?? '')
  })
}

/** Reads `count` records from the beginning of a topic (all partitions), as kcat's JSON envelopes. */
export async function kcatConsume (topic: string, count: number, options: KcatOptions = {}): Promise<KcatRecord[]> {
  const out = await run([...connectionArgs(options), '-C', '-t', topic, '-o', 'beginning', '-c', String(count), '-e', '-J', '-q'], options)
  return out.toString('utf8').split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as KcatRecord)
}

/** Reads the raw value bytes of one record at a partition and offset. */
export async function kcatValueAt (topic: string, partition: number, offset: number, options: KcatOptions = {}): Promise<Buffer> {
  return run([...connectionArgs(options), '-C', '-t', topic, '-p', String(partition), '-o', String(offset), '-c', '1', '-e', '-q', '-f', '%s'], options)
}

export interface KcatMessage { key?: string, value: string, headers?: Record<string, string>, partition?: number }

/** Produces records one by one, each its own kcat call. kcat takes the ASCII record and unit separators as its
 * message and key delimiters (a NUL byte cannot be a process argument), so values may hold anything but those. */
export async function kcatProduce (topic: string, messages: KcatMessage[], options: KcatOptions = {}): Promise<void> {
  for (const m of messages) {
    const args = [...connectionArgs(options), '-P', '-t', topic, '-D', '\\x1e']
    if (m.partition !== undefined) args.push('-p', String(m.partition))
    for (const [k, v] of Object.entries(m.headers ?? {})) args.push('-H', `${k}=${v}`)
    if (m.key !== undefined) args.push('-K', '\\x1f')
    await run(args, options, (m.key !== undefined ? `${m.key}\x1f` : '') + m.value + '\x1e')
  }
}

/** Runs kcat's metadata listing; resolves with its text, rejects with kcat's error text. */
export async function kcatMetadata (options: KcatOptions = {}): Promise<string> {
  return (await run([...connectionArgs(options), '-L'], options)).toString('utf8')
}
