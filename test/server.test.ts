// The real process, as a container runs it: configured by the environment, stopped by SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import path from 'node:path'
import t from 'tap'
import { USERS, bootstrap, createTopic, saslBootstrap } from './kafka'
import { kcatValueAt } from './kcat'

const root = path.resolve(__dirname, '..')

function freePort (): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

function startServer (env: Record<string, string>): { child: ChildProcess, output: () => string } {
  // Through env(1) without tap's coverage hooks: the child compiles the sources with tsx, and its coverage of the
  // same files would be merged with the tests' own and garble the report.
  const child = spawn('env', ['-u', 'NODE_OPTIONS', '-u', 'NODE_V8_COVERAGE', process.execPath, '--import', 'tsx', 'server.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  return { child, output: () => out }
}

async function waitFor (predicate: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

t.test('SIGTERM while produces are in flight: they complete, the records are in Kafka, the process exits 0', async (t) => {
  const topic = await createTopic(t, { partitions: 2 })
  const port = await freePort()
  // LOG_LEVEL=debug: the server logs each request's arrival, which tells when all 40 were received.
  const { child, output } = startServer({ BROKER_ADDRESS: bootstrap(), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'debug' })
  t.teardown(() => { child.kill('SIGKILL') })
  await waitFor(() => output().includes('Server listening'), 30_000)

  const requests = Array.from({ length: 40 }, (_, i) => fetch(`http://127.0.0.1:${port}/api/v1/produce/${topic}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ i })
  }).then(async (res) => ({ status: res.status, body: await res.json() as { partition: number, offset: number, code?: string } })))
  // SIGTERM once the server has received every request (it logs each one): from then on none may be lost.
  const count = (msg: string): number => output().split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).length
  await waitFor(() => count('incoming request') === 40, 10_000)
  t.comment(`${40 - count('request completed')} of 40 produces still in flight at SIGTERM`)
  child.kill('SIGTERM')
  const results = await Promise.all(requests)
  const [code] = await once(child, 'exit') as [number | null]

  t.equal(code, 0, 'the process exits 0')
  const acknowledged = results.filter((r) => r.status === 200)
  t.equal(acknowledged.length, 40, 'every request received before SIGTERM was answered 200')
  for (const r of acknowledged) {
    const value = JSON.parse((await kcatValueAt(topic, r.body.partition, r.body.offset)).toString()) as { i: number }
    t.type(value.i, 'number', `record at ${r.body.partition}/${r.body.offset} is in Kafka`)
  }
  t.match(output(), /closing/, 'the log says it is closing')
})

t.test('a missing or invalid variable stops the process at start, naming it', async (t) => {
  const missing = startServer({})
  const [code] = await once(missing.child, 'exit') as [number | null]
  t.equal(code, 78)
  t.match(missing.output(), /BROKER_ADDRESS is required/)

  const invalid = startServer({ BROKER_ADDRESS: 'localhost', PORT: 'eighty', SASL_MECHANISM: 'GSSAPI', USERNAME: 'u' })
  const [code2] = await once(invalid.child, 'exit') as [number | null]
  t.equal(code2, 78)
  t.match(invalid.output(), /BROKER_ADDRESS entry 'localhost' is not host:port/)
  t.match(invalid.output(), /PORT must be a whole number/)
  t.match(invalid.output(), /SASL_MECHANISM must be one of/)
  t.match(invalid.output(), /USERNAME is set but PASSWORD is not/)
})

// With the default KAFKA_TIMEOUT_MS (10 s), the first connection attempt to a broker that refuses the credentials, or
// does not answer, lasts as long as Fastify's plugin timeout: the process used to die with "Plugin did not start in
// time: 'kafka-connection'". It must serve instead, and say on /readyz why it is not ready.
for (const [what, env, code] of [
  ['a wrong SASL password', { BROKER_ADDRESS: saslBootstrap() ?? '', USERNAME: USERS.test.username, PASSWORD: 'not-the-password', SASL_MECHANISM: 'SCRAM-SHA-512' }, 'KOSHA_KAFKA_AUTHENTICATION_FAILED'],
  ['an unreachable broker', { BROKER_ADDRESS: '127.0.0.1:1' }, 'KOSHA_KAFKA_UNAVAILABLE']
] as const) {
  t.test(`${what} with the default KAFKA_TIMEOUT_MS: the process serves, /readyz is 503 with the reason`, { skip: env.BROKER_ADDRESS ? false : 'the cluster has no SASL listener' }, async (t) => {
    const port = await freePort()
    const started = Date.now()
    const { child, output } = startServer({ ...env, PORT: String(port), HOST: '127.0.0.1' })
    t.teardown(() => { child.kill('SIGKILL') })
    let exited: number | null | undefined
    child.once('exit', (c) => { exited = c })
    await waitFor(() => output().includes('Server listening') || exited !== undefined, 30_000)
    t.equal(exited, undefined, `the process is running (output: ${output().slice(-400)})`)
    // Past the plugin timeout (10 s from the start) it is still there, and still says why it is not ready.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 12_000 - (Date.now() - started))))
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`)
    t.equal(ready.status, 503, '/readyz: 503')
    t.match(await ready.json(), { status: 503, code }, `with ${code}`)
    t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200, '/healthz: 200')
    t.notMatch(output(), /did not start in time/, 'no plugin timeout')
    child.kill('SIGTERM')
    const [exit] = await once(child, 'exit') as [number | null]
    t.equal(exit ?? exited, 0, 'SIGTERM still stops it cleanly')
  })
}
