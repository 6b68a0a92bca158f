// Consumers from any replica, as deployed: three service processes behind a real nginx (round-robin, no stickiness,
// with the proxy settings of the Helm chart's ingress: no buffering, its timeouts and body size, test/deploy/ingress.ts).
// A v2 consumer instance is created, polled and committed through the proxy while records are produced continuously;
// the replica holding it is killed (SIGKILL) mid-stream. The client retries what a real client retries (502 from
// nginx, 503 from the service) and goes on through the other replicas: every record produced is delivered at least
// once, none is skipped. The pause the client saw is logged (not asserted: timing is for bench/).
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { chartValues, nginxDirectives } from '../deploy/ingress'
import { adminClient, bootstrap, createTopic, kafkaClient, uniqueName } from '../kafka'
import { freePort, nginxSkip, startNginx } from '../nginx'

const root = path.resolve(__dirname, '..', '..')
const V2 = 'application/vnd.kafka.v2+json'
const JSONV2 = 'application/vnd.kafka.json.v2+json'
const bodyLimit = Number(chartValues().bodyLimitBytes)

interface Service { port: number, child: ChildProcess, output: () => string }

function startService (t: Test, port: number, stateTopic: string): Service {
  // Through env(1) without tap's coverage hooks (see test/server.test.ts).
  const child = spawn('env', ['-u', 'NODE_OPTIONS', '-u', 'NODE_V8_COVERAGE', process.execPath, '--import', 'tsx', 'server.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      BROKER_ADDRESS: bootstrap(),
      PORT: String(port),
      HOST: '127.0.0.1',
      REPLICA_URL: `http://127.0.0.1:${port}`,
      STATE_TOPIC: stateTopic,
      SHUTDOWN_GRACE_MS: '5000',
      // As the chart sets it: the same value gives the ingress its proxy-body-size.
      BODY_LIMIT: String(bodyLimit)
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await Promise.race([once(child, 'exit'), sleep(8000).then(() => child.kill('SIGKILL'))])
    }
    // The replica's log, to read when the test fails.
    writeFileSync(path.join(tmpdir(), `kosha-replica-${port}.log`), out)
  })
  return { port, child, output: () => out }
}

/** nginx, as the chart's ingress: round-robin over the replicas, nothing sticky. */
async function proxyTo (t: Test, upstreams: number[]): Promise<string> {
  const { port } = await startNginx(t, {
    http: ['upstream kosha {', ...upstreams.map((p) => `  server 127.0.0.1:${p} max_fails=0;`), '}'],
    server: [
      'location / {',
      '  proxy_pass http://kosha;',
      "  # What the Helm chart's ingress is given (ingress.proxy in its values.yaml), as ingress-nginx writes it.",
      ...nginxDirectives().map((d) => `  ${d}`),
      '  proxy_set_header Connection "";',
      '  # The client retries, as a real client would: nginx passes every failure on as it is.',
      '  proxy_next_upstream off;',
      '}'
    ]
  })
  return `http://127.0.0.1:${port}`
}

async function waitUntil (check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!await check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await sleep(100)
  }
}

interface Answer { status: number, body: unknown, retries: number }

/** A request as a real client sends it: 502 (nginx: the upstream died), 503 (the service: retriable) and connection errors are retried. */
async function call (base: string, method: string, url: string, body?: unknown, accept = V2): Promise<Answer> {
  let retries = 0
  for (;;) {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { 'content-type': V2, accept },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(40_000)
    }).catch(() => undefined)
    if (res && res.status !== 502 && res.status !== 503) {
      const text = await res.text().catch(() => undefined)
      // A body cut short (the holder died while nginx relayed it) is retried like a 502.
      if (text !== undefined) {
        try {
          return { status: res.status, body: text === '' ? null : JSON.parse(text) as unknown, retries }
        } catch {}
      }
    }
    retries++
    if (retries > 200) throw new Error(`${method} ${url}: still failing after ${retries} tries (last: ${res?.status ?? 'no answer'})`)
    const after = Number(res?.headers.get('retry-after') ?? 0)
    await sleep(res?.status === 503 && after > 0 ? Math.min(after, 1) * 1000 : 100)
  }
}

/** A gauge of a replica's /metrics (0 when the replica does not answer: it was killed). */
async function gauge (port: number, name: 'kosha_consumers' | 'kosha_streams'): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined))?.text().catch(() => '') ?? ''
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0)
}
const held = async (port: number): Promise<number> => await gauge(port, 'kosha_consumers')

/** Three replicas sharing a state topic of the test's own, ready, behind nginx; and a 2-partition topic. */
async function deployment (t: Test): Promise<{ topic: string, ports: number[], services: Service[], proxy: string }> {
  const stateTopic = uniqueName('_kosha_state_test')
  const admin = await adminClient(t)
  t.teardown(() => admin.deleteTopics({ topics: [stateTopic] }).catch(() => undefined))
  const topic = await createTopic(t, { partitions: 2 })
  const ports = await Promise.all([freePort(), freePort(), freePort()])
  const services = ports.map((p) => startService(t, p, stateTopic))
  for (const s of services) {
    await waitUntil(async () => (await fetch(`http://127.0.0.1:${s.port}/readyz`).catch(() => undefined))?.status === 200, 60_000)
      .catch((err: unknown) => { throw new Error(`replica on ${s.port} did not start: ${String(err)}\n${s.output()}`) })
  }
  return { topic, ports, services, proxy: await proxyTo(t, ports) }
}

/**
 * Records produced continuously, numbered 0, 1, 2…, spread over the topic's two partitions; only those Kafka
 * acknowledged count as produced. `stop()` ends the production and resolves once the last send settled.
 */
async function produceContinuously (t: Test, topic: string): Promise<{ produced: Set<number>, stop: () => Promise<void> }> {
  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  const produced = new Set<number>()
  const run = { producing: true }
  let n = 0
  const production = (async () => {
    while (run.producing) {
      const batch = Array.from({ length: 5 }, () => n++)
      await producer.send({ topic, messages: batch.map((i) => ({ partition: i % 2, value: JSON.stringify(i) })) })
      for (const i of batch) produced.add(i)
      await sleep(20)
    }
  })()
  return { produced, stop: async () => { run.producing = false; await production } }
}

t.test('SIGKILL of the replica holding a consumer mid-stream: every record delivered at least once, none skipped', { skip: nginxSkip }, async (t) => {
  const { topic, ports, services, proxy } = await deployment(t)

  const group = uniqueName('g')
  const created = await call(proxy, 'POST', `/consumers/${group}`, { name: 'survivor', format: 'json', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' })
  t.equal(created.status, 200, 'created through the proxy')
  const base = `/consumers/${group}/instances/survivor`
  t.equal((await call(proxy, 'POST', `${base}/subscription`, { topics: [topic] })).status, 204, 'subscribed through the proxy')

  const { produced, stop } = await produceContinuously(t, topic)

  // The client: poll, then commit exactly what it received (explicit offsets, so a commit after a takeover is right too).
  const delivered = new Map<number, number>()
  // When the holder was killed, and when records came last before and first after it.
  const clock = { killedAt: 0, firstAfterKill: 0, lastBeforeKill: 0 }
  let retries = 0
  const poll = async (): Promise<void> => {
    const res = await call(proxy, 'GET', `${base}/records?timeout=1000`, undefined, JSONV2)
    retries += res.retries
    t.equal(res.status, 200, 'a fetch answers 200') || t.comment(JSON.stringify(res.body))
    const records = Array.isArray(res.body) ? res.body as Array<{ value: number, partition: number, offset: number }> : []
    if (records.length === 0) return
    if (clock.killedAt === 0) clock.lastBeforeKill = Date.now()
    else if (clock.firstAfterKill === 0) clock.firstAfterKill = Date.now()
    for (const r of records) delivered.set(r.value, (delivered.get(r.value) ?? 0) + 1)
    const next = new Map<number, number>()
    for (const r of records) next.set(r.partition, r.offset + 1)
    const offsets = [...next].map(([partition, offset]) => ({ topic, partition, offset }))
    const commit = await call(proxy, 'POST', `${base}/offsets`, { offsets })
    retries += commit.retries
    // A commit refused in a rebalance leaves the records to come again: at least once either way.
    if (commit.status !== 200) t.comment(`commit answered ${commit.status}: ${JSON.stringify(commit.body)}`)
  }

  const streamStart = Date.now()
  while (delivered.size < 100 || Date.now() - streamStart < 2000) await poll()
  const holders = await Promise.all(ports.map(held))
  t.same(holders.filter((h) => h === 1).length, 1, 'exactly one replica holds the instance')
  const victim = services[holders.indexOf(1)]
  if (!victim) throw new Error('no holder found')
  // Killed while a fetch is on its way: whatever it had taken was never committed, so it comes again.
  const inFlight = poll()
  await sleep(5)
  victim.child.kill('SIGKILL')
  clock.killedAt = Date.now()
  t.comment(`SIGKILL of the holder (port ${victim.port}) after ${delivered.size} records, a fetch in flight`)
  await inFlight

  while ((Date.now() - clock.killedAt < 3000 || clock.firstAfterKill === 0) && Date.now() - clock.killedAt < 30_000) await poll()
  t.not(clock.firstAfterKill, 0, `records come again after the kill (the replicas' logs: ${tmpdir()}/kosha-replica-{${ports.join(',')}}.log)`)
  await stop()
  const deadline = Date.now() + 30_000
  while ([...produced].some((i) => !delivered.has(i)) && Date.now() < deadline) await poll()

  const missing = [...produced].filter((i) => !delivered.has(i))
  t.same(missing.slice(0, 20), [], `every one of the ${produced.size} records produced was delivered (none skipped)`)
  const twice = [...delivered.values()].filter((c) => c > 1).length
  const survivors = await Promise.all(ports.filter((p) => p !== victim.port).map(held))
  t.same(survivors.sort(), [0, 1], 'one surviving replica holds the instance now')
  const pause = clock.firstAfterKill - clock.killedAt
  const gap = clock.firstAfterKill - clock.lastBeforeKill
  t.comment(`pause: ${pause} ms from SIGKILL to the next records (${gap} ms between records); ${retries} retried requests; ${twice} records delivered more than once`)
  console.log(`replicas failover: pause ${pause} ms after SIGKILL of the holder (gap between records ${gap} ms), ${retries} retries, ${twice} redelivered, ${produced.size} produced`)
  t.equal((await call(proxy, 'DELETE', base)).status, 204, 'deleted through the proxy')
})

t.test('SIGKILL of the replica serving an SSE stream: the client reconnects through the proxy with Last-Event-ID and misses nothing', { skip: nginxSkip }, async (t) => {
  const { topic, ports, services, proxy } = await deployment(t)
  const { produced, stop } = await produceContinuously(t, topic)

  // An EventSource's behaviour: read events; when the stream ends, reconnect (through the proxy) sending the id of
  // the last event received as Last-Event-ID. commit=auto: a record counts as acknowledged once written to the client.
  const delivered = new Map<number, number>()
  const clock = { killedAt: 0, firstAfterKill: 0, connectionAtKill: 0 }
  let lastEventId: string | undefined
  let connections = 0
  const statuses: number[] = []
  const group = uniqueName('g')
  const client = { on: true }
  const reading = (async () => {
    while (client.on) {
      const res = await fetch(`${proxy}/api/v1/streams/${group}?topics=${topic}&offset=earliest&commit=auto`, {
        headers: { accept: 'text/event-stream', ...(lastEventId !== undefined ? { 'last-event-id': lastEventId } : {}) }
      }).catch(() => undefined)
      if (!res || res.status !== 200 || !res.body) { statuses.push(res?.status ?? 0); await sleep(100); continue }
      connections++
      let text = ''
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          text += Buffer.from(chunk).toString('utf8')
          let cut: number
          while ((cut = text.indexOf('\n\n')) >= 0) {
            const lines = text.slice(0, cut).split('\n')
            text = text.slice(cut + 2)
            if (!lines.includes('event: record')) continue
            const id = lines.find((l) => l.startsWith('id: '))?.slice(4)
            const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')
            const value = (JSON.parse(data) as { value: number }).value
            delivered.set(value, (delivered.get(value) ?? 0) + 1)
            // The first record of a connection opened after the kill (records already on their way do not count).
            if (clock.killedAt !== 0 && clock.firstAfterKill === 0 && connections > clock.connectionAtKill) clock.firstAfterKill = Date.now()
            lastEventId = id
          }
          if (!client.on) break
        }
      } catch {}
    }
  })()

  await waitUntil(async () => delivered.size >= 100, 30_000)
    .catch((err: unknown) => { throw new Error(`${String(err)}: ${delivered.size} records over ${connections} connections; refused: ${statuses.join(',')}`) })
  const counts = await Promise.all(ports.map(async (p) => await gauge(p, 'kosha_streams')))
  const victim = services[counts.indexOf(1)]
  t.equal(counts.filter((c) => c === 1).length, 1, 'one replica serves the stream')
  if (!victim) throw new Error('no replica serves the stream')
  clock.connectionAtKill = connections
  victim.child.kill('SIGKILL')
  clock.killedAt = Date.now()
  await waitUntil(async () => clock.firstAfterKill !== 0, 30_000)
  await sleep(1000)
  await stop()
  await waitUntil(async () => [...produced].every((i) => delivered.has(i)), 30_000).catch(() => undefined)
  client.on = false
  // Ends the last connection: one more record makes the reader look at `client.on`.
  const last = kafkaClient().producer()
  await last.connect()
  await last.send({ topic, messages: [{ partition: 0, value: '-1' }] })
  await last.disconnect()
  await Promise.race([reading, sleep(5000)])

  const missing = [...produced].filter((i) => !delivered.has(i))
  t.same(missing.slice(0, 20), [], `every one of the ${produced.size} records produced was delivered (none skipped)`)
  t.ok(connections >= 2, 'the client reconnected after the kill')
  const twice = [...delivered.values()].filter((c) => c > 1).length
  t.comment(`stream failover: ${clock.firstAfterKill - clock.killedAt} ms from SIGKILL to the next record, over ${connections} connections; ${twice} records delivered more than once`)
  console.log(`stream failover: pause ${clock.firstAfterKill - clock.killedAt} ms after SIGKILL of the replica serving the stream, ${twice} redelivered, ${produced.size} produced`)
})

t.test('the proxy and the service refuse the same bodies: one of BODY_LIMIT bytes reaches the service, one byte more is refused by nginx', { skip: nginxSkip }, async (t) => {
  const port = await freePort()
  const service = startService(t, port, uniqueName('_kosha_state_test'))
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200, 60_000)
    .catch((err: unknown) => { throw new Error(`the service did not start: ${String(err)}\n${service.output()}`) })
  const proxy = await proxyTo(t, [port])
  // Not JSON: the service refuses it (422, v2's error for a malformed body) once it has read it all, so the answer
  // says who read the body.
  const send = async (bytes: number): Promise<Response> => await fetch(`${proxy}/topics/${uniqueName('t')}`, {
    method: 'POST',
    headers: { 'content-type': JSONV2, accept: V2 },
    body: Buffer.alloc(bytes, 'x')
  })
  const atLimit = await send(bodyLimit)
  const refused = await atLimit.json() as { error_code?: number, message?: string }
  t.equal(atLimit.status, 422, `${bodyLimit} bytes pass nginx and are read by the service (not JSON: 422)`) || t.comment(JSON.stringify(refused))
  t.match(refused, { error_code: 42206, message: /JSON/ }, 'the service\'s own answer: the body is not JSON')
  const over = await send(bodyLimit + 1)
  t.equal(over.status, 413, 'one byte more: 413')
  t.match(await over.text(), /<center>nginx/, 'from nginx, before the service (client_max_body_size)')
})
