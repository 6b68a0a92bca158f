import t from 'tap'
import { build } from '../../helper'
import { createTopic, uniqueName } from '../../kafka'
import { kcatConsume, kcatValueAt } from '../../kcat'

const BINARY = 'application/vnd.kafka.binary.v2+json'
const JSONV2 = 'application/vnd.kafka.json.v2+json'
const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64')

t.test('binary format: base64 keys and values land as bytes, offsets in order', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { partitions: 3 })
  const raw = Buffer.from([0, 1, 2, 0xff, 0xfe])
  const res = await app.inject({
    method: 'POST',
    url: `/topics/${topic}`,
    headers: { 'content-type': BINARY },
    payload: { records: [{ key: b64('k1'), value: b64(raw) }, { value: b64('second') }, { key: b64('k1'), value: b64('third') }] }
  })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], 'application/vnd.kafka.v2+json')
  const body = res.json()
  t.same(Object.keys(body).sort(), ['key_schema_id', 'offsets', 'value_schema_id'])
  t.equal(body.offsets.length, 3)
  t.ok(body.offsets.every((o: { error_code: number | null }) => o.error_code === null))
  const first = body.offsets[0]
  t.same(await kcatValueAt(topic, first.partition, first.offset), raw, 'kcat reads the exact bytes')
  t.equal(body.offsets[2].partition, first.partition, 'one key, one partition')
})

t.test('json format, and plain application/json as json', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  for (const type of [JSONV2, 'application/json']) {
    const res = await app.inject({
      method: 'POST',
      url: `/topics/${topic}`,
      headers: { 'content-type': type },
      payload: { records: [{ key: 'user-1', value: { a: 1, type } }] }
    })
    t.equal(res.statusCode, 200, type)
    const { partition, offset } = res.json().offsets[0]
    t.same(JSON.parse((await kcatValueAt(topic, partition, offset)).toString()), { a: 1, type })
  }
  const [record] = await kcatConsume(topic, 1)
  t.equal(record?.key, '"user-1"', 'a json key is JSON-encoded, as Confluent does')
})

t.test('json format: each key and value is produced as the JSON text the client sent (exact numbers)', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { partitions: 1 })
  const values = ['{"id": 12345678901234567890123}', '[1.10, 2e3]', '"caf\\u00e9 \\"quoted\\" {}"', '{"nested":{"records":[{"value":1}]}}']
  const payload = `{ "records" : [ ${values.map((v, i) => `{"key": ${i === 0 ? '9007199254740993' : 'null'}, "value" : ${v} }`).join(' , ')} ] }`
  const res = await app.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': JSONV2 }, payload })
  t.equal(res.statusCode, 200)
  const records = await kcatConsume(topic, values.length)
  t.same(records.map((r) => r.payload), values, 'the values as sent, byte for byte')
  t.equal(records[0]?.key, '9007199254740993', 'the key as sent (JSON.parse would make it 9007199254740992)')
})

t.test('json format: bytes that are not UTF-8 are refused (422 42206), never produced with replacement characters', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { partitions: 1 })
  const payload = Buffer.concat([Buffer.from('{"records":[{"value":"caf'), Buffer.from([0xe9]), Buffer.from('"}]}')])
  const res = await app.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': JSONV2 }, payload })
  t.equal(res.statusCode, 422)
  t.same(res.json(), { error_code: 42206, message: 'The body is not valid UTF-8: JSON is UTF-8 text.' }, "in Confluent's error shape")
  const valid = await app.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': JSONV2 }, payload: { records: [{ value: 'café' }] } })
  t.equal(valid.json().offsets[0].offset, 0, 'nothing was produced before the valid record')
  t.same(await kcatValueAt(topic, 0, 0), Buffer.from('"café"'), 'which is in Kafka as UTF-8, byte for byte')
  const broken = await app.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': JSONV2 }, payload: '{"records":[{"value":' })
  t.equal(broken.statusCode, 422, 'a body that is not JSON is refused')
  t.same(broken.json(), { error_code: 42206, message: 'The body is not valid JSON.' }, "in Confluent's error shape")
})

t.test('produce to a partition, with headers (beyond Confluent)', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { partitions: 3 })
  const res = await app.inject({
    method: 'POST',
    url: `/topics/${topic}/partitions/2`,
    headers: { 'content-type': JSONV2 },
    payload: { records: [{ value: 'x', headers: [{ name: 'trace', value: 'abc' }] }] }
  })
  t.equal(res.statusCode, 200)
  t.equal(res.json().offsets[0].partition, 2)
  const [record] = await kcatConsume(topic, 1)
  t.same(record?.headers, ['trace', 'abc'])
})

t.test('failures: missing topic or partition, bad base64, schema formats, empty records', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  const send = (url: string, type: string, payload: object) => app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload })
  const cases: Array<[string, Promise<{ statusCode: number, json: () => { error_code: number } }>, number, number]> = [
    ['missing topic', send(`/topics/${uniqueName('none')}`, BINARY, { records: [{ value: b64('x') }] }), 404, 40401],
    ['missing partition', send(`/topics/${topic}/partitions/9`, BINARY, { records: [{ value: b64('x') }] }), 404, 40402],
    ['not base64', send(`/topics/${topic}`, BINARY, { records: [{ value: 'not base64!' }] }), 422, 42206],
    ['avro', send(`/topics/${topic}`, 'application/vnd.kafka.avro.v2+json', { value_schema: '{}', records: [{ value: {} }] }), 415, 41501],
    ['a schema id with the binary format', send(`/topics/${topic}`, BINARY, { value_schema_id: 1, records: [{ value: b64('x') }] }), 415, 41501],
    ['no records', send(`/topics/${topic}`, JSONV2, { records: [] }), 422, 42206],
    ['not an object', send(`/topics/${topic}`, JSONV2, { records: 'x' }), 422, 42206]
  ]
  for (const [what, pending, status, code] of cases) {
    const res = await pending
    t.equal(res.statusCode, status, `${what}: ${status}`)
    t.equal(res.json().error_code, code, `${what}: ${code}`)
  }
  // A Content-Type that is not JSON at all: a Confluent client is told Confluent's types, not only application/json.
  const plain = await app.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': 'text/plain' }, payload: 'x' })
  t.same([plain.statusCode, plain.json().error_code], [415, 41501], 'text/plain: 415, 41501')
  for (const type of [JSONV2, BINARY, 'application/vnd.kafka.v2+json']) t.ok(plain.json().message.includes(type), `the message names ${type}`)
  t.same(await kcatConsume(topic, 1, { timeoutMs: 4000 }), [], 'nothing was produced')
})

t.test('a request where some records fail: 200 with per-record errors; where all fail: not a 200', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { config: { 'max.message.bytes': '1024' } })
  const mixed = await app.inject({
    method: 'POST',
    url: `/topics/${topic}`,
    headers: { 'content-type': BINARY },
    payload: { records: [{ value: b64('small') }, { value: b64('to a partition that does not exist'), partition: 9 }] }
  })
  t.equal(mixed.statusCode, 200, 'one record was acknowledged')
  const [ok, failed] = mixed.json().offsets
  t.match(ok, { partition: 0, offset: 0, error_code: null, error: null })
  t.match(failed, { partition: null, offset: null, error_code: 1, error: /Partition 9/ }, 'non-retriable: error_code 1')
  const none = await app.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': BINARY }, payload: { records: [{ value: b64('x'.repeat(3000)) }] } })
  t.equal(none.statusCode, 413, 'no record acknowledged: not a 200')
  t.equal(none.json().error_code, 41301)
})
