// Confluent v3 topics, topic configs and partitions against the real broker. build() checks every /v3 answer
// against Confluent's spec; the broker's own state is read back with a client of the test's own.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { Admin, ConfigResourceTypes } from '@platformatic/kafka'
import { build } from '../../helper'
import { USERS, adminClient, bootstrap, createTopic, saslBootstrap, uniqueName } from '../../kafka'

const BASE = 'http://kosha.example:8000'

async function clusterId (app: FastifyInstance): Promise<string> {
  return (await app.inject({ method: 'GET', url: '/v3/clusters' })).json().data[0].cluster_id
}

async function topicExists (t: Parameters<typeof adminClient>[0], name: string): Promise<boolean> {
  const admin = await adminClient(t)
  return (await admin.listTopics()).includes(name)
}

/** A client of the test's own for what the KafkaJS-style admin lacks (DescribeConfigs, group offsets). */
function platformaticAdmin (t: Test): Admin {
  const admin = new Admin({ clientId: 'kosha-test', bootstrapBrokers: bootstrap().split(',') })
  t.teardown(() => admin.close())
  return admin
}

/** Config values of a topic as the broker reports them. */
async function brokerConfigs (t: Test, topic: string): Promise<Map<string, { value: string | null, source: number }>> {
  const [result] = await platformaticAdmin(t).describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic }] })
  return new Map((result?.configs ?? []).map((c) => [c.name, { value: c.value ?? null, source: c.configSource }]))
}

// Confluent's codes for what the tests meet: Kafka refused the request as invalid, an unknown topic or partition.
const KAFKA_BAD_REQUEST = 40002
const UNKNOWN_TOPIC_OR_PARTITION = 40403

/** A v3 error: `status`, and error_code `code` (Confluent's sub-code, or the plain status where it has none). */
function expectError (t: Test, res: { statusCode: number, json: () => { error_code: number, message: string } }, status: number, message: RegExp, what: string, code = status): void {
  t.equal(res.statusCode, status, `${what}: ${status}`)
  const body = res.json()
  t.same(Object.keys(body).sort(), ['error_code', 'message'], `${what}: Confluent's two fields`)
  t.equal(body.error_code, code, `${what}: error_code ${code}`)
  t.match(body.message, message, `${what}: the message says why`)
}

t.test('create a topic with configs, read it back, list it, delete it', async (t) => {
  const app = await build(t, { env: { ADVERTISED_URL: BASE } })
  const id = await clusterId(app)
  const name = uniqueName('v3-create')
  t.teardown(async () => { (await adminClient(t)).deleteTopics({ topics: [name] }).catch(() => undefined) })
  const res = await app.inject({
    method: 'POST',
    url: `/v3/clusters/${id}/topics`,
    payload: { topic_name: name, partitions_count: 3, replication_factor: 1, configs: [{ name: 'retention.ms', value: '3600000' }, { name: 'cleanup.policy', value: 'compact' }] }
  })
  t.equal(res.statusCode, 201)
  const topicUrl = `${BASE}/v3/clusters/${id}/topics/${name}`
  const expected = {
    kind: 'KafkaTopic',
    metadata: { self: topicUrl, resource_name: `crn:///kafka=${id}/topic=${name}` },
    cluster_id: id,
    topic_name: name,
    is_internal: false,
    replication_factor: 1,
    partitions_count: 3,
    partitions: { related: `${topicUrl}/partitions` },
    configs: { related: `${topicUrl}/configs` },
    partition_reassignments: { related: `${topicUrl}/partitions/-/reassignment` }
  }
  t.same(res.json(), expected)
  t.ok(await topicExists(t, name), 'the broker has it')
  const configs = await brokerConfigs(t, name)
  t.equal(configs.get('retention.ms')?.value, '3600000', 'its configs were applied')
  t.equal(configs.get('cleanup.policy')?.value, 'compact')

  const one = await app.inject({ method: 'GET', url: `/v3/clusters/${id}/topics/${name}` })
  t.equal(one.statusCode, 200)
  t.same(one.json(), expected, 'GET answers what POST did')
  const withOps = await app.inject({ method: 'GET', url: `/v3/clusters/${id}/topics/${name}?include_authorized_operations=true` })
  t.equal(withOps.statusCode, 200, 'include_authorized_operations is accepted')

  const list = await app.inject({ method: 'GET', url: `/v3/clusters/${id}/topics` })
  t.equal(list.statusCode, 200)
  const body = list.json()
  t.equal(body.kind, 'KafkaTopicList')
  t.same(body.metadata, { self: `${BASE}/v3/clusters/${id}/topics`, next: null })
  t.same(body.data.find((x: { topic_name: string }) => x.topic_name === name), expected)
  const names = body.data.map((x: { topic_name: string }) => x.topic_name)
  t.same(names, [...names].sort(), 'sorted by name')

  const del = await app.inject({ method: 'DELETE', url: `/v3/clusters/${id}/topics/${name}` })
  t.equal(del.statusCode, 204)
  t.equal(del.body, '', 'no body')
  t.notOk(await topicExists(t, name), 'the broker no longer has it')
  expectError(t, await app.inject({ method: 'DELETE', url: `/v3/clusters/${id}/topics/${name}` }), 404, /does not exist/, 'deleting it again', UNKNOWN_TOPIC_OR_PARTITION)
  expectError(t, await app.inject({ method: 'GET', url: `/v3/clusters/${id}/topics/${name}` }), 404, /does not exist/, 'reading it', UNKNOWN_TOPIC_OR_PARTITION)
})

t.test('internal topics are listed and marked is_internal', async (t) => {
  const app = await build(t)
  const id = await clusterId(app)
  // __consumer_offsets exists once any group committed; make sure one has.
  const topic = await createTopic(t)
  const group = uniqueName('v3-group')
  const admin = platformaticAdmin(t)
  await admin.alterConsumerGroupOffsets({ groupId: group, topics: [{ name: topic, partitionOffsets: [{ partition: 0, offset: 0n }] }] })
  t.teardown(() => admin.deleteGroups({ groups: [group] }).catch(() => undefined))
  const list = (await app.inject({ method: 'GET', url: `/v3/clusters/${id}/topics` })).json()
  const offsets = list.data.find((x: { topic_name: string }) => x.topic_name === '__consumer_offsets')
  t.ok(offsets, '__consumer_offsets is listed')
  t.equal(offsets.is_internal, true)
  t.equal(list.data.find((x: { topic_name: string }) => x.topic_name === topic).is_internal, false)
})

t.test('defaults: no partitions_count or replication_factor takes the broker\'s', async (t) => {
  const app = await build(t)
  const id = await clusterId(app)
  const name = uniqueName('v3-defaults')
  t.teardown(async () => { (await adminClient(t)).deleteTopics({ topics: [name] }).catch(() => undefined) })
  const res = await app.inject({ method: 'POST', url: `/v3/clusters/${id}/topics`, payload: { topic_name: name } })
  t.equal(res.statusCode, 201)
  t.ok(res.json().partitions_count >= 1)
  t.ok(res.json().replication_factor >= 1)
})

t.test('validate_only: Kafka validates, nothing is created', async (t) => {
  const app = await build(t)
  const id = await clusterId(app)
  const name = uniqueName('v3-dry')
  const res = await app.inject({
    method: 'POST',
    url: `/v3/clusters/${id}/topics`,
    payload: { topic_name: name, partitions_count: 4, replication_factor: 1, configs: [{ name: 'retention.ms', value: '1000' }], validate_only: true }
  })
  t.equal(res.statusCode, 200, '200, not 201')
  t.match(res.json(), { kind: 'KafkaTopic', topic_name: name, partitions_count: 4, replication_factor: 1 })
  t.notOk(await topicExists(t, name), 'no topic was created')
  expectError(t, await app.inject({ method: 'GET', url: `/v3/clusters/${id}/topics/${name}` }), 404, /does not exist/, 'reading it', UNKNOWN_TOPIC_OR_PARTITION)

  // What Kafka would refuse, validate_only refuses too.
  const existing = await createTopic(t)
  expectError(t, await app.inject({ method: 'POST', url: `/v3/clusters/${id}/topics`, payload: { topic_name: existing, validate_only: true } }),
    400, /already exists/, 'validating an existing topic', KAFKA_BAD_REQUEST)
  expectError(t, await app.inject({ method: 'POST', url: `/v3/clusters/${id}/topics`, payload: { topic_name: name, replication_factor: 99, validate_only: true } }),
    400, /replication factor/i, 'validating a replication factor above the broker count', KAFKA_BAD_REQUEST)
  expectError(t, await app.inject({
    method: 'POST', url: `/v3/clusters/${id}/topics`, payload: { topic_name: name, configs: [{ name: 'retention.ms', value: 'soon' }], validate_only: true }
  }), 400, /configuration|retention/i, 'validating a config value Kafka refuses', KAFKA_BAD_REQUEST)
  t.notOk(await topicExists(t, name), 'still nothing was created')
})

t.test('create: failures', async (t) => {
  const app = await build(t)
  const id = await clusterId(app)
  const existing = await createTopic(t)
  const fresh = uniqueName('v3-bad')
  const post = async (payload: unknown, url = `/v3/clusters/${id}/topics`): Promise<Awaited<ReturnType<FastifyInstance['inject']>>> =>
    await app.inject({ method: 'POST', url, payload: payload as object })
  // Confluent answers an existing topic with 400 and 40002 ("Topic 'x' already exists."), not 409, as every request
  // Kafka refuses as invalid.
  expectError(t, await post({ topic_name: existing }), 400, new RegExp(`Topic '${existing}' already exists`), 'an existing topic', KAFKA_BAD_REQUEST)
  const brokers = (await app.inject({ method: 'GET', url: `/v3/clusters/${id}/brokers` })).json().data.length as number
  expectError(t, await post({ topic_name: fresh, replication_factor: brokers + 1 }), 400, /replication factor/i, `replication factor ${brokers + 1} on ${brokers} broker(s)`, KAFKA_BAD_REQUEST)
  expectError(t, await post({ topic_name: fresh, replication_factor: 99 }), 400, /replication factor/i, 'a replication factor above the broker count', KAFKA_BAD_REQUEST)
  expectError(t, await post({ topic_name: fresh, configs: [{ name: 'no.such.config', value: '1' }] }), 400, /configuration|config/i, 'an unknown config', KAFKA_BAD_REQUEST)
  expectError(t, await post({ partitions_count: 1 }), 400, /topic_name is required|must have required property 'topic_name'/, 'no topic_name')
  expectError(t, await post({ topic_name: fresh, partitions_count: 'three' }), 400, /partitions_count must be integer/, 'a count that is not a number')
  expectError(t, await post({ topic_name: fresh, partitions_count: 0 }), 400, /partitions_count must be >= 1/, 'zero partitions')
  // The schema refuses it before Kafka sees it: a malformed body, the plain 400.
  expectError(t, await post({ topic_name: 'bad name!' }), 400, /topic_name/, 'a name Kafka would refuse')
  const notJson = await app.inject({ method: 'POST', url: `/v3/clusters/${id}/topics`, headers: { 'content-type': 'application/json' }, payload: '{"topic_name":' })
  expectError(t, notJson, 400, /not valid JSON/, 'a body that is not JSON')
  expectError(t, await post({ topic_name: fresh }, '/v3/clusters/no-such-cluster/topics'), 404, /Cluster no-such-cluster cannot be found/, 'an unknown cluster')
  expectError(t, await app.inject({ method: 'GET', url: '/v3/clusters/no-such-cluster/topics' }), 404, /cannot be found/, 'listing in an unknown cluster')
  t.notOk(await topicExists(t, fresh), 'none of them created anything')
})

t.test('PATCH adds partitions; fewer or as many is refused', async (t) => {
  const app = await build(t, { env: { ADVERTISED_URL: BASE } })
  const id = await clusterId(app)
  const topic = await createTopic(t, { partitions: 2 })
  const url = `/v3/clusters/${id}/topics/${topic}`
  const res = await app.inject({ method: 'PATCH', url, payload: { partitions_count: 5 } })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { kind: 'KafkaTopic', topic_name: topic, partitions_count: 5, metadata: { self: `${BASE}${url}` } })
  const admin = await adminClient(t)
  const [md] = await admin.fetchTopicMetadata({ topics: [topic] })
  t.equal(md?.partitions.length, 5, 'the broker has 5 partitions')

  // Confluent answers these with 400 and 40002 ("Topic already has 1 partitions."): Kafka refuses them as invalid.
  expectError(t, await app.inject({ method: 'PATCH', url, payload: { partitions_count: 3 } }), 400, /partitions/i, 'fewer partitions', KAFKA_BAD_REQUEST)
  expectError(t, await app.inject({ method: 'PATCH', url, payload: { partitions_count: 5 } }), 400, /partitions/i, 'as many partitions', KAFKA_BAD_REQUEST)
  expectError(t, await app.inject({ method: 'PATCH', url, payload: {} }), 400, /partitions_count/, 'no partitions_count')
  expectError(t, await app.inject({ method: 'PATCH', url: `/v3/clusters/${id}/topics/${uniqueName('none')}`, payload: { partitions_count: 3 } }),
    404, /does not exist/, 'an unknown topic', UNKNOWN_TOPIC_OR_PARTITION)
  const [after] = await admin.fetchTopicMetadata({ topics: [topic] })
  t.equal(after?.partitions.length, 5, 'still 5 partitions')
})

t.test('topic configs: list, get, set, reset, batch alter', async (t) => {
  const app = await build(t, { env: { ADVERTISED_URL: BASE } })
  const id = await clusterId(app)
  const topic = await createTopic(t, { config: { 'retention.ms': '3600000' } })
  const base = `/v3/clusters/${id}/topics/${topic}/configs`

  const list = await app.inject({ method: 'GET', url: base })
  t.equal(list.statusCode, 200)
  const body = list.json()
  t.equal(body.kind, 'KafkaTopicConfigList')
  t.same(body.metadata, { self: `${BASE}${base}`, next: null })
  const retention = body.data.find((c: { name: string }) => c.name === 'retention.ms')
  t.same(retention, {
    kind: 'KafkaTopicConfig',
    metadata: { self: `${BASE}${base}/retention.ms`, resource_name: `crn:///kafka=${id}/topic=${topic}/config=retention.ms` },
    cluster_id: id,
    topic_name: topic,
    name: 'retention.ms',
    value: '3600000',
    is_default: false,
    is_read_only: false,
    is_sensitive: false,
    source: 'DYNAMIC_TOPIC_CONFIG',
    synonyms: retention.synonyms
  })
  t.match(retention.synonyms[0], { name: 'retention.ms', value: '3600000', source: 'DYNAMIC_TOPIC_CONFIG' })
  const cleanup = body.data.find((c: { name: string }) => c.name === 'cleanup.policy')
  t.match(cleanup, { value: 'delete', is_default: true, source: 'DEFAULT_CONFIG' })

  const one = await app.inject({ method: 'GET', url: `${base}/retention.ms` })
  t.equal(one.statusCode, 200)
  t.same(one.json(), retention)

  // PUT sets
  const put = await app.inject({ method: 'PUT', url: `${base}/cleanup.policy`, payload: { value: 'compact' } })
  t.equal(put.statusCode, 204)
  t.equal(put.body, '')
  t.equal((await brokerConfigs(t, topic)).get('cleanup.policy')?.value, 'compact', 'the broker has the new value')
  t.match((await app.inject({ method: 'GET', url: `${base}/cleanup.policy` })).json(), { value: 'compact', is_default: false, source: 'DYNAMIC_TOPIC_CONFIG' })

  // DELETE resets to the default
  const reset = await app.inject({ method: 'DELETE', url: `${base}/retention.ms` })
  t.equal(reset.statusCode, 204)
  const afterReset = (await app.inject({ method: 'GET', url: `${base}/retention.ms` })).json()
  t.match(afterReset, { is_default: true, source: 'DEFAULT_CONFIG' })
  t.not(afterReset.value, '3600000')

  // configs:alter: SET (explicit and by default) and DELETE in one call
  const alter = await app.inject({
    method: 'POST',
    url: `${base}:alter`,
    payload: { data: [{ name: 'cleanup.policy', operation: 'DELETE' }, { name: 'compression.type', value: 'gzip' }, { name: 'segment.ms', value: '7200000', operation: 'SET' }] }
  })
  t.equal(alter.statusCode, 204)
  const now = await brokerConfigs(t, topic)
  t.equal(now.get('cleanup.policy')?.value, 'delete', 'cleanup.policy reset')
  t.equal(now.get('compression.type')?.value, 'gzip', 'compression.type set')
  t.equal(now.get('segment.ms')?.value, '7200000', 'segment.ms set')

  // validate_only changes nothing
  const dry = await app.inject({ method: 'POST', url: `${base}:alter`, payload: { data: [{ name: 'compression.type', value: 'lz4' }], validate_only: true } })
  t.equal(dry.statusCode, 204)
  t.equal((await brokerConfigs(t, topic)).get('compression.type')?.value, 'gzip', 'validate_only left the value alone')
})

t.test('topic configs: failures', async (t) => {
  const app = await build(t)
  const id = await clusterId(app)
  const topic = await createTopic(t)
  const missing = uniqueName('none')
  const base = `/v3/clusters/${id}/topics/${topic}/configs`
  const cases: Array<[string, Promise<Awaited<ReturnType<FastifyInstance['inject']>>>, number, RegExp, number?]> = [
    ['list, unknown topic', app.inject({ method: 'GET', url: `/v3/clusters/${id}/topics/${missing}/configs` }), 404, /does not exist/, UNKNOWN_TOPIC_OR_PARTITION],
    ['get, unknown topic', app.inject({ method: 'GET', url: `/v3/clusters/${id}/topics/${missing}/configs/retention.ms` }), 404, /does not exist/, UNKNOWN_TOPIC_OR_PARTITION],
    ['get, unknown config', app.inject({ method: 'GET', url: `${base}/no.such.config` }), 404, /Config no.such.config cannot be found/],
    ['get, unknown cluster', app.inject({ method: 'GET', url: `/v3/clusters/no-such-cluster/topics/${topic}/configs` }), 404, /Cluster no-such-cluster cannot be found/],
    ['put, unknown config', app.inject({ method: 'PUT', url: `${base}/no.such.config`, payload: { value: '1' } }), 404, /cannot be found/],
    ['put, unknown topic', app.inject({ method: 'PUT', url: `/v3/clusters/${id}/topics/${missing}/configs/retention.ms`, payload: { value: '1' } }), 404, /does not exist/, UNKNOWN_TOPIC_OR_PARTITION],
    ['put, a value Kafka refuses', app.inject({ method: 'PUT', url: `${base}/retention.ms`, payload: { value: 'soon' } }), 400, /configuration|retention/i, KAFKA_BAD_REQUEST],
    ['put, null value', app.inject({ method: 'PUT', url: `${base}/retention.ms`, payload: { value: null } }), 400, /DELETE it/],
    ['put, no body', app.inject({ method: 'PUT', url: `${base}/retention.ms`, payload: {} }), 400, /value/],
    ['delete, unknown config', app.inject({ method: 'DELETE', url: `${base}/no.such.config` }), 404, /cannot be found/],
    ['delete, unknown topic', app.inject({ method: 'DELETE', url: `/v3/clusters/${id}/topics/${missing}/configs/retention.ms` }), 404, /does not exist/, UNKNOWN_TOPIC_OR_PARTITION],
    ['alter, unknown topic', app.inject({ method: 'POST', url: `/v3/clusters/${id}/topics/${missing}/configs:alter`, payload: { data: [{ name: 'retention.ms', value: '1' }] } }), 404, /does not exist/, UNKNOWN_TOPIC_OR_PARTITION],
    ['alter, SET without value', app.inject({ method: 'POST', url: `${base}:alter`, payload: { data: [{ name: 'retention.ms' }] } }), 400, /value is required/],
    ['alter, unknown operation', app.inject({ method: 'POST', url: `${base}:alter`, payload: { data: [{ name: 'retention.ms', value: '1', operation: 'APPEND' }] } }), 400, /operation/],
    ['alter, no data', app.inject({ method: 'POST', url: `${base}:alter`, payload: {} }), 400, /data/],
    ['alter, a value Kafka refuses', app.inject({ method: 'POST', url: `${base}:alter`, payload: { data: [{ name: 'retention.ms', value: 'x' }] } }), 400, /configuration|retention/i, KAFKA_BAD_REQUEST]
  ]
  for (const [what, pending, status, message, code] of cases) expectError(t, await pending, status, message, what, code)
  t.equal((await brokerConfigs(t, topic)).get('retention.ms')?.source, 5, 'retention.ms still at its default (DEFAULT_CONFIG)')
})

t.test('partitions: list and one', async (t) => {
  const app = await build(t, { env: { ADVERTISED_URL: BASE } })
  const id = await clusterId(app)
  const topic = await createTopic(t, { partitions: 3 })
  const base = `/v3/clusters/${id}/topics/${topic}/partitions`
  const admin = await adminClient(t)
  const [md] = await admin.fetchTopicMetadata({ topics: [topic] })

  const list = await app.inject({ method: 'GET', url: base })
  t.equal(list.statusCode, 200)
  const body = list.json()
  t.equal(body.kind, 'KafkaPartitionList')
  t.same(body.metadata, { self: `${BASE}${base}`, next: null })
  t.same(body.data.map((p: { partition_id: number }) => p.partition_id), [0, 1, 2])
  const leader = md?.partitions.find((p) => p.partitionId === 1)?.leader
  const p1 = `${BASE}${base}/1`
  t.same(body.data[1], {
    kind: 'KafkaPartition',
    metadata: { self: p1, resource_name: `crn:///kafka=${id}/topic=${topic}/partition=1` },
    cluster_id: id,
    topic_name: topic,
    partition_id: 1,
    leader: { related: `${p1}/replicas/${leader}` },
    replicas: { related: `${p1}/replicas` },
    reassignment: { related: `${p1}/reassignment` }
  })
  const one = await app.inject({ method: 'GET', url: `${base}/1` })
  t.equal(one.statusCode, 200)
  t.same(one.json(), body.data[1])

  expectError(t, await app.inject({ method: 'GET', url: `${base}/7` }), 404, /Partition 7 of topic/, 'an unknown partition', UNKNOWN_TOPIC_OR_PARTITION)
  expectError(t, await app.inject({ method: 'GET', url: `/v3/clusters/${id}/topics/${uniqueName('none')}/partitions` }), 404, /does not exist/, 'an unknown topic', UNKNOWN_TOPIC_OR_PARTITION)
  expectError(t, await app.inject({ method: 'GET', url: `/v3/clusters/${id}/topics/${uniqueName('none')}/partitions/0` }), 404, /does not exist/, 'a partition of an unknown topic', UNKNOWN_TOPIC_OR_PARTITION)
  expectError(t, await app.inject({ method: 'GET', url: `/v3/clusters/no-such-cluster/topics/${topic}/partitions` }), 404, /cannot be found/, 'an unknown cluster')
  expectError(t, await app.inject({ method: 'GET', url: `${base}/-1` }), 400, /partition_id/, 'a negative partition id')
})

t.test('a partition\'s earliest and latest offsets follow the records', async (t) => {
  const app = await build(t, { env: { ADVERTISED_URL: BASE } })
  const id = await clusterId(app)
  const topic = await createTopic(t, { partitions: 2 })
  const url = `/v3/clusters/${id}/topics/${topic}/partitions/1/offset`
  const before = await app.inject({ method: 'GET', url })
  t.equal(before.statusCode, 200)
  t.match(before.json(), {
    kind: 'KafkaPartitionWithOffsets',
    metadata: { self: `${BASE}${url}`, resource_name: `crn:///kafka=${id}/topic=${topic}/partition=1/offset` },
    cluster_id: id,
    topic_name: topic,
    partition_id: 1,
    earliest_offset: 0,
    latest_offset: 0
  })
  for (let i = 0; i < 3; i++) {
    const res = await app.inject({ method: 'POST', url: `/topics/${topic}/partitions/1`, headers: { 'content-type': 'application/json' }, payload: { records: [{ value: i }] } })
    t.equal(res.statusCode, 200)
  }
  t.match((await app.inject({ method: 'GET', url: `${url}?offset_type=latest` })).json(), { earliest_offset: 0, latest_offset: 3 })
  expectError(t, await app.inject({ method: 'GET', url: `/v3/clusters/${id}/topics/${topic}/partitions/9/offset` }), 404, /Partition 9/, 'an unknown partition', UNKNOWN_TOPIC_OR_PARTITION)
  expectError(t, await app.inject({ method: 'GET', url: `/v3/clusters/${id}/topics/${uniqueName('none')}/partitions/0/offset` }), 404, /does not exist/, 'an unknown topic', UNKNOWN_TOPIC_OR_PARTITION)
})

t.test('a connector user Kafka\'s ACLs deny: 403 with 40301, and nothing is done', { skip: saslBootstrap() ? false : 'the cluster has no SASL listener' }, async (t) => {
  // noacl authenticates over SASL and holds no ACL: Kafka refuses it what the PLAINTEXT super user may do.
  const app = await build(t, { env: { BROKER_ADDRESS: saslBootstrap() ?? '', USERNAME: USERS.noAcl.username, PASSWORD: USERS.noAcl.password, SASL_MECHANISM: 'SCRAM-SHA-512' } })
  const id = await clusterId(app)
  const topic = await createTopic(t)
  const fresh = uniqueName('v3-denied')
  expectError(t, await app.inject({ method: 'POST', url: `/v3/clusters/${id}/topics`, payload: { topic_name: fresh } }), 403, /Kafka denied/, 'creating a topic', 40301)
  expectError(t, await app.inject({ method: 'GET', url: `/v3/clusters/${id}/topics/${topic}/configs` }), 403, /Kafka denied/, 'reading a topic\'s configs', 40301)
  t.notOk(await topicExists(t, fresh), 'the topic was not created')
})
