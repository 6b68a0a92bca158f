// v3's AVRO, JSONSCHEMA and PROTOBUF records through the run's real Schema Registry (scripts/schema-registry), as
// Confluent's v3 spec defines them: schema (text), schema_id, schema_version, the subject's latest, subject and
// subject_name_strategy; the reports carry the schema id. What is written is read by Confluent's own deserializers
// (@confluentinc/schemaregistry; for Protobuf with protoc's reading of the schema, test/protoc.ts), independent of
// the service's.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { AvroDeserializer, JsonDeserializer, ProtobufDeserializer, SchemaRegistryClient, SerdeType } from '@confluentinc/schemaregistry'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { build } from '../../helper'
import { clusterId, createTopic, uniqueName } from '../../kafka'
import { ProtocRegistryClient } from '../../protoc'

const V2 = 'application/vnd.kafka.v2+json'
const BINARY = 'application/vnd.kafka.binary.v2+json'
const url = process.env.SCHEMA_REGISTRY_URL
const skip = url === undefined ? 'no schema registry in this run (SCHEMA_REGISTRY_URL is unset: scripts/run-tests.ts starts one with scripts/schema-registry)' : false

const name = uniqueName('Reading').replace(/[^A-Za-z0-9_]/g, '_')
const READING = JSON.stringify({ type: 'record', name, namespace: 'kosha.v3', fields: [{ name: 'sensor', type: 'string' }, { name: 'celsius', type: 'double' }] })

async function app (t: Test, env: Record<string, string> = {}): Promise<FastifyInstance> {
  return await build(t, { env: { SCHEMA_REGISTRY_URL: url ?? '', ...env } })
}

/** The raw values of the topic, read through a v2 binary instance. */
async function rawValues (api: FastifyInstance, topic: string, count: number): Promise<Buffer[]> {
  const group = uniqueName('v3-schemas')
  const created = await api.inject({ method: 'POST', url: `/consumers/${group}`, headers: { 'content-type': V2 }, payload: { format: 'binary', 'auto.offset.reset': 'earliest' } })
  const base = `/consumers/${group}/instances/${created.json().instance_id as string}`
  await api.inject({ method: 'POST', url: `${base}/subscription`, headers: { 'content-type': V2 }, payload: { topics: [topic] } })
  const got: Buffer[] = []
  const deadline = Date.now() + 20_000
  while (got.length < count && Date.now() < deadline) {
    const res = await api.inject({ method: 'GET', url: `${base}/records?timeout=2000`, headers: { accept: BINARY } })
    got.push(...(res.json() as Array<{ value: string }>).map((r) => Buffer.from(r.value, 'base64')))
  }
  return got
}

t.test('AVRO: by schema text, schema_id, schema_version, the latest and RECORD_NAME; reports name the schema; Confluent\'s deserializer reads each', { skip }, async (t) => {
  const api = await app(t)
  const topic = await createTopic(t, { prefix: 'v3-avro' })
  const cluster = await clusterId(t)
  const records = `/v3/clusters/${cluster}/topics/${topic}/records`
  const produce = async (value: object): Promise<{ status: number, body: { error_code: number, message?: string, value?: { type: string, size: number, schema_id?: number, subject?: string, schema_version?: number } } }> => {
    const res = await api.inject({ method: 'POST', url: records, headers: { 'content-type': 'application/json' }, payload: { value } })
    return { status: res.statusCode, body: res.json() }
  }
  const first = await produce({ type: 'AVRO', schema: READING, data: { sensor: 'a', celsius: 21.5 } })
  t.equal(first.status, 200, JSON.stringify(first.body))
  const id = first.body.value?.schema_id
  t.match(first.body.value, { type: 'AVRO', schema_id: Number }, 'the report names the schema id')
  t.match((await produce({ type: 'AVRO', schema_id: id, data: { sensor: 'b', celsius: -3 } })).body, { error_code: 200, value: { schema_id: id } }, 'by schema_id')
  t.match((await produce({ schema_id: id, data: { sensor: 'c', celsius: 0 } })).body, { error_code: 200, value: { type: 'AVRO', schema_id: id } }, 'no type: the schema\'s own')
  t.match((await produce({ type: 'AVRO', schema_version: 1, data: { sensor: 'd', celsius: 1 } })).body, { error_code: 200, value: { schema_id: id, subject: `${topic}-value`, schema_version: 1 } }, 'schema_version of <topic>-value')
  t.match((await produce({ type: 'AVRO', data: { sensor: 'e', celsius: 2 } })).body, { error_code: 200, value: { schema_id: id, subject: `${topic}-value` } }, 'the subject\'s latest')
  t.match((await produce({ type: 'AVRO', subject_name_strategy: 'RECORD_NAME', schema: READING, data: { sensor: 'f', celsius: 3 } })).body, { error_code: 200, value: { schema_id: id } }, 'RECORD_NAME registers under the record\'s full name')
  t.match((await produce({ type: 'AVRO', subject: `kosha.v3.${name}`, schema_version: 1, data: { sensor: 'g', celsius: 4 } })).body, { error_code: 200, value: { subject: `kosha.v3.${name}` } }, 'found there by subject and version')

  const wrong = await produce({ type: 'AVRO', schema_id: id, data: { sensor: 'x', celsius: 'warm' } })
  t.equal(wrong.status, 422)
  t.match(wrong.body, { error_code: 422, message: /records\/0\/value\/data does not match its Avro schema at field 'celsius'/ })
  const unknown = await produce({ type: 'AVRO', schema_id: 987321, data: {} })
  t.equal(unknown.status, 404, 'an unknown schema id')
  t.match(await produce({ type: 'AVRO', schema_version: 99, data: {} }), { status: 404, body: { message: /No such schema version/ } }, 'an unknown version of the subject')
  t.match(await produce({ type: 'AVRO', subject: uniqueName('no-such-subject'), data: {} }), { status: 404, body: { message: /No such subject/ } }, 'a subject the registry lacks')
  t.match((await produce({ type: 'AVRO', subject_name_strategy: 'RECORD_NAME', data: {} })), { status: 400, body: { message: /needs the record's name/ } })

  const raw = await rawValues(api, topic, 7)
  t.equal(raw.length, 7, 'seven records written')
  const values = new AvroDeserializer(new SchemaRegistryClient({ baseURLs: [url ?? ''] }), SerdeType.VALUE, {})
  t.same(await Promise.all(raw.map(async (r) => await values.deserialize(topic, r) as { sensor: string })).then((vs) => vs.map((v) => v.sensor)), ['a', 'b', 'c', 'd', 'e', 'f', 'g'], 'and Confluent\'s deserializer reads every one')
})

t.test('JSONSCHEMA in records:batch: each entry checked, one that does not fit fails alone (207)', { skip }, async (t) => {
  const api = await app(t)
  const topic = await createTopic(t, { prefix: 'v3-json' })
  const cluster = await clusterId(t)
  const schema = JSON.stringify({ type: 'object', properties: { sensor: { type: 'string' } }, required: ['sensor'] })
  const res = await api.inject({
    method: 'POST',
    url: `/v3/clusters/${cluster}/topics/${topic}/records:batch`,
    headers: { 'content-type': 'application/json' },
    payload: { entries: [{ id: 'ok', value: { type: 'JSONSCHEMA', schema, data: { sensor: 'a' } } }, { id: 'bad', value: { type: 'JSONSCHEMA', schema, data: { other: 1 } } }] }
  })
  t.equal(res.statusCode, 207, res.body)
  const body = res.json()
  t.match(body.successes, [{ id: 'ok', value: { type: 'JSONSCHEMA', schema_id: Number } }])
  t.match(body.failures, [{ id: 'bad', error_code: 422, message: /entries\/1\/value\/data does not match its JSON Schema: must have required property 'sensor'/ }])
  const raw = await rawValues(api, topic, 1)
  const values = new JsonDeserializer(new SchemaRegistryClient({ baseURLs: [url ?? ''] }), SerdeType.VALUE, { validate: true })
  t.same(await values.deserialize(topic, raw[0] ?? Buffer.alloc(0)), { sensor: 'a' }, 'Confluent\'s deserializer reads it')
})

t.test('PROTOBUF: by .proto text with RECORD_NAME (the first message\'s full name), then by schema_id; a field that does not fit is 422; Confluent\'s deserializer reads them', { skip }, async (t) => {
  const api = await app(t)
  const topic = await createTopic(t, { prefix: 'v3-proto' })
  const cluster = await clusterId(t)
  const pkg = uniqueName('kosha.v3').replace(/[^A-Za-z0-9.]/g, '_')
  const schema = `syntax = "proto3";\npackage ${pkg};\nmessage Reading { string sensor = 1; double celsius = 2; repeated string tags = 3; }\n`
  const produce = async (value: object): Promise<{ status: number, body: { error_code: number, message?: string, value?: { type: string, schema_id?: number, subject?: string } } }> => {
    const res = await api.inject({ method: 'POST', url: `/v3/clusters/${cluster}/topics/${topic}/records`, headers: { 'content-type': 'application/json' }, payload: { value } })
    return { status: res.statusCode, body: res.json() }
  }
  const first = await produce({ type: 'PROTOBUF', subject_name_strategy: 'RECORD_NAME', schema, data: { sensor: 'a', celsius: 21.5, tags: ['roof'] } })
  t.equal(first.status, 200, JSON.stringify(first.body))
  t.match(first.body.value, { type: 'PROTOBUF', schema_id: Number }, 'the report names the schema id')
  const byId = await produce({ schema_id: first.body.value?.schema_id, data: { sensor: 'b', celsius: -3 } })
  t.match(byId.body, { error_code: 200, value: { type: 'PROTOBUF', schema_id: first.body.value?.schema_id } }, 'no type, by schema_id: the schema\'s own')
  t.match(await produce({ type: 'PROTOBUF', subject: `${pkg}.Reading`, data: { sensor: 'c' } }), { status: 200, body: { value: { subject: `${pkg}.Reading` } } }, 'registered under the full name: the subject\'s latest')
  t.match(await produce({ type: 'PROTOBUF', schema, data: { sensor: 'x', celsius: 'warm' } }), { status: 422, body: { error_code: 422, message: /records\/0\/value\/data does not match its Protobuf schema at field 'celsius': expected a number/ } })
  t.match(await produce({ type: 'AVRO', schema_id: first.body.value?.schema_id, data: {} }), { status: 422, body: { message: /is a Protobuf schema, not Avro/ } }, 'a Protobuf schema id with type AVRO')

  const raw = await rawValues(api, topic, 3)
  const values = new ProtobufDeserializer(new ProtocRegistryClient({ baseURLs: [url ?? ''] }), SerdeType.VALUE, {})
  const read = await Promise.all(raw.map(async (r) => await values.deserialize(topic, r) as { sensor: string, celsius: number, tags: string[] }))
  t.same(read.map((v) => [v.sensor, v.celsius, v.tags]), [['a', 21.5, ['roof']], ['b', -3, []], ['c', 0, []]], 'Confluent\'s deserializer reads every one')
})

t.test('JSONSCHEMA with a schema reference: a $ref to another subject\'s schema is checked too', { skip }, async (t) => {
  const api = await app(t)
  const topic = await createTopic(t, { prefix: 'v3-json-ref' })
  const cluster = await clusterId(t)
  const client = new SchemaRegistryClient({ baseURLs: [url ?? ''] })
  const subject = uniqueName('address')
  await client.register(subject, { schemaType: 'JSON', schema: JSON.stringify({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }) })
  const schema = JSON.stringify({ type: 'object', properties: { name: { type: 'string' }, address: { $ref: 'address.json' } }, required: ['name', 'address'] })
  const id = await client.register(`${topic}-value`, { schemaType: 'JSON', schema, references: [{ name: 'address.json', subject, version: 1 }] })
  const produce = async (data: object): Promise<{ status: number, body: { error_code: number, message?: string } }> => {
    const res = await api.inject({ method: 'POST', url: `/v3/clusters/${cluster}/topics/${topic}/records`, headers: { 'content-type': 'application/json' }, payload: { value: { type: 'JSONSCHEMA', schema_id: id, data } } })
    return { status: res.statusCode, body: res.json() }
  }
  t.match(await produce({ name: 'ada', address: { city: 'Pune' } }), { status: 200, body: { error_code: 200 } })
  t.match(await produce({ name: 'bob', address: { town: 'x' } }), { status: 422, body: { message: /at '\/address': must have required property 'city'/ } }, 'the referenced schema is applied')
  const raw = await rawValues(api, topic, 1)
  t.same(await new JsonDeserializer(client, SerdeType.VALUE, { validate: true }).deserialize(topic, raw[0] ?? Buffer.alloc(0)), { name: 'ada', address: { city: 'Pune' } }, 'Confluent\'s deserializer reads and validates it')
})

t.test('the examples of openapi.json (what Swagger UI offers) for v3 produce are produced as they stand, each with the type it says', { skip }, async (t) => {
  const spec = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'openapi.json'), 'utf8')) as {
    paths: Record<string, { post: { requestBody: { content: Record<string, { examples?: Record<string, { value: { value: { type?: string } } }> }> } } }>
  }
  const examples = spec.paths['/v3/clusters/{cluster_id}/topics/{topic_name}/records']?.post.requestBody.content['application/json']?.examples ?? {}
  t.same(Object.keys(examples), ['json', 'avro', 'latest', 'jsonschema', 'protobuf'])
  const api = await app(t)
  const cluster = await clusterId(t)
  // "latest" follows "avro" to the same topic: it names no schema, so it takes the one the avro example registered.
  let topic = ''
  for (const [name, example] of Object.entries(examples)) {
    if (name !== 'latest') topic = await createTopic(t, { prefix: `v3-example-${name}` })
    const res = await api.inject({ method: 'POST', url: `/v3/clusters/${cluster}/topics/${topic}/records`, headers: { 'content-type': 'application/json' }, payload: example.value })
    t.equal(res.statusCode, 200, `${name}: ${res.body}`)
    t.match(res.json(), { error_code: 200, value: { type: example.value.value.type ?? 'AVRO' } }, name)
  }
})

t.test('no schema named: the subject\'s latest version, kept SCHEMA_REGISTRY_LATEST_TTL_MS; one this service registers is the latest at once', { skip }, async (t) => {
  const kept = await app(t, { SCHEMA_REGISTRY_LATEST_TTL_MS: '600000' })
  const asked = await app(t, { SCHEMA_REGISTRY_LATEST_TTL_MS: '0' })
  const topic = await createTopic(t, { prefix: 'v3-latest' })
  const cluster = await clusterId(t)
  const produce = async (api: FastifyInstance, value: object): Promise<number | undefined> => {
    const res = await api.inject({ method: 'POST', url: `/v3/clusters/${cluster}/topics/${topic}/records`, headers: { 'content-type': 'application/json' }, payload: { value } })
    t.equal(res.statusCode, 200, res.body)
    return (res.json() as { value?: { schema_id?: number } }).value?.schema_id
  }
  const version = (fields: object[]): string => JSON.stringify({ type: 'record', name: 'Tick', namespace: 'kosha.v3', fields: [{ name: 'n', type: 'int' }, ...fields] })
  const first = await produce(kept, { type: 'AVRO', schema: version([]), data: { n: 1 } })
  t.equal(await produce(kept, { data: { n: 2 } }), first, 'the latest: the version it registered')

  // A new version registered by another client of the registry.
  const registered = await fetch(`${url ?? ''}/subjects/${topic}-value/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: version([{ name: 'unit', type: 'string', default: 'tick' }]) })
  })
  t.equal(registered.status, 200, 'the registry took the second version')
  const { id: second } = await registered.json() as { id: number }
  t.not(second, first)
  t.equal(await produce(kept, { data: { n: 3 } }), first, 'within SCHEMA_REGISTRY_LATEST_TTL_MS the latest is the one it had')
  t.equal(await produce(asked, { data: { n: 4 } }), second, 'with SCHEMA_REGISTRY_LATEST_TTL_MS=0 the registry is asked each time')

  const third = await produce(kept, { type: 'AVRO', schema: version([{ name: 'unit', type: 'string', default: 'tick' }, { name: 'note', type: ['null', 'string'], default: null }]), data: { n: 5, unit: 's', note: null } })
  t.not(third, second)
  t.equal(await produce(kept, { data: { n: 6, unit: 's', note: null } }), third, 'a version this service registers is the latest at once')
})
