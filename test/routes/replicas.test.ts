// Consumers from any replica, in process: two apps (two replicas) sharing one state topic, each listening on its own
// port with REPLICA_URL naming it. A consumer created on A is used entirely through B (forwarded to A, its holder);
// after A shuts down, B takes it over and goes on from the committed offsets; no API may produce to the state topic.
import { get as httpGet } from 'node:http'
import { createServer, type AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { build } from '../helper'
import { USERS, adminClient, createTopic, kafkaClient, saslBootstrap, uniqueName } from '../kafka'

const V2 = 'application/vnd.kafka.v2+json'
const JSONV2 = 'application/vnd.kafka.json.v2+json'

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A state topic of this test's own, deleted at its end. */
async function stateTopicOf (t: Test): Promise<string> {
  const name = uniqueName('_kosha_state_test')
  const admin = await adminClient(t)
  t.teardown(() => admin.deleteTopics({ topics: [name] }).catch(() => undefined))
  return name
}

/** A replica of the service: the real app, listening, REPLICA_URL its own address, sharing `stateTopic`. */
async function replica (t: Test, stateTopic: string, env: Record<string, string> = {}): Promise<FastifyInstance> {
  const port = await freePort()
  const app = await build(t, { env: { STATE_TOPIC: stateTopic, REPLICA_URL: `http://127.0.0.1:${port}`, ...env } })
  await app.listen({ port, host: '127.0.0.1' })
  return app
}

/** Replicas A and B of one service, sharing a state topic of the test's own. */
async function twoReplicas (t: Test, env: Record<string, string> = {}): Promise<[FastifyInstance, FastifyInstance]> {
  const stateTopic = await stateTopicOf(t)
  return [await replica(t, stateTopic, env), await replica(t, stateTopic, env)]
}

async function produce (t: Test, topic: string, values: string[]): Promise<void> {
  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  await producer.send({ topic, messages: values.map((value) => ({ value })) })
}

const v2 = (app: FastifyInstance, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object): Promise<LightMyRequestResponse> =>
  app.inject({ method, url, headers: { 'content-type': V2, accept: JSONV2 }, ...(payload !== undefined ? { payload } : {}) })

/** The consumers a replica holds, as its kosha_consumers gauge says. */
async function held (app: FastifyInstance): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
  return Number(/^kosha_consumers (\d+)$/m.exec(text)?.[1] ?? NaN)
}

const values = (res: LightMyRequestResponse): string[] => res.json<Array<{ value: string }>>().map((r) => r.value)

t.test('a v2 instance created on A is subscribed, fetched, committed and deleted through B', async (t) => {
  const [a, b] = await twoReplicas(t)
  const topic = await createTopic(t)
  await produce(t, topic, ['one', 'two', 'three'])
  const group = uniqueName('g')
  const base = `/consumers/${group}/instances/i1`

  const created = await v2(a, 'POST', `/consumers/${group}`, { name: 'i1', format: 'json', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' })
  t.equal(created.statusCode, 200, 'created on A')
  t.equal((await v2(b, 'POST', `/consumers/${group}`, { name: 'i1' })).statusCode, 409, 'B knows the name is taken')

  t.equal((await v2(b, 'POST', `${base}/subscription`, { topics: [topic] })).statusCode, 204, 'subscribed through B')
  t.same((await v2(b, 'GET', `${base}/subscription`)).json(), { topics: [topic] })
  const bad = await v2(b, 'POST', `${base}/subscription`, { topics: 'not a list' })
  t.equal(bad.statusCode, 422, 'a malformed body through B is refused as it is on A')

  const fetched = await v2(b, 'GET', `${base}/records?timeout=15000&max_bytes=1`)
  t.equal(fetched.statusCode, 200)
  t.match(fetched.headers['content-type'], JSONV2, 'the holder\'s headers come back')
  t.same(values(fetched), ['one'], 'the records, fetched on A, answered by B')
  t.ok(fetched.headers['x-request-id'], 'with a request id')
  const committed = await v2(b, 'POST', `${base}/offsets`)
  t.same(committed.json(), { offsets: [{ topic, partition: 0, offset: 1, metadata: null }] }, 'committed through B')
  t.same((await v2(a, 'GET', `${base}/offsets`)).json().offsets, [{ topic, partition: 0, offset: 1, metadata: null }], 'A sees the commit')

  t.equal(await held(a), 1, 'A holds the instance')
  t.equal(await held(b), 0, 'B holds nothing: it forwarded every request')

  t.equal((await v2(b, 'DELETE', base)).statusCode, 204, 'deleted through B')
  t.equal(await held(a), 0, 'gone from A')
  t.equal((await v2(a, 'GET', `${base}/subscription`)).statusCode, 404, 'A: 404')
  t.equal((await v2(b, 'GET', `${base}/subscription`)).statusCode, 404, 'B: 404')
  t.equal((await v2(b, 'GET', `/consumers/${group}/instances/never/records`)).json().error_code, 40403, 'an unknown instance is 404 on any replica')
})

t.test('a v1 consumer created on A is subscribed, consumed and deleted through B', async (t) => {
  const [a, b] = await twoReplicas(t)
  const topic = await createTopic(t)
  await produce(t, topic, ['first', 'second'])
  const name = uniqueName('c')

  t.equal((await a.inject({ method: 'POST', url: '/api/v1/consumers', payload: { name, offset: 'earliest' } })).statusCode, 200)
  const subscribed = await b.inject({ method: 'POST', url: `/api/v1/consumers/${name}/subscribe`, payload: { name: topic } })
  t.same(subscribed.json(), { result: 'success', topics: [topic] }, 'subscribed through B')
  const first = await b.inject({ method: 'GET', url: `/api/v1/consumers/${name}/consume?timeout=15000` })
  t.equal(first.json().value, 'first', 'consumed through B')
  const second = await a.inject({ method: 'GET', url: `/api/v1/consumers/${name}/consume?timeout=15000` })
  t.equal(second.json().value, 'second', 'and on A, the next one: one consumer')
  const badTimeout = await b.inject({ method: 'GET', url: `/api/v1/consumers/${name}/consume?timeout=soon` })
  t.equal(badTimeout.statusCode, 400, 'bad input is a 400 on B')
  t.equal(await held(b), 0)
  t.equal((await b.inject({ method: 'DELETE', url: `/api/v1/consumers/${name}` })).statusCode, 200, 'deleted through B')
  const gone = await a.inject({ method: 'GET', url: `/api/v1/consumers/${name}/consume?timeout=100` })
  t.equal(gone.json().code, 'KOSHA_CONSUMER_NOT_FOUND')
})

t.test('A shuts down: B takes its instance over at the next request and goes on from the committed offset', async (t) => {
  const [a, b] = await twoReplicas(t)
  const topic = await createTopic(t)
  await produce(t, topic, ['a', 'b', 'c'])
  const group = uniqueName('g')
  const base = `/consumers/${group}/instances/moving`
  t.equal((await v2(a, 'POST', `/consumers/${group}`, { name: 'moving', format: 'json', 'auto.offset.reset': 'earliest' })).statusCode, 200)
  t.equal((await v2(a, 'POST', `${base}/subscription`, { topics: [topic] })).statusCode, 204)
  t.same(values(await v2(a, 'GET', `${base}/records?timeout=15000&max_bytes=1`)), ['a'], 'A delivers (and auto-commits) one record')

  await a.close()
  const started = Date.now()
  const rest = await v2(b, 'GET', `${base}/records?timeout=15000`)
  t.equal(rest.statusCode, 200, 'B answers')
  t.same(values(rest), ['b', 'c'], 'B took it over: same subscription, from the committed offset')
  t.comment(`handover after a graceful shutdown: ${Date.now() - started} ms to the first records on B`)
  t.equal(await held(b), 1, 'B holds it now')
  t.same((await v2(b, 'GET', `${base}/subscription`)).json(), { topics: [topic] })
  t.equal((await v2(b, 'DELETE', base)).statusCode, 204)
})

t.test('a consumer released at a shutdown and taken over by nobody within the idle timeout has expired', async (t) => {
  const [a, b] = await twoReplicas(t, { CONSUMER_IDLE_TIMEOUT_MS: '1000' })
  const name = uniqueName('c')
  t.equal((await a.inject({ method: 'POST', url: '/api/v1/consumers', payload: { name } })).statusCode, 200)
  await a.close()
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.equal((await b.inject({ method: 'GET', url: `/api/v1/consumers/${name}/consume?timeout=0` })).statusCode, 404, 'gone, as an idle consumer is')
  t.equal((await b.inject({ method: 'POST', url: '/api/v1/consumers', payload: { name } })).statusCode, 200, 'and its name is free again (a workflow creating it at start works after a redeploy)')
  t.equal((await b.inject({ method: 'DELETE', url: `/api/v1/consumers/${name}` })).statusCode, 200)
})

t.test('a stream served by A: its SSE commit call made through B is answered by A', async (t) => {
  const [a, b] = await twoReplicas(t)
  const topic = await createTopic(t)
  await produce(t, topic, ['one', 'two', 'three'])
  const group = uniqueName('g')
  const port = (a.server.address() as AddressInfo).port

  // A real SSE connection to A; its events as they come.
  const events: Array<{ event: string, id?: string, data: { stream?: string } }> = []
  const req = httpGet({ host: '127.0.0.1', port, path: `/api/v1/streams/${group}?topics=${topic}&offset=earliest`, headers: { accept: 'text/event-stream' } }, (res) => {
    let text = ''
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => {
      text += chunk
      let cut: number
      while ((cut = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, cut).split('\n')
        text = text.slice(cut + 2)
        const field = (name: string): string | undefined => block.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2)
        const data = field('data')
        if (field('event') !== undefined) events.push({ event: field('event') ?? '', ...(field('id') !== undefined ? { id: field('id') } : {}), data: data === undefined ? {} : JSON.parse(data) })
      }
    })
  })
  req.on('error', () => undefined)
  t.teardown(() => { req.destroy() })
  const deadline = Date.now() + 20_000
  while (events.filter((e) => e.event === 'record').length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  const records = events.filter((e) => e.event === 'record')
  t.equal(records.length, 3, 'A streams the three records')
  const stream = events.find((e) => e.event === 'open')?.data.stream ?? ''
  t.match(stream, /^[0-9a-f-]{36}\.[0-9a-f-]{36}$/, 'the stream id names the replica serving it')

  const commit = await b.inject({ method: 'POST', url: `/api/v1/streams/${group}/${stream}/commit`, payload: { lastEventId: records[1]?.id } })
  t.equal(commit.statusCode, 200, 'the commit call made through B')
  t.same(commit.json(), { committed: [{ topic, partition: 0, offset: 2 }] }, 'committed by A, which holds the stream')
  const admin = await adminClient(t)
  const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] })
  t.equal(Number(offsets?.partitions[0]?.offset), 2, 'the group\'s committed offset moved')

  const unknown = await b.inject({ method: 'POST', url: `/api/v1/streams/${group}/${stream.split('.')[0] ?? ''}.no-such-stream/commit`, payload: { lastEventId: `${topic}:0:0` } })
  t.equal(unknown.statusCode, 404, 'a stream A does not have: A\'s 404, through B')
  t.equal(unknown.json().code, 'KOSHA_STREAM_NOT_FOUND')
  const nobody = await b.inject({ method: 'POST', url: `/api/v1/streams/${group}/00000000-0000-0000-0000-000000000000.x/commit`, payload: { lastEventId: `${topic}:0:0` } })
  t.equal(nobody.statusCode, 404, 'a stream of a replica nobody knows: 404')
})

t.test('no API produces to the state topic, deletes it or changes it', async (t) => {
  const stateTopic = await stateTopicOf(t)
  const app = await build(t, { env: { STATE_TOPIC: stateTopic } })
  // The topic exists once a consumer was looked up.
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/consumers/nobody/consume?timeout=0' })).statusCode, 404)
  const v1 = await app.inject({ method: 'POST', url: `/api/v1/produce/${stateTopic}`, payload: { holder: 'me' } })
  t.equal(v1.statusCode, 403)
  t.equal(v1.json().code, 'KOSHA_TOPIC_RESERVED')
  t.match(v1.json().message, /STATE_TOPIC/)
  const v2Produce = await app.inject({ method: 'POST', url: `/topics/${stateTopic}`, headers: { 'content-type': 'application/vnd.kafka.json.v2+json' }, payload: { records: [{ value: 1 }] } })
  t.equal(v2Produce.statusCode, 403)
  t.equal(v2Produce.json().error_code, 403)
  const cluster = (await app.inject({ method: 'GET', url: '/v3/clusters' })).json().data[0].cluster_id as string
  const v3 = await app.inject({ method: 'POST', url: `/v3/clusters/${cluster}/topics/${stateTopic}/records`, payload: { value: { type: 'JSON', data: 1 } } })
  t.equal(v3.statusCode, 403, 'v3 too')
  t.match(v3.json().message, /STATE_TOPIC/)

  const v1Delete = await app.inject({ method: 'DELETE', url: `/api/v1/delete/${stateTopic}` })
  t.equal(v1Delete.statusCode, 403, 'a v1 delete: 403')
  t.equal(v1Delete.json().code, 'KOSHA_TOPIC_RESERVED')
  const topicUrl = `/v3/clusters/${cluster}/topics/${stateTopic}`
  const v3Delete = await app.inject({ method: 'DELETE', url: topicUrl })
  t.equal(v3Delete.statusCode, 403, 'a v3 delete: 403')
  t.same(v3Delete.json().error_code, 403)
  const grow = await app.inject({ method: 'PATCH', url: topicUrl, payload: { partitions_count: 4 } })
  t.equal(grow.statusCode, 403, 'more partitions: 403')
  const config = await app.inject({ method: 'PUT', url: `${topicUrl}/configs/cleanup.policy`, payload: { value: 'delete' } })
  t.equal(config.statusCode, 403, 'a config change: 403')
  const batch = await app.inject({ method: 'POST', url: `${topicUrl}/configs:alter`, payload: { data: [{ name: 'retention.ms', value: '1000' }] } })
  t.equal(batch.statusCode, 403, 'a config batch: 403')
  const after = (await app.inject({ method: 'GET', url: topicUrl })).json()
  t.equal(after.partitions_count, 1, 'the topic is still there, with its one partition')
  const policy = (await app.inject({ method: 'GET', url: `${topicUrl}/configs/cleanup.policy` })).json()
  t.equal(policy.value, 'compact', 'and still compacted')
})

t.test('a state topic the connector may not use: logged once, consumers stay local and work', { skip: saslBootstrap() === undefined ? 'no SASL listener (KAFKA_SASL_BOOTSTRAP)' : false }, async (t) => {
  const stateTopic = await stateTopicOf(t)
  // The super user (PLAINTEXT) denies the test user everything on this state topic, through the service's own v3 API.
  const admin = await build(t)
  const cluster = (await admin.inject({ method: 'GET', url: '/v3/clusters' })).json().data[0].cluster_id as string
  const acl = { resource_type: 'TOPIC', resource_name: stateTopic, pattern_type: 'LITERAL', principal: `User:${USERS.test.username}`, host: '*', operation: 'ALL', permission: 'DENY' }
  t.equal((await admin.inject({ method: 'POST', url: `/v3/clusters/${cluster}/acls`, payload: acl })).statusCode, 201, 'DENY ALL on the state topic')
  t.teardown(async () => { await admin.inject({ method: 'DELETE', url: `/v3/clusters/${cluster}/acls?${new URLSearchParams(acl).toString()}` }) })

  const logs: string[] = []
  const app = await build(t, {
    logs,
    env: { BROKER_ADDRESS: saslBootstrap() ?? '', USERNAME: USERS.test.username, PASSWORD: USERS.test.password, SASL_MECHANISM: 'PLAIN', STATE_TOPIC: stateTopic, KAFKA_TIMEOUT_MS: '3000' }
  })
  const topic = await createTopic(t)
  await produce(t, topic, ['still works'])
  const name = uniqueName('c')
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/consumers', payload: { name, offset: 'earliest' } })).statusCode, 200, 'created, local only')
  t.equal((await app.inject({ method: 'POST', url: `/api/v1/consumers/${name}/subscribe`, payload: { name: topic } })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: `/api/v1/consumers/${name}/consume?timeout=15000` })).json().value, 'still works')
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/consumers/nobody/consume?timeout=0' })).statusCode, 404, 'an unknown consumer is still a 404')
  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/consumers/${name}` })).statusCode, 200)
  const warnings = logs.filter((l) => l.includes('may not use the state topic'))
  t.equal(warnings.length, 1, 'said once in the log')
})
