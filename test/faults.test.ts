// Faults the service must survive, on the run's 3-node cluster (replication factor 3, min ISR 2): a broker killed
// under produce load, the group coordinator killed under a reading consumer, the whole cluster killed and restarted.
// Every test builds a fresh service on that cluster, kills nodes with SIGKILL (scripts/kafka kill) and reads what
// reached Kafka back with an independent client (kcat). The tests run one after the other: they share the cluster.
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from './helper'
import { uniqueName } from './kafka'
import { kcatConsume } from './kcat'
import {
  activeController, cluster3, clusterAdmin, endOffsets, fullyReplicated, killNode, noCluster3, sleep, startNodes, until,
  type Cluster3
} from './cluster3'

const skip = noCluster3() ?? false
// Three tests that each wait for brokers to die and start again (15-40 s a restart on a busy 2-core machine): more
// than the 180 s .taprc gives a file. Recovery itself is bounded by each wait's own limit below.
t.setTimeout(420_000)
const KAFKA_TIMEOUT_MS = 10_000
// A request the service has not answered by then hangs: the service promises an answer within KAFKA_TIMEOUT_MS.
const HANG_MS = KAFKA_TIMEOUT_MS + 5000

async function listen (app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

/** A topic with replication factor 3 and min ISR 2 whose partitions all have `leader` as their leader. */
async function topicLedBy (t: Test, c: Cluster3, leader: number, partitions: number): Promise<string> {
  const admin = clusterAdmin(t, c)
  const topic = uniqueName('faults')
  const followers = c.nodes.filter((n) => n !== leader)
  await admin.createTopics({
    topics: [topic],
    // The first replica of each list is the preferred leader.
    assignments: Array.from({ length: partitions }, (_, partition) => ({ partition, brokers: [leader, ...(partition % 2 === 0 ? followers : [...followers].reverse())] })),
    configs: [{ name: 'min.insync.replicas', value: '2' }]
  })
  t.teardown(() => admin.deleteTopics({ topics: [topic] }).catch(() => undefined))
  await fullyReplicated(admin, [topic])
  return topic
}

type Api = 'v1' | 'v2' | 'v3'
interface Attempt {
  api: Api
  ids: string[]
  /** The ids the service acknowledged (2xx, and for a v2 batch no error_code), with where it said they are. */
  acked: Array<{ id: string, partition: number, offset: number }>
  started: number
  ms: number
  status: number
  retryAfter: string | undefined
  /** Why it failed: the error code of the answer, a v2 record's error, or that no answer came. */
  why: string | undefined
}

/** One HTTP client producing through one API, one request after the other, until stopped. */
async function producer (base: string, topic: string, clusterId: string, api: Api, client: number, attempts: Attempt[], stop: { now: boolean }): Promise<void> {
  for (let n = 0; !stop.now; n++) {
    const ids = api === 'v2' ? Array.from({ length: 5 }, (_, i) => `${api}-${client}-${n}-${i}`) : [`${api}-${client}-${n}`]
    const started = Date.now()
    const attempt: Attempt = { api, ids, acked: [], started, ms: 0, status: 0, retryAfter: undefined, why: undefined }
    const request = api === 'v1'
      ? { url: `${base}/api/v1/produce/${topic}`, type: 'application/json', body: { id: ids[0] } }
      : api === 'v2'
        ? { url: `${base}/topics/${topic}`, type: 'application/vnd.kafka.json.v2+json', body: { records: ids.map((id) => ({ value: { id } })) } }
        : { url: `${base}/v3/clusters/${clusterId}/topics/${topic}/records`, type: 'application/json', body: { value: { type: 'JSON', data: { id: ids[0] } } } }
    try {
      const res = await fetch(request.url, {
        method: 'POST', headers: { 'content-type': request.type }, body: JSON.stringify(request.body), signal: AbortSignal.timeout(HANG_MS)
      })
      const body = await res.json() as Record<string, unknown>
      attempt.status = res.status
      attempt.retryAfter = res.headers.get('retry-after') ?? undefined
      if (res.status === 200 && api === 'v1') attempt.acked.push({ id: ids[0] as string, partition: body.partition as number, offset: body.offset as number })
      else if (res.status === 200 && api === 'v3' && body.error_code === 200) attempt.acked.push({ id: ids[0] as string, partition: body.partition_id as number, offset: body.offset as number })
      else if (res.status === 200 && api === 'v2') {
        const offsets = body.offsets as Array<{ partition: number | null, offset: number | null, error_code: number | null, error: string | null }>
        offsets.forEach((o, i) => {
          if (o.error_code === null) attempt.acked.push({ id: ids[i] as string, partition: o.partition as number, offset: o.offset as number })
          else attempt.why = `v2 record error_code ${o.error_code}: ${o.error}`
        })
      } else attempt.why = String(body.code ?? body.error_code)
    } catch (err) {
      attempt.why = `no answer: ${(err as Error).message}`
    }
    attempt.ms = Date.now() - started
    attempts.push(attempt)
    await sleep(20)
  }
}

function tally (keys: string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const k of keys) counts[k] = (counts[k] ?? 0) + 1
  return counts
}

const ackedAfter = (attempts: Attempt[], since: number): number => attempts.filter((a) => a.started >= since).reduce((n, a) => n + a.acked.length, 0)

t.test('the leader of every partition, also the active controller, is killed under produce load and comes back: nothing acknowledged is lost', { skip }, async (t) => {
  const c = cluster3()
  t.teardown(() => startNodes(c)) // whatever happened, the next test gets three nodes
  const victim = await activeController(c)
  const partitions = 3
  const topic = await topicLedBy(t, c, victim, partitions)
  const admin = clusterAdmin(t, c)
  const app = await build(t, { env: { BROKER_ADDRESS: c.bootstrap, KAFKA_TIMEOUT_MS: String(KAFKA_TIMEOUT_MS) } })
  const base = await listen(app)
  const clusterId = ((await (await fetch(`${base}/v3/clusters`)).json()) as { data: Array<{ cluster_id: string }> }).data[0]?.cluster_id ?? ''

  const attempts: Attempt[] = []
  const stop = { now: false }
  const clients = (['v1', 'v1', 'v2', 'v2', 'v3', 'v3'] as const).map((api, i) => producer(base, topic, clusterId, api, i, attempts, stop))
  try {
    await until('the first 100 records acknowledged', 30_000, async () => ackedAfter(attempts, 0) >= 100)
    const leaders = (await admin.metadata({ topics: [topic], forceUpdate: true })).topics.get(topic)?.partitions.map((p) => p.leader)
    t.same(leaders, Array(partitions).fill(victim), `node ${victim} leads every partition`)
    await killNode(c, victim)
    const killed = Date.now() // the process is gone by now
    // Down: the other two are the ISR that min.insync.replicas=2 asks for, so produce must go on.
    await until('records acknowledged while the node is down', 60_000, async () => ackedAfter(attempts, killed) >= 50)
    const firstAckAfterKill = Math.min(...attempts.filter((a) => a.started >= killed && a.acked.length > 0).map((a) => a.started + a.ms)) - killed
    await sleep(Math.max(0, 5000 - (Date.now() - killed))) // down for at least 5 s
    const restarting = Date.now()
    await startNodes(c, victim)
    const restarted = Date.now()
    await fullyReplicated(admin, [topic])
    const inSync = Date.now()
    await until('records acknowledged after the node is back in sync', 30_000, async () => ackedAfter(attempts, inSync) >= 50)
    t.comment(`node ${victim} (leader of ${partitions} partitions and active controller) killed; first acknowledgement ${firstAckAfterKill} ms later; ` +
      `down ${restarting - killed} ms; restart took ${restarted - restarting} ms; back in every ISR ${inSync - restarted} ms after`)
  } finally {
    stop.now = true
    await Promise.all(clients)
  }

  const acked = attempts.flatMap((a) => a.acked)
  const failed = attempts.filter((a) => a.acked.length < a.ids.length)
  const total = await endOffsets(admin, topic, partitions)
  const found = await kcatConsume(topic, total, { brokers: c.bootstrap, timeoutMs: 60_000 })
  const byId = new Map<string, Array<{ partition: number, offset: number }>>()
  for (const r of found) {
    const id = (JSON.parse(r.payload ?? '{}') as { id: string }).id
    byId.set(id, [...(byId.get(id) ?? []), { partition: r.partition, offset: r.offset }])
  }
  const lost = acked.filter((a) => !byId.has(a.id))
  const misplaced = acked.filter((a) => !(byId.get(a.id) ?? []).some((p) => p.partition === a.partition && p.offset === a.offset))
  const duplicated = [...byId].filter(([, at]) => at.length > 1)
  t.comment(`${attempts.length} requests, ${attempts.reduce((n, a) => n + a.ids.length, 0)} records sent, ${acked.length} acknowledged, ` +
    `${found.length} found, ${lost.length} lost, ${duplicated.length} duplicated; ${failed.length} requests with a failure: ` +
    JSON.stringify(tally(failed.map((a) => `${a.api} ${a.status} ${a.why ?? ''}`))))

  t.ok(acked.length <= found.length, 'acknowledged ≤ found')
  t.same(lost.map((a) => a.id), [], 'every acknowledged record is in the topic')
  t.same(misplaced.map((a) => a.id), [], 'at the partition and offset the service answered')
  // The producer is idempotent: its own retries across the failover write a record once. Nothing here retries a
  // failed request, so every record, acknowledged or not, is in the topic at most once.
  t.same(duplicated.map(([id]) => id), [], 'no record is in the topic twice')
  for (const a of failed) {
    const clear = (a.status === 503 && a.retryAfter !== undefined) || (a.status >= 400 && a.status < 500) || (a.status === 200 && a.api === 'v2')
    if (!clear) t.fail(`${a.api} ${a.ids[0]}: ${a.status} ${a.why ?? ''} after ${a.ms} ms: neither a 503 with Retry-After nor a clear 4xx`)
  }
  t.ok(attempts.every((a) => a.ms < HANG_MS), `every request answered within ${HANG_MS} ms`)
})

const V2 = 'application/vnd.kafka.v2+json'
const V2_JSON = 'application/vnd.kafka.json.v2+json'

interface Call { status: number, ms: number, retryAfter: string | undefined, body: Record<string, unknown> }

async function call (base: string, method: string, url: string, body?: unknown, type = 'application/json', accept?: string): Promise<Call> {
  const started = Date.now()
  try {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': type } : {}), ...(accept ? { accept } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(HANG_MS)
    })
    const text = await res.text()
    return { status: res.status, ms: Date.now() - started, retryAfter: res.headers.get('retry-after') ?? undefined, body: text ? JSON.parse(text) as Record<string, unknown> : {} }
  } catch (err) {
    return { status: 0, ms: Date.now() - started, retryAfter: undefined, body: { error: `no answer: ${(err as Error).message}` } }
  }
}

t.test('the group coordinator is killed under a reading v2 consumer: every record is seen, and a commit answered 200 is stored', { skip }, async (t) => {
  const c = cluster3()
  t.teardown(() => startNodes(c))
  const admin = clusterAdmin(t, c)
  const group = uniqueName('faults-group')
  const [found] = await admin.findCoordinator({ keyType: 0, keys: [group] })
  const coordinator = found?.nodeId ?? -1
  t.ok(c.nodes.includes(coordinator), `node ${coordinator} coordinates the group`)
  // Another node leads the partitions read: records keep coming while the group has no coordinator, so commits are
  // asked for in the seconds before another node takes the group over.
  const partitions = 2
  const topic = await topicLedBy(t, c, c.nodes.find((n) => n !== coordinator) ?? 1, partitions)
  const app = await build(t, { env: { BROKER_ADDRESS: c.bootstrap, KAFKA_TIMEOUT_MS: String(KAFKA_TIMEOUT_MS) } })
  const base = await listen(app)

  const created = await call(base, 'POST', `/consumers/${group}`, { name: 'reader', format: 'json', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' }, V2)
  t.equal(created.status, 200, 'instance created')
  const instance = `/consumers/${group}/instances/reader`
  t.equal((await call(base, 'POST', `${instance}/subscription`, { topics: [topic] }, V2)).status, 204, 'subscribed')

  const seen = new Set<string>()
  const polls: Call[] = []
  const poll = async (): Promise<void> => {
    const res = await call(base, 'GET', `${instance}/records?timeout=1000`, undefined, undefined, V2_JSON)
    polls.push(res)
    if (res.status === 200) for (const r of res.body as unknown as Array<{ value: { id: string } }>) seen.add(r.value.id)
  }
  const receive = (ids: string[], what: string): Promise<void> =>
    until(`every record produced ${what} is received`, 90_000, async () => { await poll(); return ids.every((id) => seen.has(id)) }, 0)
  /** Produces these ids through the service, again and again for those not acknowledged, until all are. */
  const produce = async (ids: string[]): Promise<void> => {
    let left = ids
    await until(`${ids.length} records acknowledged`, 60_000, async () => {
      const res = await call(base, 'POST', `/topics/${topic}`, { records: left.map((id) => ({ value: { id } })) }, V2_JSON)
      const offsets = res.status === 200 ? res.body.offsets as Array<{ error_code: number | null }> : []
      left = res.status === 200 ? left.filter((_, i) => offsets[i]?.error_code !== null) : left
      return left.length === 0
    })
  }
  const commits: Call[] = []
  /** Commits what was fetched until the service answers 200 (a 503 says retry); the answer's offsets, as a sum. */
  const commit = async (): Promise<number> => {
    let done: Call | undefined
    await until('a commit answered 200', 60_000, async () => {
      done = await call(base, 'POST', `${instance}/offsets`, undefined, V2)
      commits.push(done)
      return done.status === 200
    }, 200)
    return (done?.body.offsets as Array<{ offset: number }>).reduce((n, o) => n + o.offset, 0)
  }
  /** What the group's coordinator holds, asked by the test's own client (again until a coordinator answers). */
  const stored = async (): Promise<number> => {
    let sum = -1
    await until('the group\'s coordinator answers', 30_000, async () => {
      const [offsets] = await admin.listConsumerGroupOffsets({ groups: [group] })
      sum = (offsets?.topics.find((x) => x.name === topic)?.partitions ?? []).reduce((n, p) => n + Number(p.committedOffset), 0)
      return true
    }, 500)
    return sum
  }
  const ids = (what: string): string[] => Array.from({ length: 100 }, (_, i) => `${what}-${i}`)
  const [before, during, after] = [ids('before'), ids('during'), ids('after')]

  await produce(before)
  await receive(before, 'before')
  t.equal(await commit(), 100, 'a commit before the failover')
  await produce(during) // not read yet: the consumer reads them once the coordinator is dead

  await killNode(c, coordinator)
  const killed = Date.now()
  await receive(during, 'before the kill and read after it')
  const read = Date.now()
  const answered = await commit()
  const committed = Date.now()
  t.equal(answered, 200, 'the commit after the kill covers every record read')
  t.equal(await stored(), answered, 'what that commit answered is what the group holds')
  const producing = produce(after)
  await receive(after, 'after the kill')
  await producing
  t.equal(await commit(), 300, 'a commit once the group moved')
  t.equal(await stored(), await endOffsets(admin, topic, partitions), 'it holds the end of every partition')
  const [moved] = await admin.findCoordinator({ keyType: 0, keys: [group] })
  const failedPolls = polls.filter((p) => p.status !== 200)
  t.comment(`coordinator node ${coordinator} killed; the group moved to node ${moved?.nodeId}; the records produced before the kill read ${read - killed} ms ` +
    `after it, and their commit answered 200 ${committed - killed} ms after it; commits: ${JSON.stringify(tally(commits.map((x) => String(x.status))))}; ` +
    `failed polls: ${JSON.stringify(tally(failedPolls.map((p) => `${p.status} ${String(p.body.error_code ?? p.body.error ?? '')}`)))}`)
  t.not(moved?.nodeId, coordinator, 'another node coordinates the group')
  t.same([...before, ...during, ...after].filter((id) => !seen.has(id)), [], 'every record produced, before and after the kill, was received (at least once)')
  for (const p of [...failedPolls, ...commits.filter((x) => x.status !== 200)]) {
    if (!(p.status === 503 && p.retryAfter !== undefined)) t.fail(`answered ${p.status} ${JSON.stringify(p.body)} after ${p.ms} ms: not a 503 with Retry-After`)
  }
  t.ok([...polls, ...commits].every((p) => p.ms < HANG_MS), `every poll and commit answered within ${HANG_MS} ms`)

  await startNodes(c, coordinator)
  await fullyReplicated(admin, [topic])
  t.equal((await call(base, 'POST', `${instance}/offsets`, undefined, V2)).status, 200, 'commits work with the node back')
  t.equal((await call(base, 'DELETE', instance)).status, 204, 'the instance is deleted')
})

t.test('the whole cluster killed: 503 with Retry-After at once, not ready but live; restarted, the service recovers by itself', { skip }, async (t) => {
  const c = cluster3()
  t.teardown(() => startNodes(c))
  const timeoutMs = 5000
  const topic = await topicLedBy(t, c, 1, 2)
  const app = await build(t, { env: { BROKER_ADDRESS: c.bootstrap, KAFKA_TIMEOUT_MS: String(timeoutMs) } })
  const base = await listen(app)
  const clusterId = ((await call(base, 'GET', '/v3/clusters')).body.data as Array<{ cluster_id: string }>)[0]?.cluster_id ?? ''
  t.equal((await call(base, 'GET', '/readyz')).status, 200, 'ready')

  // One client produces throughout: its requests in flight when the cluster dies must end too, and clearly.
  const attempts: Attempt[] = []
  const stop = { now: false }
  const client = producer(base, topic, clusterId, 'v1', 0, attempts, stop)
  await until('records acknowledged before the kill', 30_000, async () => ackedAfter(attempts, 0) >= 20)
  await killNode(c)
  const killed = Date.now()
  await until('readyz says the cluster is down', timeoutMs * 2, async () => (await call(base, 'GET', '/readyz')).status === 503, 100)
  const noticed = Date.now()

  const requests: Array<() => [string, string, unknown?, string?]> = [
    () => ['POST', `/api/v1/produce/${topic}`, { during: 1 }],
    () => ['POST', `/topics/${topic}`, { records: [{ value: { during: 2 } }] }, V2_JSON],
    () => ['POST', `/v3/clusters/${clusterId}/topics/${topic}/records`, { value: { type: 'JSON', data: { during: 3 } } }],
    () => ['POST', '/api/v1/create', { topic: uniqueName('faults-new') }],
    () => ['GET', `/api/v1/getMetadata/${topic}`],
    () => ['GET', `/api/v1/describe/topic/${topic}`],
    () => ['GET', '/topics'],
    () => ['GET', `/v3/clusters/${clusterId}/topics`],
    () => ['GET', `/v3/clusters/${clusterId}/brokers`]
  ]
  const check = async (when: string): Promise<void> => {
    const answers = await Promise.all(requests.map(async (r) => {
      const [method, url, body, type] = r()
      return [`${method} ${url}`, await call(base, method, url, body, type)] as const
    }))
    for (const [what, res] of answers) {
      t.same([res.status, res.retryAfter !== undefined, res.body.code ?? res.body.error_code], [503, true, what.includes('/api/v1/') ? 'KOSHA_KAFKA_UNAVAILABLE' : 50003],
        `${when}: ${what}: 503 with Retry-After (${res.ms} ms)`)
      // Generous: the service knows the cluster is down and does not wait for it (measured: a few ms).
      t.ok(res.ms < timeoutMs, `${when}: ${what}: answered without waiting for KAFKA_TIMEOUT_MS (${res.ms} ms)`)
    }
  }
  await check('once not ready')
  const ready = await call(base, 'GET', '/readyz')
  t.same([ready.status, ready.retryAfter !== undefined], [503, true], 'readyz: 503 with Retry-After')
  t.match(ready.body, { code: 'KOSHA_KAFKA_UNAVAILABLE', message: /Kafka broker/ }, 'readyz says why')
  t.equal((await call(base, 'GET', '/healthz')).status, 200, 'healthz: still live')
  await sleep(Math.max(0, 12_000 - (Date.now() - killed))) // every cache and connection of the service is stale by now
  await check('12 s after the kill')

  const restarting = Date.now()
  await startNodes(c)
  const restarted = Date.now()
  await until('readyz 200 after the restart', 60_000, async () => (await call(base, 'GET', '/readyz')).status === 200, 250)
  const readyAt = Date.now()
  await until('the producing client acknowledged again', 60_000, async () => ackedAfter(attempts, restarted) >= 20)
  const producedAt = Date.now()
  stop.now = true
  await client
  const failed = attempts.filter((a) => a.acked.length === 0)
  t.comment(`the service noticed the cluster down ${noticed - killed} ms after the kill; the cluster restarted in ${restarted - restarting} ms; ` +
    `the service ready ${readyAt - restarted} ms after that, the producing client acknowledged again ${producedAt - restarted} ms after it; ` +
    `its ${failed.length} failed requests: ${JSON.stringify(tally(failed.map((a) => `${a.status} ${a.why ?? ''} ${a.ms < timeoutMs ? 'fast' : 'after the timeout'}`)))}`)
  for (const a of failed) {
    if (!(a.status === 503 && a.retryAfter !== undefined)) t.fail(`${a.ids[0]}: ${a.status} ${a.why ?? ''}: not a 503 with Retry-After`)
  }
  t.ok(attempts.every((a) => a.ms < HANG_MS), `every produce answered within ${HANG_MS} ms`)
  for (const r of requests) {
    const [method, url, body, type] = r()
    const res = await call(base, method, url, body, type)
    t.ok(res.status >= 200 && res.status < 300, `after: ${method} ${url}: ${res.status}`)
  }
})
