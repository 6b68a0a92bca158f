// Confluent v3 replicas and reassignments against the real broker: a partition's replicas, the replicas a broker
// hosts, the reassignments in progress (none on a one-broker cluster: the lists are empty and a partition's is 404),
// and a topic created with replicas_assignments, read back with a client of the test's own. build() checks every
// /v3 answer against Confluent's spec.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../../helper'
import { adminClient, createTopic, uniqueName } from '../../kafka'

const BASE = 'http://kosha.example:8000'

async function ids (app: FastifyInstance): Promise<{ cluster: string, broker: number }> {
  const cluster = (await app.inject({ method: 'GET', url: '/v3/clusters' })).json().data[0].cluster_id as string
  const broker = (await app.inject({ method: 'GET', url: `/v3/clusters/${cluster}/brokers` })).json().data[0].broker_id as number
  return { cluster, broker }
}

function expectError (t: Test, res: { statusCode: number, json: () => { error_code: number, message: string } }, status: number, code: number, message: RegExp, what: string): void {
  t.equal(res.statusCode, status, `${what}: ${status}`)
  t.same(Object.keys(res.json()).sort(), ['error_code', 'message'], `${what}: Confluent's envelope`)
  t.equal(res.json().error_code, code, `${what}: error_code ${code}`)
  t.match(res.json().message, message, `${what}: the message says why`)
}

t.test('a partition\'s replicas: listed, one by broker, and the partition\'s leader link leads to one', async (t) => {
  const app = await build(t, { env: { ADVERTISED_URL: BASE } })
  const { cluster, broker } = await ids(app)
  const topic = await createTopic(t, { prefix: 'v3-replicas', partitions: 2 })
  const partition = `/v3/clusters/${cluster}/topics/${topic}/partitions/1`

  const list = await app.inject({ method: 'GET', url: `${partition}/replicas` })
  t.equal(list.statusCode, 200)
  const replica = {
    kind: 'KafkaReplica',
    metadata: { self: `${BASE}${partition}/replicas/${broker}`, resource_name: `crn:///kafka=${cluster}/topic=${topic}/partition=1/replica=${broker}` },
    cluster_id: cluster,
    topic_name: topic,
    partition_id: 1,
    broker_id: broker,
    is_leader: true,
    is_in_sync: true,
    broker: { related: `${BASE}/v3/clusters/${cluster}/brokers/${broker}` }
  }
  t.same(list.json(), { kind: 'KafkaReplicaList', metadata: { self: `${BASE}${partition}/replicas`, next: null }, data: [replica] })

  const leaderLink = (await app.inject({ method: 'GET', url: partition })).json().leader.related as string
  const viaLink = await app.inject({ method: 'GET', url: leaderLink.slice(BASE.length) })
  t.equal(viaLink.statusCode, 200, 'the partition\'s leader link answers')
  t.same(viaLink.json(), replica, 'with the leader\'s replica')

  expectError(t, await app.inject({ method: 'GET', url: `${partition}/replicas/987654` }), 404, 404, /on broker 987654 cannot be found/, 'a broker without a replica of it')
  expectError(t, await app.inject({ method: 'GET', url: `/v3/clusters/${cluster}/topics/${topic}/partitions/9/replicas` }), 404, 40403, /Partition 9 of topic/, 'an unknown partition')
  expectError(t, await app.inject({ method: 'GET', url: `/v3/clusters/${cluster}/topics/${uniqueName('v3-none')}/partitions/0/replicas` }), 404, 40403, /does not exist/, 'an unknown topic')
})

t.test('a broker\'s partition-replicas: every replica it hosts, the new topic\'s included', async (t) => {
  const app = await build(t, { env: { ADVERTISED_URL: BASE } })
  const { cluster, broker } = await ids(app)
  const topic = await createTopic(t, { prefix: 'v3-broker-replicas', partitions: 3 })
  const url = `/v3/clusters/${cluster}/brokers/${broker}/partition-replicas`
  const res = await app.inject({ method: 'GET', url })
  t.equal(res.statusCode, 200)
  t.same(res.json().metadata, { self: `${BASE}${url}`, next: null })
  const data = res.json().data as Array<{ topic_name: string, partition_id: number, broker_id: number, is_leader: boolean }>
  t.same(data.filter((r) => r.topic_name === topic).map((r) => [r.partition_id, r.broker_id, r.is_leader]), [[0, broker, true], [1, broker, true], [2, broker, true]])
  t.ok(data.every((r) => r.broker_id === broker), 'only this broker\'s')
  expectError(t, await app.inject({ method: 'GET', url: `/v3/clusters/${cluster}/brokers/987654/partition-replicas` }), 404, 404, /Broker 987654 cannot be found/, 'an unknown broker')
})

t.test('reassignments: none in progress on this cluster, so the lists are empty and a partition\'s is 404', async (t) => {
  const app = await build(t, { env: { ADVERTISED_URL: BASE } })
  const { cluster } = await ids(app)
  const topic = await createTopic(t, { prefix: 'v3-reassign', partitions: 2 })
  const all = await app.inject({ method: 'GET', url: `/v3/clusters/${cluster}/topics/-/partitions/-/reassignment` })
  t.equal(all.statusCode, 200, 'the literal "-" reaches its own route')
  t.same(all.json(), { kind: 'KafkaReassignmentList', metadata: { self: `${BASE}/v3/clusters/${cluster}/topics/-/partitions/-/reassignment`, next: null }, data: [] })
  const ofTopic = await app.inject({ method: 'GET', url: `/v3/clusters/${cluster}/topics/${topic}/partitions/-/reassignment` })
  t.equal(ofTopic.statusCode, 200)
  t.same(ofTopic.json(), { kind: 'KafkaReassignmentList', metadata: { self: `${BASE}/v3/clusters/${cluster}/topics/${topic}/partitions/-/reassignment`, next: null }, data: [] })
  expectError(t, await app.inject({ method: 'GET', url: `/v3/clusters/${cluster}/topics/${topic}/partitions/1/reassignment` }), 404, 404, /No reassignment of partition 1 .* is in progress/, 'a partition not being reassigned')
  expectError(t, await app.inject({ method: 'GET', url: `/v3/clusters/${cluster}/topics/${topic}/partitions/7/reassignment` }), 404, 40403, /Partition 7 of topic/, 'an unknown partition')
  expectError(t, await app.inject({ method: 'GET', url: `/v3/clusters/${cluster}/topics/${uniqueName('v3-none')}/partitions/-/reassignment` }), 404, 40403, /does not exist/, 'an unknown topic')
})

t.test('create a topic with replicas_assignments: Kafka places each partition where it says', async (t) => {
  const app = await build(t)
  const { cluster, broker } = await ids(app)
  const admin = await adminClient(t)
  const url = `/v3/clusters/${cluster}/topics`
  const name = uniqueName('v3-assigned')
  t.teardown(() => admin.deleteTopics({ topics: [name] }).catch(() => undefined))

  const dry = await app.inject({ method: 'POST', url, payload: { topic_name: name, replicas_assignments: { 0: [broker], 1: [broker] }, validate_only: true } })
  t.equal(dry.statusCode, 200, 'validate_only')
  t.match(dry.json(), { topic_name: name, partitions_count: 2, replication_factor: 1 })
  t.notOk((await admin.listTopics()).includes(name), 'validate_only created nothing')

  const created = await app.inject({ method: 'POST', url, payload: { topic_name: name, replicas_assignments: { 0: [broker], 1: [broker], 2: [broker] } } })
  t.equal(created.statusCode, 201)
  t.match(created.json(), { topic_name: name, partitions_count: 3, replication_factor: 1 })
  const [md] = await admin.fetchTopicMetadata({ topics: [name] })
  t.same(md?.partitions.map((p) => [p.partitionId, p.replicas]).sort(), [[0, [broker]], [1, [broker]], [2, [broker]]], 'Kafka has the partitions where they were asked')

  const other = uniqueName('v3-assigned')
  expectError(t, await app.inject({ method: 'POST', url, payload: { topic_name: other, replicas_assignments: { 0: [broker], 2: [broker] } } }), 400, 400, /partitions 0 to 1/, 'a gap in the partition ids')
  expectError(t, await app.inject({ method: 'POST', url, payload: { topic_name: other, partitions_count: 3, replicas_assignments: { 0: [broker] } } }), 400, 400, /partitions_count is 3/, 'a partitions_count that disagrees')
  expectError(t, await app.inject({ method: 'POST', url, payload: { topic_name: other, replicas_assignments: { 0: [987654] } } }), 400, 40002, /Kafka refused/, 'a broker that does not exist')
  expectError(t, await app.inject({ method: 'POST', url, payload: { topic_name: other, replicas_assignments: { x: [broker] } } }), 400, 400, /replicas_assignments/, 'a partition id that is not a number')
  t.notOk((await admin.listTopics()).includes(other), 'no refused creation made a topic')
})
