// A JSON body that is not UTF-8, or is nested absurdly deep, is refused with a 4xx in its API family's shape, and
// nothing is produced; a consumed value nested too deep to be written out again comes back as its text.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../helper'
import { createTopic, kafkaClient } from '../kafka'
import { exceedsDepth } from '../../lib/json-depth'

const NOT_UTF8 = Buffer.from([0x63, 0x61, 0x66, 0xe9]) // "caf" then Latin-1 é: no UTF-8 sequence
const notUtf8 = (before: string, after: string): Buffer => Buffer.concat([Buffer.from(before), NOT_UTF8, Buffer.from(after)])
const deep = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels)

async function clusterId (app: FastifyInstance): Promise<string> {
  return (await app.inject({ method: 'GET', url: '/v3/clusters' })).json().data[0].cluster_id
}

/** The next offset of partition 0, produced through the service: 0 when nothing was produced before. */
async function nextOffset (app: FastifyInstance, topic: string): Promise<number> {
  const res = await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}`, payload: { probe: true } })
  return res.json().offset
}

t.test('bytes that are not UTF-8 in a JSON body: refused (Kosha 400, v2 422 42206, v3 400), nothing produced', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  const cluster = await clusterId(app)
  const v3 = `/v3/clusters/${cluster}/topics/${topic}`
  for (const [url, type, payload, status, shape] of [
    [`/api/v1/produce/${topic}`, 'application/json', notUtf8('{"name":"', '"}'), 400, { status: 400, code: 'KOSHA_INVALID_JSON', message: /UTF-8/ }],
    [`/topics/${topic}`, 'application/vnd.kafka.json.v2+json', notUtf8('{"records":[{"value":"', '"}]}'), 422, { error_code: 42206, message: /UTF-8/ }],
    [`/topics/${topic}`, 'application/json', notUtf8('{"records":[{"value":"', '"}]}'), 422, { error_code: 42206, message: /UTF-8/ }],
    [`/topics/${topic}/partitions/0`, 'application/vnd.kafka.binary.v2+json', notUtf8('{"records":[{"key":"', '","value":"YQ=="}]}'), 422, { error_code: 42206 }],
    [`${v3}/records:batch`, 'application/json', notUtf8('{"entries":[{"id":"1","value":{"type":"STRING","data":"', '"}}]}'), 400, { error_code: 400, message: /UTF-8/ }],
    [`${v3}/records`, 'application/json', notUtf8('{"value":{"type":"STRING","data":"', '"}}'), 400, { error_code: 400, message: /UTF-8/ }],
    [`${v3}/records`, 'application/x-ndjson', notUtf8('{"value":{"type":"JSON","data":"', '"}}\n'), 400, { error_code: 400, message: /UTF-8/ }]
  ] as const) {
    const res = await app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload })
    t.equal(res.statusCode, status, `${type} to ${url}: ${status}`)
    const body = type === 'application/x-ndjson' ? JSON.parse(res.body.split('\n')[0] ?? '') : res.json()
    t.match(body, shape, 'in the family\'s shape, saying why')
  }
  t.equal(await nextOffset(app, topic), 0, 'nothing was produced')
})

t.test('a body nested 100,000 levels deep: refused in the family\'s shape (not a 500), nothing produced', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  const cluster = await clusterId(app)
  const v3 = `/v3/clusters/${cluster}/topics/${topic}`
  const levels = 100_000
  for (const [url, type, payload, status, shape] of [
    [`/api/v1/produce/${topic}`, 'application/json', `{"a":${deep(levels)}}`, 400, { status: 400, code: 'KOSHA_INVALID_JSON', message: /nested more than 1000/ }],
    ['/api/v1/create', 'application/json', `{"topic":${deep(levels)}}`, 400, { status: 400, code: 'KOSHA_INVALID_JSON' }],
    [`/topics/${topic}`, 'application/vnd.kafka.json.v2+json', `{"records":[{"value":${deep(levels)}}]}`, 422, { error_code: 42206, message: /nested/ }],
    [`${v3}/records:batch`, 'application/json', `{"entries":[{"id":"1","value":{"type":"JSON","data":${deep(levels)}}}]}`, 400, { error_code: 400, message: /nested/ }],
    [`${v3}/records`, 'application/json', `{"value":{"type":"JSON","data":${deep(levels)}}}`, 400, { error_code: 400, message: /nested/ }]
  ] as const) {
    const res = await app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload })
    t.equal(res.statusCode, status, `${url}: ${status}`)
    t.match(res.json(), shape, 'in the family\'s shape, saying why')
  }
  // 1000 levels in all is still a record: 997 inside the body's own three.
  const ok = await app.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': 'application/vnd.kafka.json.v2+json' }, payload: `{"records":[{"value":${deep(997)}}]}` })
  t.equal(ok.statusCode, 200, `1000 levels deep: produced (${ok.body.slice(0, 200)})`)
  t.equal(ok.json().offsets[0].offset, 0, 'and it is the first record of the topic: nothing before it was produced')
})

t.test('a consumed value nested deeper than the service writes out: read as its text, not a 500', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  const value = deep(100_000)
  await producer.send({ topic, messages: [{ value }, { value: deep(10) }] })
  const res = await app.inject({ method: 'GET', url: `/api/v1/topics/${topic}/partitions/0/records?offset=0` })
  t.equal(res.statusCode, 200)
  const [first, second] = res.json().records
  t.equal(first.valueEncoding, 'text', 'too deep: text')
  t.equal(first.value, value, 'the text as produced')
  t.same([second.valueEncoding, JSON.stringify(second.value)], ['json', deep(10)], 'a shallow one is JSON as before')
})

t.test('the depth scan: brackets inside strings do not count', async (t) => {
  t.equal(exceedsDepth(Buffer.from(`{"a":"${'['.repeat(5000)}"}`), 10), false, 'a string full of brackets is one level')
  t.equal(exceedsDepth(Buffer.from(`{"a":"\\"${'['.repeat(50)}"}`), 10), false, 'nor after an escaped quote')
  t.equal(exceedsDepth(Buffer.from(deep(11)), 10), true)
  t.equal(exceedsDepth(Buffer.from(deep(10)), 10), false)
  t.equal(exceedsDepth(Buffer.from('[' + '[],'.repeat(2000) + '[]]'), 10), false, 'many siblings are not depth')
})
