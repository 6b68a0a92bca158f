// The service's image (Dockerfile), run as users run it: a non-root user on a read-only root filesystem, with every
// capability dropped, against the real Kafka of this run (over SASL/SCRAM where the broker has it). It answers
// /healthz and /readyz, writes records the broker acknowledged, passes its own HEALTHCHECK, and on SIGTERM answers
// what was in flight and exits 0 within its grace period. Its size is printed.
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { bootstrap, createTopic, kafkaClient, saslBootstrap, uniqueName, USERS } from '../kafka'
import { docker, IMAGE, skipReason } from './docker'

const skip = skipReason([IMAGE])

function freePort (): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

async function waitUntil (what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!await check().catch(() => false)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(250)
  }
}

interface ImageConfig {
  Size: number
  Config: { User: string, ExposedPorts?: Record<string, unknown>, Healthcheck?: { Test: string[] }, StopSignal?: string }
}

t.test('the image: the non-root node user, port 8000, a HEALTHCHECK on /healthz, librdkafka with SSL, SASL and zstd', { skip }, async (t) => {
  const inspect = await docker(['image', 'inspect', IMAGE])
  t.equal(inspect.code, 0, inspect.stderr)
  const [image] = JSON.parse(inspect.stdout) as ImageConfig[]
  if (image === undefined) throw new Error('no image')
  t.equal(image.Config.User, 'node', 'runs as node')
  t.ok(image.Config.ExposedPorts?.['8000/tcp'], 'exposes 8000')
  t.match(image.Config.Healthcheck?.Test.join(' ') ?? '', /\/healthz/, 'its HEALTHCHECK asks /healthz')
  t.equal(image.Config.StopSignal, 'SIGTERM')
  t.comment(`${IMAGE}: ${(image.Size / 1e6).toFixed(0)} MB`)

  const features = await docker(['run', '--rm', '--network', 'host', IMAGE, 'node', '-p',
    "const k = require('@confluentinc/kafka-javascript'); k.librdkafkaVersion + ' ' + k.features.join(',')"])
  t.equal(features.code, 0, features.stderr)
  t.comment(`librdkafka in the image: ${features.stdout.trim()}`)
  for (const f of ['ssl', 'sasl_scram', 'sasl_plain', 'zstd', 'lz4']) t.match(features.stdout, new RegExp(`\\b${f}\\b`), `librdkafka has ${f}`)
})

t.test('run read-only as a non-root user: healthy, ready, writes acknowledged records, drains and exits 0 on SIGTERM', { skip }, async (t) => {
  const port = await freePort()
  const name = uniqueName('kosha-image')
  const sasl = saslBootstrap()
  const kafkaEnv = sasl !== undefined
    ? ['-e', `BROKER_ADDRESS=${sasl}`, '-e', `USERNAME=${USERS.test.username}`, '-e', `PASSWORD=${USERS.test.password}`, '-e', 'SASL_MECHANISM=SCRAM-SHA-512']
    : ['-e', `BROKER_ADDRESS=${bootstrap()}`]
  if (sasl === undefined) t.comment('the broker has no SASL listener: the image is run over PLAINTEXT')
  const graceMs = 10_000
  const run = await docker(['run', '-d', '--name', name, '--network', 'host', '--read-only', '--cap-drop', 'ALL',
    '--security-opt', 'no-new-privileges', ...kafkaEnv, '-e', `PORT=${port}`, '-e', 'HOST=127.0.0.1',
    '-e', `SHUTDOWN_GRACE_MS=${graceMs}`, IMAGE])
  t.equal(run.code, 0, `docker run: ${run.stderr}`)
  t.teardown(async () => {
    const logs = await docker(['logs', '--tail', '30', name])
    if (t.passing() === false) t.comment(`the container's log:\n${logs.stdout}${logs.stderr}`)
    await docker(['rm', '-f', name])
  })
  const base = `http://127.0.0.1:${port}`

  await waitUntil('/readyz', async () => (await fetch(`${base}/readyz`)).status === 200, 90_000)
  t.equal((await fetch(`${base}/healthz`)).status, 200, '/healthz 200')
  t.equal((await fetch(`${base}/readyz`)).status, 200, '/readyz 200: Kafka answers with these credentials')

  const uid = await docker(['exec', name, 'id', '-u'])
  t.equal(uid.stdout.trim(), '1000', 'the process runs as uid 1000, not root')
  const write = await docker(['exec', name, 'sh', '-c', 'touch /app/x'])
  t.not(write.code, 0, 'the root filesystem is read-only')
  t.match(write.stderr, /Read-only file system/)

  const topic = await createTopic(t, { prefix: 'image' })
  const first = await fetch(`${base}/api/v1/produce/${topic}?key=k`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":0}' })
  t.equal(first.status, 200, 'a produce through the container is acknowledged')
  const { partition, offset } = await first.json() as { partition: number, offset: number }
  const consumer = kafkaClient().consumer({ kafkaJS: { groupId: uniqueName('image-check'), fromBeginning: true } })
  await consumer.connect()
  t.teardown(() => consumer.disconnect())
  await consumer.subscribe({ topic })
  const seen = new Promise<string>((resolve) => {
    consumer.run({ eachMessage: async ({ partition: p, message }) => { if (p === partition && Number(message.offset) === offset) resolve(message.value?.toString() ?? '') } })
      .catch((err: unknown) => { resolve(`the consumer failed: ${String(err)}`) })
  })
  t.equal(await Promise.race([seen, sleep(30_000).then(() => 'not seen in 30 s')]), '{"n":0}', 'and the record is in Kafka')

  // The image's own HEALTHCHECK (every 15 s after a 20 s start period) turns the container healthy.
  await waitUntil('the HEALTHCHECK', async () => (await docker(['inspect', '-f', '{{.State.Health.Status}}', name])).stdout.trim() === 'healthy', 60_000)
  t.pass('docker reports the container healthy')

  // SIGTERM with produces in flight: each is answered 200, then the process exits 0 before the grace period ends.
  const inFlight = Array.from({ length: 20 }, (_, i) => fetch(`${base}/api/v1/produce/${topic}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: i + 1 })
  }).then((r) => r.status, (err: unknown) => String(err)))
  await sleep(20)
  const stopped = Date.now()
  const kill = await docker(['kill', '--signal', 'TERM', name])
  t.equal(kill.code, 0, kill.stderr)
  const statuses = await Promise.all(inFlight)
  const wait = await docker(['wait', name], { timeoutMs: graceMs + 20_000 })
  const seconds = (Date.now() - stopped) / 1000
  t.equal(wait.stdout.trim(), '0', 'the container exits 0')
  t.ok(seconds < graceMs / 1000, `within the grace period (${seconds.toFixed(1)} s of ${graceMs / 1000})`)
  t.same(statuses.filter((s) => s !== 200), [], 'every produce in flight at SIGTERM was answered 200')
  const logs = await docker(['logs', name])
  t.match(logs.stdout + logs.stderr, /closing/, 'the log says it is closing')
})
