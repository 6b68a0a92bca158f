// v2's avro, jsonschema and protobuf formats through the run's real Schema Registry (scripts/schema-registry:
// Apicurio, in memory, Confluent's API), cross-checked with an independent implementation of Confluent's wire
// format: the serdes of @confluentinc/schemaregistry (Confluent's JavaScript client; for Protobuf with protoc's
// reading of the schema, test/protoc.ts). What the service writes, they read; what they write, the service reads; and
// the failures a client meets (a value its schema does not describe, a missing or invalid schema, an unknown id, an
// incompatible schema, a registry that is down, a record not in the format).
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Message } from '@bufbuild/protobuf'
import { AvroDeserializer, AvroSerializer, JsonDeserializer, JsonSerializer, ProtobufDeserializer, ProtobufSerializer, SchemaRegistryClient, SerdeType } from '@confluentinc/schemaregistry'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { build } from '../../helper'
import { createTopic, kafkaClient, uniqueName } from '../../kafka'
import { ProtocRegistryClient, protocDecode, protocMessage, protocTypes } from '../../protoc'

const V2 = 'application/vnd.kafka.v2+json'
const AVRO = 'application/vnd.kafka.avro.v2+json'
const JSONSCHEMA = 'application/vnd.kafka.jsonschema.v2+json'
const PROTOBUF = 'application/vnd.kafka.protobuf.v2+json'
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
const ORDER_PROTO = `syntax = "proto3";
package kosha.test;
import "google/protobuf/timestamp.proto";

message Order {
  int32 id = 1;
  string customer = 2;
  int64 total_cents = 3;
  repeated Line lines = 4;
  Status status = 5;
  optional string note = 6;
  google.protobuf.Timestamp at = 7;
  message Line { string sku = 1; uint32 qty = 2; }
}
enum Status { NEW = 0; PAID = 1; }
message Refund { int32 order_id = 1; }
`

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

t.test('a schema sent to a topic that does not exist: 404 40401, and nothing is registered under its subject', { skip }, async (t) => {
  const api = await app(t)
  const topic = uniqueName('avro-missing')
  const res = await api.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': AVRO }, payload: { value_schema: ORDER, records: [{ value: { id: 1, customer: 'a', note: null, lines: [] } }] } })
  t.equal(res.statusCode, 404)
  t.equal(res.json().error_code, 40401)
  const subject = await fetch(`${url ?? ''}/subjects/${topic}-value/versions`)
  t.equal(subject.status, 404, `the registry has no subject ${topic}-value`)
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

t.test('a registry that is down while an avro instance fetches: 503 with Retry-After, and the record is met again', { skip }, async (t) => {
  const writer = await app(t)
  const topic = await createTopic(t, { prefix: 'avro-fetch-down' })
  const sent = await writer.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': AVRO }, payload: { value_schema: ORDER, records: [{ value: { id: 1, customer: 'a', note: null, lines: [] } }] } })
  t.equal(sent.statusCode, 200, sent.body)
  // A second service whose registry is down: it has never seen the record's schema id.
  const reader = await app(t, { SCHEMA_REGISTRY_URL: 'http://127.0.0.1:9/apis/ccompat/v7', SCHEMA_REGISTRY_TIMEOUT_MS: '2000' })
  const base = await instance(reader, { format: 'avro' })
  const first = await records(reader, base, topic, AVRO, 1)
  t.equal(first.status, 503, first.text)
  const body = JSON.parse(first.text) as { error_code: number, message: string }
  t.equal(body.error_code, 50002)
  t.match(body.message, /schema registry cannot be reached/)
  const again = await reader.inject({ method: 'GET', url: `${base}/records?timeout=2000`, headers: { accept: AVRO } })
  t.equal(again.statusCode, 503, 'the next fetch meets the same record: it was not skipped')
  t.equal(again.headers['retry-after'], '5')
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

t.test('protobuf: produced with .proto schemas, the file\'s first message; read back by Confluent\'s deserializer and by a protobuf instance', { skip }, async (t) => {
  const api = await app(t)
  const topic = await createTopic(t, { prefix: 'proto' })
  const sent = [
    { id: 1, customer: 'ada', total_cents: '9007199254740993', lines: [{ sku: 'a-1', qty: 2 }], status: 'PAID', note: 'gift', at: '2026-12-02T10:00:00.250Z' },
    { id: 2, customer: 'bob', totalCents: 5, lines: [], status: 0 } // JSON names, a number for an int64, an enum by number
  ]
  const res = await api.inject({
    method: 'POST',
    url: `/topics/${topic}`,
    headers: { 'content-type': PROTOBUF },
    payload: { key_schema: 'syntax = "proto3"; package kosha.test; message Key { string customer = 1; }', value_schema: ORDER_PROTO, records: sent.map((v) => ({ key: { customer: v.customer }, value: v })) }
  })
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.type(body.key_schema_id, 'number', 'the key schema\'s id')
  t.type(body.value_schema_id, 'number', 'the value schema\'s id')

  const raw = await rawValues(api, topic, 2)
  const first = raw[0]?.value ?? Buffer.alloc(0)
  t.same([first[0], first.readUInt32BE(1), first[5]], [0, body.value_schema_id, 0], 'magic byte, schema id, message indexes [0] (the first message)')

  const client = new ProtocRegistryClient({ baseURLs: [url ?? ''] })
  const values = new ProtobufDeserializer(client, SerdeType.VALUE, {})
  const order = await values.deserialize(topic, first) as Record<string, unknown> & { lines: Array<Record<string, unknown>>, at: { seconds: bigint, nanos: number } }
  t.equal(order.$typeName, 'kosha.test.Order', 'Confluent\'s deserializer reads an Order')
  t.match(order, { id: 1, customer: 'ada', totalCents: 9007199254740993n, status: 1, note: 'gift' }, 'its fields, the int64 exact')
  t.match(order.lines, [{ sku: 'a-1', qty: 2 }])
  t.same([order.at.seconds, order.at.nanos], [BigInt(Date.parse('2026-12-02T10:00:00Z') / 1000), 250_000_000], 'the Timestamp from RFC 3339 text')
  const second = await values.deserialize(topic, raw[1]?.value ?? Buffer.alloc(0)) as Record<string, unknown>
  t.match(second, { id: 2, customer: 'bob', totalCents: 5n, status: 0 })
  t.equal(second.note, undefined, 'an optional field not sent is not set')
  const key = await new ProtobufDeserializer(client, SerdeType.KEY, {}).deserialize(topic, raw[0]?.key ?? Buffer.alloc(0)) as Record<string, unknown>
  t.match(key, { $typeName: 'kosha.test.Key', customer: 'ada' }, 'and the key')

  const read = await records(api, await instance(api, { format: 'protobuf' }), topic, PROTOBUF, 2)
  t.equal(read.status, 200, read.text)
  t.same(read.body.map((r) => r.value), [
    { id: 1, customer: 'ada', total_cents: '9007199254740993', lines: [{ sku: 'a-1', qty: 2 }], status: 'PAID', note: 'gift', at: '2026-12-02T10:00:00.250Z' },
    { id: 2, customer: 'bob', total_cents: '5', lines: [], status: 'NEW' }
  ], 'a protobuf instance answers in Protobuf\'s JSON mapping, every field by its .proto name, defaults included')
  t.same(read.body.map((r) => r.key), [{ customer: 'ada' }, { customer: 'bob' }])

  const byId = await api.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': PROTOBUF }, payload: { value_schema_id: body.value_schema_id, records: [{ value: { id: 3 } }] } })
  t.equal(byId.statusCode, 200, `value_schema_id works too: ${byId.body}`)
  t.equal(byId.json().value_schema_id, body.value_schema_id)
})

t.test('protobuf: records Confluent\'s serializer writes, of any message of the file (indexes [0], [1], [0, 0]), are read by a protobuf instance', { skip }, async (t) => {
  const api = await app(t)
  const topic = await createTopic(t, { prefix: 'proto-in' })
  const client = new ProtocRegistryClient({ baseURLs: [url ?? ''] })
  await client.register(`${topic}-value`, { schemaType: 'PROTOBUF', schema: ORDER_PROTO })
  const types = protocTypes(ORDER_PROTO)
  const serializer = new ProtobufSerializer(client, SerdeType.VALUE, { autoRegisterSchemas: false, useLatestVersion: true, registry: types })
  const message = (typeName: string, init: Record<string, unknown>): Message => protocMessage(types, typeName, init)
  const bytes = [
    await serializer.serialize(topic, message('kosha.test.Order', { id: 7, customer: 'cy', totalCents: -42n, lines: [protocMessage(types, 'kosha.test.Order.Line', { sku: 's', qty: 1 })], status: 1 })),
    await serializer.serialize(topic, message('kosha.test.Refund', { orderId: 7 })),
    await serializer.serialize(topic, message('kosha.test.Order.Line', { sku: 'x', qty: 9 }))
  ]
  const indexes = (b: Buffer | undefined, n: number): number[] => [...(b ?? Buffer.alloc(0)).subarray(5, 5 + n)]
  t.same([indexes(bytes[0], 1), indexes(bytes[1], 2), indexes(bytes[2], 3)], [[0], [2, 2], [4, 0, 0]], 'the serializer wrote message indexes [0], [1] and [0, 0] (zigzag varints)')
  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  await producer.send({ topic, messages: bytes.map((value) => ({ value })) })
  const read = await records(api, await instance(api, { format: 'protobuf' }), topic, PROTOBUF, 3)
  t.equal(read.status, 200, read.text)
  t.same(read.body.map((r) => r.value), [
    { id: 7, customer: 'cy', total_cents: '-42', lines: [{ sku: 's', qty: 1 }], status: 'PAID' },
    { order_id: 7 },
    { sku: 'x', qty: 9 }
  ], 'each read as the message its indexes name')
})

t.test('protobuf: a value its message does not describe is 422 (42203) naming the field; a .proto that does not parse is 422 (42205)', { skip }, async (t) => {
  const api = await app(t)
  const topic = await createTopic(t, { prefix: 'proto-bad' })
  const produce = async (payload: object): Promise<{ status: number, error_code?: number, message?: string }> => {
    const res = await api.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': PROTOBUF }, payload })
    return { status: res.statusCode, ...res.json() }
  }
  t.match(await produce({ value_schema: ORDER_PROTO, records: [{ value: { id: 1 } }, { value: { id: 2, lines: [{ qty: 'two' }] } }] }),
    { status: 422, error_code: 42203, message: /records\/1\/value does not match its Protobuf schema at field 'lines\.0\.qty': expected an integer \(uint32\), got "two"/ })
  t.match(await produce({ value_schema: ORDER_PROTO, records: [{ value: { id: 1, colour: 'red' } }] }), { status: 422, error_code: 42203, message: /at field 'colour': message Order has no such field/ })
  t.match(await produce({ value_schema: ORDER_PROTO, records: [{ value: { status: 'LOST' } }] }), { status: 422, error_code: 42203, message: /enum Status \(NEW, PAID\)/ })
  t.match(await produce({ value_schema: ORDER_PROTO, records: [{ value: { total_cents: 2 ** 53 + 2 } }] }), { status: 422, error_code: 42203, message: /send a 64-bit integer as text/ })
  t.match(await produce({ value_schema: 'syntax = "proto3"; message X { strin a = 1; }', records: [{ value: {} }] }), { status: 422, error_code: 42205, message: /not a valid Protobuf schema: no such Type or Enum 'strin'/ })
  t.match(await produce({ value_schema: 'syntax = "proto3"; import "other.proto"; message X { string a = 1; }', records: [{ value: {} }] }), { status: 422, error_code: 42205, message: /imports 'other\.proto'/ })
})

t.test('a protobuf instance and a record whose message indexes name no message of its schema: 422 naming both, and nothing is skipped', { skip }, async (t) => {
  const api = await app(t)
  const topic = await createTopic(t, { prefix: 'proto-index' })
  const id = await new ProtocRegistryClient({ baseURLs: [url ?? ''] }).register(`${topic}-value`, { schemaType: 'PROTOBUF', schema: ORDER_PROTO })
  const frame = Buffer.alloc(5)
  frame.writeUInt32BE(id, 1)
  // Message indexes [5] (one index, zigzag: 2 then 10): the file has two top-level messages, Order and Refund.
  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  await producer.send({ topic, messages: [{ value: Buffer.concat([frame, Buffer.of(2, 10, 0x08, 0x07)]) }] })
  const base = await instance(api, { format: 'protobuf' })
  const first = await records(api, base, topic, PROTOBUF, 1)
  t.equal(first.status, 422, first.text)
  t.match(JSON.parse(first.text), { error_code: 42203, message: new RegExp(`The value of the record at ${topic}/0/0 does not decode with its Protobuf schema ${id}: its message indexes \\[5\\] name no message of the schema`) })
  const again = await api.inject({ method: 'GET', url: `${base}/records?timeout=2000`, headers: { accept: PROTOBUF } })
  t.equal(again.statusCode, 422, 'the next fetch meets the same record: it was not skipped')
})

t.test('schema references: schemas that refer to others in the registry write and read (Avro named types, a Protobuf import)', { skip }, async (t) => {
  const api = await app(t)
  const client = new SchemaRegistryClient({ baseURLs: [url ?? ''] })
  const ns = uniqueName('refs').replace(/[^A-Za-z0-9]/g, '_')

  // Avro: Order's field is of a record type registered under a subject of its own.
  const avroTopic = await createTopic(t, { prefix: 'refs-avro' })
  const money = JSON.stringify({ type: 'record', name: 'Money', namespace: ns, fields: [{ name: 'cents', type: 'long' }, { name: 'currency', type: 'string' }] })
  await client.register(`${ns}-money`, { schemaType: 'AVRO', schema: money })
  const order = JSON.stringify({ type: 'record', name: 'Order', namespace: ns, fields: [{ name: 'id', type: 'int' }, { name: 'total', type: `${ns}.Money` }] })
  const orderId = await client.register(`${avroTopic}-value`, { schemaType: 'AVRO', schema: order, references: [{ name: `${ns}.Money`, subject: `${ns}-money`, version: 1 }] })
  const value = { id: 1, total: { cents: 1999, currency: 'EUR' } }
  const produced = await api.inject({ method: 'POST', url: `/topics/${avroTopic}`, headers: { 'content-type': AVRO }, payload: { value_schema_id: orderId, records: [{ value }] } })
  t.equal(produced.statusCode, 200, `produced by the id of a schema with references: ${produced.body}`)
  const raw = await rawValues(api, avroTopic, 1)
  t.same(await new AvroDeserializer(client, SerdeType.VALUE, {}).deserialize(avroTopic, raw[0]?.value ?? Buffer.alloc(0)), value, 'Confluent\'s deserializer reads it, resolving the reference itself')
  const read = await records(api, await instance(api, { format: 'avro' }), avroTopic, AVRO, 1)
  t.same(read.body.map((r) => r.value), [value], 'and an avro instance')

  // Protobuf: the value's file imports another, registered under its own subject.
  const protoTopic = await createTopic(t, { prefix: 'refs-proto' })
  const common = `syntax = "proto3";\npackage ${ns};\nmessage Money { int64 cents = 1; string currency = 2; }\n`
  const main = `syntax = "proto3";\npackage ${ns};\nimport "${ns}/money.proto";\nmessage Payment { string id = 1; Money amount = 2; }\n`
  await client.register(`${ns}-money-proto`, { schemaType: 'PROTOBUF', schema: common })
  const paymentId = await client.register(`${protoTopic}-value`, { schemaType: 'PROTOBUF', schema: main, references: [{ name: `${ns}/money.proto`, subject: `${ns}-money-proto`, version: 1 }] })
  const payment = { id: 'p-1', amount: { cents: '250', currency: 'EUR' } }
  const sent = await api.inject({ method: 'POST', url: `/topics/${protoTopic}`, headers: { 'content-type': PROTOBUF }, payload: { value_schema_id: paymentId, records: [{ value: payment }] } })
  t.equal(sent.statusCode, 200, sent.body)
  const bytes = (await rawValues(api, protoTopic, 1))[0]?.value ?? Buffer.alloc(0)
  t.same([bytes[0], bytes.readUInt32BE(1), bytes[5]], [0, paymentId, 0], 'framed with the schema id, message indexes [0]: Payment, the file\'s own first message, not the import\'s')
  const text = protocDecode({ [`${ns}/money.proto`]: common, 'payment.proto': main }, 'payment.proto', `${ns}.Payment`, bytes.subarray(6))
  t.match(text, /id: "p-1"\s+amount \{\s+cents: 250\s+currency: "EUR"\s+\}/, 'protoc, given both files, reads the Payment')
  const back = await records(api, await instance(api, { format: 'protobuf' }), protoTopic, PROTOBUF, 1)
  t.same(back.body.map((r) => r.value), [payment], 'and a protobuf instance')
})

t.test('without SCHEMA_REGISTRY_URL the schema formats are refused with 415, saying what to set', async (t) => {
  const api = await build(t)
  const topic = uniqueName('no-registry')
  const res = await api.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': AVRO }, payload: { value_schema: ORDER, records: [{ value: {} }] } })
  t.equal(res.statusCode, 415)
  t.match(res.json(), { error_code: 41501, message: /SCHEMA_REGISTRY_URL/ })
  const create = await api.inject({ method: 'POST', url: `/consumers/${uniqueName('g')}`, headers: { 'content-type': V2 }, payload: { format: 'jsonschema' } })
  t.match(create.json(), { error_code: 41501, message: /SCHEMA_REGISTRY_URL/ })
  const proto = await api.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': 'application/vnd.kafka.protobuf.v2+json' }, payload: { records: [{ value: {} }] } })
  t.match({ status: proto.statusCode, ...proto.json() }, { status: 415, error_code: 41501, message: /protobuf format needs a schema registry/ })
})

t.test('the examples of openapi.json (what Swagger UI offers) for avro, jsonschema and protobuf are produced as they stand and read back', { skip }, async (t) => {
  const spec = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'openapi.json'), 'utf8')) as {
    paths: Record<string, { post: { requestBody: { content: Record<string, { example?: { records: Array<{ key?: unknown, value: unknown }> } }> } } }>
  }
  const content = spec.paths['/topics/{topic_name}']?.post.requestBody.content ?? {}
  const api = await app(t)
  for (const [type, format] of [[AVRO, 'avro'], [JSONSCHEMA, 'jsonschema'], [PROTOBUF, 'protobuf']] as const) {
    const example = content[type]?.example
    if (example === undefined) { t.fail(`openapi.json has no example for ${type}`); continue }
    const topic = await createTopic(t, { prefix: `example-${format}` })
    const res = await api.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': type }, payload: example })
    t.equal(res.statusCode, 200, `${format}: ${res.body}`)
    t.notOk((res.json().offsets as Array<{ error_code?: unknown }>).some((o) => o.error_code != null), `${format}: every record was written`)
    const got = await records(api, await instance(api, { format }), topic, type, example.records.length)
    t.same(got.body.map((r) => r.value), example.records.map((r) => r.value), `${format}: read back as sent`)
  }
})

t.test('a record naming a schema the registry lacks, or one this service cannot read (a Protobuf import the registry does not hold): 422 naming the record, and nothing is skipped', { skip }, async (t) => {
  const api = await app(t)
  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  /** Confluent's Protobuf framing: magic byte, the id, message indexes [0] (one zero byte), then an empty message. */
  const framed = (id: number): Buffer => { const b = Buffer.alloc(6); b.writeUInt32BE(id, 1); return b }

  const missing = await createTopic(t, { prefix: 'proto-missing-id' })
  await producer.send({ topic: missing, messages: [{ value: framed(987_654_321) }] })
  const first = await records(api, await instance(api, { format: 'protobuf' }), missing, PROTOBUF, 1)
  t.equal(first.status, 422, first.text)
  t.match(JSON.parse(first.text), { error_code: 42203, message: new RegExp(`The value of the record at ${missing}/0/0 names schema id 987654321, which the schema registry does not have`) })

  // The registry takes a schema importing a file it was given no reference for; this service cannot resolve it.
  const unreadable = await createTopic(t, { prefix: 'proto-import' })
  const registered = await fetch(`${url ?? ''}/subjects/${unreadable}-value/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schemaType: 'PROTOBUF', schema: 'syntax = "proto3";\nimport "nowhere/thing.proto";\nmessage Envelope { nowhere.Thing inner = 1; }\n' })
  })
  t.equal(registered.status, 200, 'the registry took the schema')
  const { id } = await registered.json() as { id: number }
  await producer.send({ topic: unreadable, messages: [{ value: framed(id) }] })
  const base = await instance(api, { format: 'protobuf' })
  const got = await records(api, base, unreadable, PROTOBUF, 1)
  t.equal(got.status, 422, got.text)
  t.match(JSON.parse(got.text), { error_code: 42203, message: new RegExp(`The value of the record at ${unreadable}/0/0 is written with schema ${id}, which this service cannot read: .*nowhere/thing\\.proto`) })
  const again = await api.inject({ method: 'GET', url: `${base}/records?timeout=2000`, headers: { accept: PROTOBUF } })
  t.equal(again.statusCode, 422, 'the next fetch meets the same record: it was not skipped')
})
