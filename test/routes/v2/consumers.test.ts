import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../../helper'
import { createTopic, kafkaClient, uniqueName } from '../../kafka'

const V2 = 'application/vnd.kafka.v2+json'
const BINARY = 'application/vnd.kafka.binary.v2+json'
const JSONV2 = 'application/vnd.kafka.json.v2+json'

async function produce (t: Test, topic: string, messages: Array<{ key?: string, value: string, partition?: number, headers?: Record<string, string> }>): Promise<void> {
  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  await producer.send({ topic, messages })
}

async function instance (app: FastifyInstance, group: string, body: object): Promise<string> {
  const res = await app.inject({ method: 'POST', url: `/consumers/${group}`, headers: { 'content-type': V2 }, payload: body })
  if (res.statusCode !== 200) throw new Error(`create: ${res.statusCode} ${res.body}`)
  return `/consumers/${group}/instances/${res.json().instance_id as string}`
}

t.test('create: base_uri from ADVERTISED_URL; duplicate 409; schema formats 415; unknown instance 404', async (t) => {
  const app = await build(t, { env: { ADVERTISED_URL: 'https://kafka.example.com/rest' } })
  const group = uniqueName('g')
  const res = await app.inject({ method: 'POST', url: `/consumers/${group}`, headers: { 'content-type': V2 }, payload: { name: 'ci1', format: 'json' } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { instance_id: 'ci1', base_uri: `https://kafka.example.com/rest/consumers/${group}/instances/ci1` })
  const dup = await app.inject({ method: 'POST', url: `/consumers/${group}`, headers: { 'content-type': V2 }, payload: { name: 'ci1' } })
  t.equal(dup.statusCode, 409)
  t.equal(dup.json().error_code, 40902)
  const avro = await app.inject({ method: 'POST', url: `/consumers/${group}`, headers: { 'content-type': V2 }, payload: { format: 'avro' } })
  t.equal(avro.statusCode, 415)
  const generated = await app.inject({ method: 'POST', url: `/consumers/${group}`, headers: { 'content-type': V2 }, payload: {} })
  t.match(generated.json().instance_id, /^kosha-/, 'a name is generated when none is given')
  for (const url of [`/consumers/${group}/instances/nope/records`, `/consumers/${group}/instances/nope/subscription`]) {
    const r = await app.inject({ method: 'GET', url })
    t.equal(r.statusCode, 404)
    t.same(r.json().error_code, 40403)
  }
  t.equal((await app.inject({ method: 'DELETE', url: `/consumers/${group}/instances/ci1` })).statusCode, 204)
  t.equal((await app.inject({ method: 'DELETE', url: `/consumers/${group}/instances/ci1` })).statusCode, 404, 'gone')
})

t.test('binary: the first fetch after subscribing returns the records already there, with headers and timestamps', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  await produce(t, topic, [{ key: 'k1', value: 'one', headers: { trace: 'x1' } }, { value: 'two' }])
  const base = await instance(app, uniqueName('g'), { format: 'binary', 'auto.offset.reset': 'earliest' })
  t.equal((await app.inject({ method: 'POST', url: `${base}/subscription`, headers: { 'content-type': V2 }, payload: { topics: [topic] } })).statusCode, 204)
  t.same((await app.inject({ method: 'GET', url: `${base}/subscription` })).json(), { topics: [topic] })
  const res = await app.inject({ method: 'GET', url: `${base}/records?timeout=15000`, headers: { accept: BINARY } })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], BINARY)
  const records = res.json()
  t.equal(records.length, 2, 'both records in one fetch')
  t.match(records[0], { topic, partition: 0, offset: 0, key: Buffer.from('k1').toString('base64'), value: Buffer.from('one').toString('base64'), timestamp: Number, headers: [{ name: 'trace', value: Buffer.from('x1').toString('base64') }] })
  t.match(records[1], { offset: 1, key: null, value: Buffer.from('two').toString('base64') })
  const empty = await app.inject({ method: 'GET', url: `${base}/records?timeout=300`, headers: { accept: BINARY } })
  t.same(empty.json(), [], 'then nothing new')
})

t.test('json format: values parsed; an Accept for another format is 406', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  await produce(t, topic, [{ value: JSON.stringify({ a: 1 }) }, { value: 'plain text' }])
  const base = await instance(app, uniqueName('g'), { format: 'json', 'auto.offset.reset': 'earliest' })
  await app.inject({ method: 'POST', url: `${base}/subscription`, headers: { 'content-type': V2 }, payload: { topics: [topic] } })
  const wrong = await app.inject({ method: 'GET', url: `${base}/records?timeout=100`, headers: { accept: BINARY } })
  t.equal(wrong.statusCode, 406)
  t.equal(wrong.json().error_code, 40601)
  const res = await app.inject({ method: 'GET', url: `${base}/records?timeout=15000`, headers: { accept: JSONV2 } })
  t.same(res.json().map((r: { value: unknown }) => r.value), [{ a: 1 }, 'plain text'])

  // A JSON value comes back as it was produced: a number past 2^53 keeps its digits, pretty-printing its text.
  await produce(t, topic, [{ value: '{"id": 12345678901234567890123, "ok": true}' }, { value: '[1,\n  2]' }, { value: '"quoted \\u00e9"' }])
  const exact = await app.inject({ method: 'GET', url: `${base}/records?timeout=15000`, headers: { accept: JSONV2 } })
  t.match(exact.body, /"value":\{"id": 12345678901234567890123, "ok": true\}/, 'the big number is not rounded (JSON.parse would make it 1.2345678901234568e+22)')
  const parsed = exact.json<Array<{ value: unknown }>>().map((r) => r.value)
  t.match(parsed[0], { ok: true }, 'and the answer is valid JSON')
  t.same(parsed.slice(1), [[1, 2], 'quoted \u00e9'])
})

t.test('a fetch fills its answer up to max_bytes, not to a fixed count of records', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  // 3000 records of 100 bytes: 300 kB.
  for (let from = 0; from < 3000; from += 500) {
    await producer.send({ topic, messages: Array.from({ length: 500 }, (_, i) => ({ value: String(from + i).padStart(100, '0') })) })
  }
  const base = await instance(app, uniqueName('g'), { format: 'binary', 'auto.offset.reset': 'earliest' })
  await app.inject({ method: 'POST', url: `${base}/subscription`, headers: { 'content-type': V2 }, payload: { topics: [topic] } })
  const fetch = async (query: string): Promise<Array<{ value: string, offset: number }>> =>
    (await app.inject({ method: 'GET', url: `${base}/records?${query}`, headers: { accept: BINARY } })).json()
  const bounded = await fetch('timeout=15000&max_bytes=150000')
  t.equal(bounded.length, 1500, 'max_bytes=150000 holds exactly 1500 records of 100 bytes')
  const rest = await fetch('timeout=5000')
  t.equal(rest.length, 1500, 'the default budget (8 MiB) takes the other 1500 in one answer')
  t.same([...bounded, ...rest].map((r) => Buffer.from(r.value, 'base64').toString()), Array.from({ length: 3000 }, (_, i) => String(i).padStart(100, '0')),
    'every record once, in order: what did not fit was given back for the next fetch')
})

t.test('a topic pattern subscription', async (t) => {
  const app = await build(t)
  const prefix = uniqueName('pat')
  const topic = await createTopic(t, { name: `${prefix}-a` })
  await produce(t, topic, [{ value: 'by pattern' }])
  const base = await instance(app, uniqueName('g'), { 'auto.offset.reset': 'earliest' })
  const refused = await app.inject({ method: 'POST', url: `${base}/subscription`, headers: { 'content-type': V2 }, payload: { topic_pattern: '(?=a)b' } })
  t.equal(refused.statusCode, 400, 'a pattern librdkafka cannot take (a lookahead) is a 400, not a 500')
  t.match(refused.json(), { error_code: 400, message: /refused an argument/ })
  t.equal((await app.inject({ method: 'POST', url: `${base}/subscription`, headers: { 'content-type': V2 }, payload: { topic_pattern: `${prefix}-.*` } })).statusCode, 204)
  const res = await app.inject({ method: 'GET', url: `${base}/records?timeout=15000` })
  t.equal(res.json()[0]?.topic, topic)
})

t.test('assignments and positions: offset, beginning, end, timestamp; seeking an unassigned partition is 409', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { partitions: 2 })
  await produce(t, topic, ['a', 'b', 'c', 'd'].map((value) => ({ value, partition: 0 })))
  const base = await instance(app, uniqueName('g'), { format: 'json', 'auto.offset.reset': 'earliest' })
  const p0 = [{ topic, partition: 0 }]
  t.equal((await app.inject({ method: 'POST', url: `${base}/assignments`, headers: { 'content-type': V2 }, payload: { partitions: p0 } })).statusCode, 204)
  t.same((await app.inject({ method: 'GET', url: `${base}/assignments` })).json(), { partitions: p0 })
  const fetchValues = async (): Promise<string[]> => (await app.inject({ method: 'GET', url: `${base}/records?timeout=5000` })).json().map((r: { value: string }) => r.value)
  t.same(await fetchValues(), ['a', 'b', 'c', 'd'])
  await app.inject({ method: 'POST', url: `${base}/positions`, headers: { 'content-type': V2 }, payload: { offsets: [{ topic, partition: 0, offset: 2 }] } })
  t.same(await fetchValues(), ['c', 'd'], 'from offset 2')
  await app.inject({ method: 'POST', url: `${base}/positions/beginning`, headers: { 'content-type': V2 }, payload: { partitions: p0 } })
  t.same(await fetchValues(), ['a', 'b', 'c', 'd'], 'from the beginning')
  await app.inject({ method: 'POST', url: `${base}/positions`, headers: { 'content-type': V2 }, payload: { timestamps: [{ topic, partition: 0, timestamp: 0 }] } })
  t.same(await fetchValues(), ['a', 'b', 'c', 'd'], 'from timestamp 0')
  await app.inject({ method: 'POST', url: `${base}/positions/end`, headers: { 'content-type': V2 }, payload: { partitions: p0 } })
  t.same((await app.inject({ method: 'GET', url: `${base}/records?timeout=500` })).json(), [], 'at the end')
  const unassigned = await app.inject({ method: 'POST', url: `${base}/positions`, headers: { 'content-type': V2 }, payload: { offsets: [{ topic, partition: 1, offset: 0 }] } })
  t.equal(unassigned.statusCode, 409)
  t.equal(unassigned.json().error_code, 40903)
  const subscribeToo = await app.inject({ method: 'POST', url: `${base}/subscription`, headers: { 'content-type': V2 }, payload: { topics: [topic] } })
  t.equal(subscribeToo.statusCode, 409, 'an assigned instance cannot also subscribe')
})

t.test('commits: explicit offsets and "all fetched"; a new instance of the group resumes there', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  await produce(t, topic, ['a', 'b', 'c'].map((value) => ({ value })))
  const group = uniqueName('g')
  const base = await instance(app, group, { format: 'json', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' })
  await app.inject({ method: 'POST', url: `${base}/subscription`, headers: { 'content-type': V2 }, payload: { topics: [topic] } })
  const first = await app.inject({ method: 'GET', url: `${base}/records?timeout=15000&max_bytes=1` })
  t.same(first.json().map((r: { value: string }) => r.value), ['a'], 'max_bytes: one record')
  const committed = await app.inject({ method: 'POST', url: `${base}/offsets`, headers: { 'content-type': V2 } })
  t.equal(committed.statusCode, 200)
  t.same(committed.json(), { offsets: [{ topic, partition: 0, offset: 1, metadata: null }] }, 'commit all fetched: after the one record')
  const read = await app.inject({ method: 'GET', url: `${base}/offsets` })
  t.same(read.json().offsets, [{ topic, partition: 0, offset: 1, metadata: null }], 'the broker has it')
  t.equal((await app.inject({ method: 'DELETE', url: base })).statusCode, 204)
  const next = await instance(app, group, { format: 'json', 'auto.offset.reset': 'earliest' })
  await app.inject({ method: 'POST', url: `${next}/subscription`, headers: { 'content-type': V2 }, payload: { topics: [topic] } })
  const rest = await app.inject({ method: 'GET', url: `${next}/records?timeout=15000` })
  t.same(rest.json().map((r: { value: string }) => r.value), ['b', 'c'], 'resumes after the committed offset')
})

t.test('committed offsets of partitions the group never committed: -1, not a 500', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { partitions: 2 })
  const base = await instance(app, uniqueName('g'), { format: 'binary' })
  const assign = await app.inject({ method: 'POST', url: `${base}/assignments`, headers: { 'content-type': V2 }, payload: { partitions: [{ topic, partition: 0 }, { topic, partition: 1 }] } })
  t.equal(assign.statusCode, 204)
  await app.inject({ method: 'POST', url: `${base}/offsets`, headers: { 'content-type': V2 }, payload: { offsets: [{ topic, partition: 1, offset: 0 }] } })
  const read = await app.inject({ method: 'GET', url: `${base}/offsets` })
  t.equal(read.statusCode, 200, read.body)
  t.same(read.json(), { offsets: [{ topic, partition: 0, offset: -1, metadata: null }, { topic, partition: 1, offset: 0, metadata: null }] },
    'partition 0 has none (-1), partition 1 the one committed')
})

t.test('limits: CONSUMER_MAX instances, then 429; idle instances expire', async (t) => {
  const app = await build(t, { env: { CONSUMER_MAX: '1', CONSUMER_IDLE_TIMEOUT_MS: '1500' } })
  const group = uniqueName('g')
  const base = await instance(app, group, {})
  const second = await app.inject({ method: 'POST', url: `/consumers/${group}`, headers: { 'content-type': V2 }, payload: {} })
  t.equal(second.statusCode, 429)
  t.equal(second.json().error_code, 42901)
  await new Promise((resolve) => setTimeout(resolve, 3000))
  t.equal((await app.inject({ method: 'GET', url: `${base}/subscription` })).statusCode, 404, 'expired after being idle')
  t.equal((await app.inject({ method: 'POST', url: `/consumers/${group}`, headers: { 'content-type': V2 }, payload: {} })).statusCode, 200, 'room again')
})

t.test('a record larger than a consumer fetches at once (256 KiB a partition) is still read whole', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { partitions: 1 })
  const big = 'x'.repeat(700 * 1024)
  await produce(t, topic, [{ value: 'small' }, { value: big }, { value: 'after' }])
  const base = await instance(app, uniqueName('g'), { format: 'binary', 'auto.offset.reset': 'earliest' })
  t.teardown(async () => { await app.inject({ method: 'DELETE', url: base }) })
  await app.inject({ method: 'POST', url: `${base}/assignments`, headers: { 'content-type': V2 }, payload: { partitions: [{ topic, partition: 0 }] } })
  const values: string[] = []
  for (let i = 0; i < 10 && values.length < 3; i++) {
    const res = await app.inject({ method: 'GET', url: `${base}/records?timeout=3000`, headers: { accept: BINARY } })
    t.equal(res.statusCode, 200)
    for (const r of res.json<Array<{ value: string }>>()) values.push(Buffer.from(r.value, 'base64').toString())
  }
  t.equal(values.length, 3)
  t.equal(values[1]?.length, big.length, 'the 700 KiB value, whole')
  t.equal(values[2], 'after', 'and what follows it')
})

t.test('a trickle of records is answered as it comes, not held until the timeout to fill the answer', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { partitions: 1 })
  const base = await instance(app, uniqueName('g'), { format: 'binary', 'auto.offset.reset': 'earliest' })
  t.teardown(async () => { await app.inject({ method: 'DELETE', url: base }) })
  await app.inject({ method: 'POST', url: `${base}/assignments`, headers: { 'content-type': V2 }, payload: { partitions: [{ topic, partition: 0 }] } })
  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  await producer.send({ topic, messages: [{ value: 'first' }] })
  // A record every 2 ms or so (closer together than a fetch waits for more), while the client polls with a 5 s
  // timeout: the answer must not wait for it.
  const trickling = { on: true }
  const inFlight: Array<Promise<unknown>> = []
  const trickle = (async () => {
    for (let i = 0; trickling.on && i < 3000; i++) {
      inFlight.push(producer.send({ topic, messages: [{ value: `r${i}` }] }))
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    await Promise.all(inFlight)
  })()
  t.teardown(async () => { trickling.on = false; await trickle })
  let got = 0
  let slowest = 0
  for (let i = 0; i < 3; i++) {
    const started = Date.now()
    const res = await app.inject({ method: 'GET', url: `${base}/records?timeout=5000`, headers: { accept: BINARY } })
    slowest = Math.max(slowest, Date.now() - started)
    t.equal(res.statusCode, 200)
    got += res.json<unknown[]>().length
  }
  t.ok(got >= 3, `records arrived (${got})`)
  t.ok(slowest < 1000, `each answer came within a second, not near the 5 s timeout (slowest ${slowest} ms; filled until the timeout it took 1.5-2.3 s here)`)
})
