// v2's avro and jsonschema formats through the run's real Schema Registry (scripts/schema-registry: Apicurio, in
// memory, Confluent's API), cross-checked with an independent implementation of Confluent's wire format: the serdes
// of @confluentinc/schemaregistry (Confluent's JavaScript client). What the service writes, they read; what they
// write, the service reads; and the failures a client meets (a value its schema does not describe, a missing or
// invalid schema, an unknown id, an incompatible schema, a registry that is down, a record not in the format).
import { AvroDeserializer, AvroSerializer, JsonDeserializer, JsonSerializer, SchemaRegistryClient, SerdeType } from '@confluentinc/schemaregistry'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { build } from '../../helper'
import { createTopic, kafkaClient, uniqueName } from '../../kafka'

const V2 = 'application/vnd.kafka.v2+json'
const AVRO = 'application/vnd.kafka.avro.v2+json'
const JSONSCHEMA = 'application/vnd.kafka.jsonschema.v2+json'
const BINARY = 'application/vnd.kafka.binary.v2+json'
const url = process.env.SCHEMA_REGISTRY_URL
const skip = url === undefined ? 'no schema registry in this run (SCHEMA_REGISTRY_URL is unset: scripts/run-tests.ts starts one with scripts/schema-registry)' : false

const ORDER = JSON.stringify({
  type: 'record',
  name: 'Order',
  namespace: 'kosha.test',
  fields: [
    { name: 'id', type: 'int' },
    { name: 'customer', type: 'string' },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'lines', type: { type: 'array', items: 'long' } }
  ]
})
const ORDER_JSON = JSON.stringify({
  type: 'object',
  properties: { id: { type: 'integer' }, customer: { type: 'string' } },
  required: ['id', 'customer'],
  additionalProperties: false
})

async function app (t: Test, env: Record<string, string> = {}): Promise<FastifyInstance> {
  return await build(t, { env: { SCHEMA_REGISTRY_URL: url ?? '', ...env } })
}

async function instance (app: FastifyInstance, body: object): Promise<string> {
  const group = uniqueName('schemas')
  const res = await app.inject({ method: 'POST', url: `/consumers/${group}`, headers: { 'content-type': V2 }, payload: { 'auto.offset.reset': 'earliest', ...body } })
  if (res.statusCode !== 200) throw new Error(`create: ${res.statusCode} ${res.body}`)
  return `/consumers/${group}/instances/${res.json().instance_id as string}`
}

/** Subscribes and fetches until `count` records came (or 20 s passed). */
async function records (app: FastifyInstance, base: string, topic: string, accept: string, count: number): Promise<{ status: number, body: Array<{ key: unknown, value: unknown, offset: number }>, text: string }> {
  await app.inject({ method: 'POST', url: `${base}/subscription`, headers: { 'content-type': V2 }, payload: { topics: [topic] } })
  const got: Array<{ key: unknown, value: unknown, offset: number }> = []
  const deadline = Date.now() + 20_000
  while (got.length < count && Date.now() < deadline) {
    const res = await app.inject({ method: 'GET', url: `${base}/records?timeout=2000`, headers: { accept } })
    if (res.statusCode !== 200) return { status: res.statusCode, body: got, text: res.body }
    got.push(...res.json() as typeof got)
  }
  return { status: 200, body: got, text: '' }
}

/** The raw bytes of the topic's records, read through a binary instance. */
async function rawValues (app: FastifyInstance, topic: string, count: number): Promise<Array<{ key: Buffer | null, value: Buffer }>> {
  const got = await records(app, await instance(app, { format: 'binary' }), topic, BINARY, count)
  return got.body.map((r) => ({ key: r.key === null ? null : Buffer.from(r.key as string, 'base64'), value: Buffer.from(r.value as string, 'base64') }))
}

t.test('avro: produced with a schema, answered with its ids, in Confluent\'s wire format; read back by Confluent\'s deserializer and by an avro instance', { skip }, async (t) => {
  const api = await app(t)
  const topic = await createTopic(t, { prefix: 'avro' })
  const orders = [
    { id: 1, customer: 'ada', note: { string: 'gift' }, lines: [10, 20] },
    { id: 2, customer: 'bob', note: null, lines: [] }
  ]
  const res = await api.inject({
    method: 'POST',
    url: `/topics/${topic}`,
    headers: { 'content-type': AVRO },
    payload: { key_schema: '"string"', value_schema: ORDER, records: orders.map((o) => ({ key: `customer-${o.customer}`, value: o })) }
  })
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.type(body.key_schema_id, 'number', 'the key schema\'s id')
  t.type(body.value_schema_id, 'number', 'the value schema\'s id')
  t.match(body.offsets, [{ partition: 0, offset: 0, error_code: null }, { partition: 0, offset: 1, error_code: null }])

  const raw = await rawValues(api, topic, 2)
  t.equal(raw.length, 2)
  const first = raw[0]?.value ?? Buffer.alloc(0)
  t.equal(first[0], 0, 'magic byte 0')
  t.equal(first.readUInt32BE(1), body.value_schema_id, 'then the value schema\'s id, big-endian')

  const client = new SchemaRegistryClient({ baseURLs: [url ?? ''] })
  const values = new AvroDeserializer(client, SerdeType.VALUE, {})
  const keys = new AvroDeserializer(client, SerdeType.KEY, {})
  t.same(await values.deserialize(topic, first), { id: 1, customer: 'ada', note: 'gift', lines: [10, 20] }, 'Confluent\'s deserializer reads the value')
  t.same(await values.deserialize(topic, raw[1]?.value ?? Buffer.alloc(0)), { id: 2, customer: 'bob', note: null, lines: [] })
  t.equal(await keys.deserialize(topic, raw[0]?.key ?? Buffer.alloc(0)), 'customer-ada', 'and the key')

  const read = await records(api, await instance(api, { format: 'avro' }), topic, AVRO, 2)
  t.equal(read.status, 200, read.text)
  t.same(read.body.map((r) => [r.key, r.value]), orders.map((o) => [`customer-${o.customer}`, o]), 'an avro instance answers them in Avro\'s JSON encoding')

  const byId = await api.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': AVRO }, payload: { value_schema_id: body.value_schema_id, records: [{ value: orders[1] }] } })
  t.equal(byId.statusCode, 200, `value_schema_id works too: ${byId.body}`)
  t.equal(byId.json().value_schema_id, body.value_schema_id)
  t.equal(byId.json().key_schema_id, null, 'no keys, no key schema')
})

t.test('avro: records written by Confluent\'s serializer are read by an avro instance', { skip }, async (t) => {
  const api = await app(t)
  const topic = await createTopic(t, { prefix: 'avro-in' })
  const client = new SchemaRegistryClient({ baseURLs: [url ?? ''] })
  await client.register(`${topic}-value`, { schemaType: 'AVRO', schema: ORDER })
  const latest = new AvroSerializer(client, SerdeType.VALUE, { autoRegisterSchemas: false, useLatestVersion: true })
  const bytes = await latest.serialize(topic, { id: 7, customer: 'cy', note: 'rush', lines: [3] })
  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  await producer.send({ topic, messages: [{ value: bytes }] })
  const read = await records(api, await instance(api, { format: 'avro' }), topic, AVRO, 1)
  t.equal(read.status, 200, read.text)
  t.same(read.body[0]?.value, { id: 7, customer: 'cy', note: { string: 'rush' }, lines: [3] })
})

t.test('jsonschema: checked against the schema, written framed; Confluent\'s deserializer and a jsonschema instance read it', { skip }, async (t) => {
  const api = await app(t)
  const topic = await createTopic(t, { prefix: 'jsonschema' })
  const res = await api.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': JSONSCHEMA }, payload: { value_schema: ORDER_JSON, records: [{ value: { id: 1, customer: 'ada' } }] } })
  t.equal(res.statusCode, 200, res.body)
  const id = res.json().value_schema_id as number
  t.type(id, 'number')
  const raw = await rawValues(api, topic, 1)
  const client = new SchemaRegistryClient({ baseURLs: [url ?? ''] })
  t.same(await new JsonDeserializer(client, SerdeType.VALUE, { validate: true }).deserialize(topic, raw[0]?.value ?? Buffer.alloc(0)), { id: 1, customer: 'ada' }, 'Confluent\'s deserializer reads it')
  const bytes = await new JsonSerializer(client, SerdeType.VALUE, { autoRegisterSchemas: false, useLatestVersion: true, validate: true }).serialize(topic, { id: 2, customer: 'bob' })
  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  await producer.send({ topic, messages: [{ value: bytes }] })
  const read = await records(api, await instance(api, { format: 'jsonschema' }), topic, JSONSCHEMA, 2)
  t.equal(read.status, 200, read.text)
  t.same(read.body.map((r) => r.value), [{ id: 1, customer: 'ada' }, { id: 2, customer: 'bob' }], 'and a jsonschema instance reads both')

  // Two versions of one schema (the same $id), each sent twice, as producers send them: each is taken.
  for (const version of [1, 1, 2, 2]) {
    const schema = JSON.stringify({ $id: `https://example.com/${topic}.json`, type: 'object', properties: { v: { const: version } } })
    const res = await api.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': JSONSCHEMA }, payload: { value_schema: schema, records: [{ value: { v: version } }] } })
    t.equal(res.statusCode, 200, `a schema with $id, version ${version}: ${res.body}`)
  }
  const bad = await api.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': JSONSCHEMA }, payload: { value_schema_id: id, records: [{ value: { id: 'one', customer: 'ada' } }] } })
  t.equal(bad.statusCode, 422)
  t.equal(bad.json().error_code, 42203)
  t.match(bad.json().message, /records\/0\/value does not match its JSON Schema at '\/id'/, 'the message names the record and the field')
})

t.test('avro failures: the field that does not fit, missing and invalid schemas, an unknown id, an incompatible schema', { skip }, async (t) => {
  const api = await app(t)
  const topic = await createTopic(t, { prefix: 'avro-bad' })
  const send = async (payload: object): Promise<{ status: number, code: number, message: string }> => {
    const res = await api.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': AVRO }, payload })
    const body = res.json()
    return { status: res.statusCode, code: body.error_code, message: body.message }
  }
  const wrong = await send({ value_schema: ORDER, records: [{ value: { id: 1, customer: 'ada', note: null, lines: [] } }, { value: { id: 'two', customer: 'bob', note: null, lines: [] } }] })
  t.match(wrong, { status: 422, code: 42203, message: /records\/1\/value does not match its Avro schema at field 'id'/ }, 'a value that does not fit: 422 42203 naming the record and the field')
  t.match(await send({ records: [{ value: { id: 1 } }] }), { status: 422, code: 42202 }, 'values without a value schema: 42202')
  t.match(await send({ value_schema: ORDER, records: [{ key: 'k', value: { id: 1, customer: 'a', note: null, lines: [] } }] }), { status: 422, code: 42201 }, 'keys without a key schema: 42201')
  t.match(await send({ value_schema: '{"type":"record","name":"X","fields":[{"name":"a","type":"nope"}]}', records: [{ value: { a: 1 } }] }), { status: 422, code: 42205, message: /not a valid Avro schema: undefined type name: nope/ }, 'an invalid schema: 42205 with the reason')
  t.match(await send({ value_schema: 'not json', records: [{ value: 1 }] }), { status: 422, code: 42205 })
  t.match(await send({ value_schema_id: 987654, records: [{ value: 1 }] }), { status: 404, code: 40403 }, 'an unknown schema id: 40403')
  t.match(await send({ value_schema: ORDER, key_schema_id: 987655, records: [{ key: 'k', value: { id: 1, customer: 'a', note: null, lines: [] } }] }), { status: 404, code: 40403 })

  // A subject whose compatibility rule refuses a new field without a default.
  const config = await fetch(`${url ?? ''}/config/${topic}-value`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ compatibility: 'BACKWARD' }) })
  t.equal(config.status, 200, 'the subject is made BACKWARD compatible')
  const grown = JSON.stringify({ ...JSON.parse(ORDER) as object, fields: [...(JSON.parse(ORDER) as { fields: object[] }).fields, { name: 'priority', type: 'int' }] })
  t.match(await send({ value_schema: grown, records: [{ value: { id: 1, customer: 'a', note: null, lines: [], priority: 1 } }] }), { status: 409, code: 409, message: /incompatible/ }, 'an incompatible schema: 409')
  const offsets = await api.inject({ method: 'GET', url: `/topics/${topic}/partitions/0/offsets` })
  t.equal(offsets.json().end_offset, 0, 'none of these wrote a record: a request is checked whole before anything is sent (the first one\'s first record fitted)')
})

t.test('a registry that is down: 503 with Retry-After and the v2 code 50002, naming the registry', { skip }, async (t) => {
  const api = await app(t, { SCHEMA_REGISTRY_URL: 'http://127.0.0.1:9/apis/ccompat/v7', SCHEMA_REGISTRY_TIMEOUT_MS: '2000' })
  const topic = await createTopic(t, { prefix: 'avro-down' })
  const res = await api.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': AVRO }, payload: { value_schema: ORDER, records: [{ value: { id: 1, customer: 'a', note: null, lines: [] } }] } })
  t.equal(res.statusCode, 503)
  t.equal(res.json().error_code, 50002)
  t.equal(res.headers['retry-after'], '5')
  t.match(res.json().message, /schema registry cannot be reached/)
})

t.test('an avro instance and a record not in the format: 422 naming it, and nothing is skipped', { skip }, async (t) => {
  const api = await app(t)
  const topic = await createTopic(t, { prefix: 'avro-plain' })
  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  await producer.send({ topic, messages: [{ value: 'plain text' }] })
  const base = await instance(api, { format: 'avro' })
  const first = await records(api, base, topic, AVRO, 1)
  t.equal(first.status, 422, first.text)
  t.match(JSON.parse(first.text), { error_code: 42203, message: new RegExp(`The value of the record at ${topic}/0/0 is not in Confluent's Avro wire format`) })
  const again = await api.inject({ method: 'GET', url: `${base}/records?timeout=2000`, headers: { accept: AVRO } })
  t.equal(again.statusCode, 422, 'the next fetch meets the same record: it was not skipped')
})

t.test('without SCHEMA_REGISTRY_URL the schema formats are refused with 415, saying what to set; protobuf is not supported yet', async (t) => {
  const api = await build(t)
  const topic = uniqueName('no-registry')
  const res = await api.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': AVRO }, payload: { value_schema: ORDER, records: [{ value: {} }] } })
  t.equal(res.statusCode, 415)
  t.match(res.json(), { error_code: 41501, message: /SCHEMA_REGISTRY_URL/ })
  const create = await api.inject({ method: 'POST', url: `/consumers/${uniqueName('g')}`, headers: { 'content-type': V2 }, payload: { format: 'jsonschema' } })
  t.match(create.json(), { error_code: 41501, message: /SCHEMA_REGISTRY_URL/ })
  const proto = await api.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': 'application/vnd.kafka.protobuf.v2+json' }, payload: { records: [{ value: {} }] } })
  t.match({ status: proto.statusCode, ...proto.json() }, { status: 415, error_code: 41501, message: /protobuf format is not supported yet/ })
})
