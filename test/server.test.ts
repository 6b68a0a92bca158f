// The real process, as a container runs it: configured by the environment, stopped by SIGTERM.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import path from 'node:path'
import t from 'tap'
import { USERS, bootstrap, createTopic, saslBootstrap, uniqueName } from './kafka'
import { kcatValueAt } from './kcat'
import { makePki } from './tls'

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

/** curl's exit code and what it wrote (the body; -w appends the status), never throwing. */
function curl (args: string[]): Promise<{ code: number, out: string, err: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', '-w', '\n%{http_code}', ...args], (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, out: stdout, err: stderr })
    })
  })
}

t.test('HTTPS_CERT_FILE and HTTPS_KEY_FILE: served over HTTPS, links are https; a client without the CA is refused', async (t) => {
  const pki = makePki(t)
  const port = await freePort()
  const { child, output } = startServer({ BROKER_ADDRESS: bootstrap(), PORT: String(port), HOST: '127.0.0.1', HTTPS_CERT_FILE: pki.serverCert, HTTPS_KEY_FILE: pki.serverKey })
  t.teardown(() => { child.kill('SIGKILL') })
  await waitFor(() => output().includes('Server listening'), 30_000)
  const url = `https://127.0.0.1:${port}`

  const health = await curl(['--cacert', pki.ca, `${url}/healthz`])
  t.equal(health.code, 0, `curl with the CA connects (${health.err})`)
  t.match(health.out, /"status":"ok"[\s\S]*\n200$/, 'and is served 200')
  const clusters = await curl(['--cacert', pki.ca, `${url}/v3/clusters`])
  t.match(clusters.out, new RegExp(`"self":"https://127\\.0\\.0\\.1:${port}/v3/clusters/`), 'links name https and the address the request reached')
  const v2 = await curl(['--cacert', pki.ca, '-H', 'content-type: application/vnd.kafka.v2+json', '-d', '{}', `${url}/consumers/${uniqueName('g')}`])
  t.match(v2.out, new RegExp(`"base_uri":"https://127\\.0\\.0\\.1:${port}/consumers/`), 'a v2 consumer\'s base_uri too')

  const untrusted = await curl([`${url}/healthz`])
  t.equal(untrusted.code, 60, 'curl without the CA refuses the certificate (exit 60)')
  t.match(untrusted.err, /certificate/)
  const otherCa = await curl(['--cacert', pki.otherCa, `${url}/healthz`])
  t.equal(otherCa.code, 60, 'and so does curl with another CA')
  const plain = await curl([`http://127.0.0.1:${port}/healthz`])
  t.notOk(plain.out.endsWith('\n200'), 'plain HTTP is not served on the HTTPS port')
  t.ok(child.exitCode === null, 'the process is still running')
})

t.test('HTTPS_CLIENT_CA_FILE: a client without a certificate that CA signed is refused; with one it is served', async (t) => {
  const pki = makePki(t)
  const port = await freePort()
  const { child, output } = startServer({
    BROKER_ADDRESS: bootstrap(), PORT: String(port), HOST: '127.0.0.1', HTTPS_CERT_FILE: pki.serverCert, HTTPS_KEY_FILE: pki.serverKey, HTTPS_CLIENT_CA_FILE: pki.ca
  })
  t.teardown(() => { child.kill('SIGKILL') })
  await waitFor(() => output().includes('Server listening'), 30_000)
  const url = `https://127.0.0.1:${port}/healthz`

  const without = await curl(['--cacert', pki.ca, url])
  t.not(without.code, 0, `curl without a client certificate is refused (exit ${without.code}: ${without.err.trim()})`)
  t.notMatch(without.out, /"status":"ok"/, 'and is served nothing')
  // A certificate signed by another CA: the server's own (signed by the test CA) would pass, so make one that is not.
  const stranger = makePki(t)
  const foreign = await curl(['--cacert', pki.ca, '--cert', stranger.clientCert, '--key', stranger.clientKey, url])
  t.not(foreign.code, 0, 'a client certificate another CA signed is refused')
  const withCert = await curl(['--cacert', pki.ca, '--cert', pki.clientCert, '--key', pki.clientKey, url])
  t.equal(withCert.code, 0, `curl with a client certificate the CA signed connects (${withCert.err})`)
  t.match(withCert.out, /"status":"ok"[\s\S]*\n200$/, 'and is served 200')
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
