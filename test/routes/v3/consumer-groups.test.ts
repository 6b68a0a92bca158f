// Confluent v3 consumer groups on the real broker: a KafkaJS consumer (an independent client) makes a real group with
// committed offsets; the API must describe it, its member, its assignments and its lag as Kafka has them. And our two
// extensions: deleting a group and resetting its offsets, both refused while the group has an active member.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { KafkaJS } from '@confluentinc/kafka-javascript'
import { build } from '../../helper'
import { createTopic, kafkaClient, uniqueName, clusterId } from '../../kafka'

const JSON_TYPE = { 'content-type': 'application/json' }
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, checked field by field
type Body = Record<string, any>

async function produce (t: Test, topic: string, perPartition: number[]): Promise<void> {
  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  for (const [partition, count] of perPartition.entries()) {
    await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ partition, value: `p${partition}-${i}` })) })
  }
}

async function until<T> (what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** A KafkaJS consumer in `group` that reads every record from the beginning, then commits `commit` (per partition). */
async function member (t: Test, group: string, topic: string, total: number, commit?: Record<number, number>): Promise<{ consumer: KafkaJS.Consumer, seen: Array<{ partition: number, offset: number }> }> {
  const consumer = kafkaClient().consumer({ kafkaJS: { groupId: group, fromBeginning: true, autoCommit: false } })
  await consumer.connect()
  let connected = true
  t.teardown(async () => { if (connected) await consumer.disconnect() })
  const seen: Array<{ partition: number, offset: number }> = []
  await consumer.subscribe({ topic })
  await consumer.run({ eachMessage: async ({ partition, message }) => { seen.push({ partition, offset: Number(message.offset) }) } })
  await until(`${total} records`, async () => seen.length >= total ? true : undefined)
  if (commit) await consumer.commitOffsets(Object.entries(commit).map(([p, offset]) => ({ topic, partition: Number(p), offset: String(offset) })))
  const disconnect = consumer.disconnect.bind(consumer)
  consumer.disconnect = async () => { connected = false; await disconnect() }
  return { consumer, seen }
}

async function get (app: FastifyInstance, url: string): Promise<{ status: number, body: Body }> {
  const res = await app.inject({ method: 'GET', url })
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) as Body : {} }
}

async function reset (app: FastifyInstance, url: string, payload: unknown): Promise<{ status: number, body: Body }> {
  const res = await app.inject({ method: 'POST', url: `${url}/offsets:reset`, headers: JSON_TYPE, payload: JSON.stringify(payload) })
  return { status: res.statusCode, body: JSON.parse(res.body) as Body }
}

t.test('a group with an active member: the group, its consumer, assignments, lags and lag summary', async (t) => {
  const app = await build(t)
  const cluster = await clusterId(t)
  const topic = await createTopic(t, { prefix: 'v3cg', partitions: 2 })
  const group = uniqueName('v3cg-group')
  await produce(t, topic, [5, 3])
  const { consumer } = await member(t, group, topic, 8, { 0: 2, 1: 3 })
  const base = `/v3/clusters/${cluster}/consumer-groups`
  const self = (path: string): string => `http://localhost:80${path}`

  // The member may still be joining when the records came: wait until the group is stable with its assignment.
  const described = await until('a stable group', async () => {
    const res = await get(app, `${base}/${group}`)
    return res.status === 200 && res.body.state === 'STABLE' ? res.body : undefined
  })
  t.match(described, {
    kind: 'KafkaConsumerGroup',
    metadata: { self: self(`${base}/${group}`), resource_name: `crn:///kafka=${cluster}/consumer-group=${group}` },
    cluster_id: cluster,
    consumer_group_id: group,
    is_simple: false,
    state: 'STABLE',
    type: 'CLASSIC',
    is_mixed_consumer_group: false,
    consumers: { related: self(`${base}/${group}/consumers`) },
    lag_summary: { related: self(`${base}/${group}/lag-summary`) }
  })
  t.match(described.coordinator.related, new RegExp(`/v3/clusters/${cluster}/brokers/\\d+$`))
  t.ok(described.partition_assignor.length > 0, 'the assignor is named')

  const list = await get(app, base)
  t.equal(list.status, 200)
  t.match(list.body, { kind: 'KafkaConsumerGroupList', metadata: { self: self(base), next: null } })
  t.same(list.body.data.filter((g: Body) => g.consumer_group_id === group).map((g: Body) => g.state), ['STABLE'], 'the list has the group')

  const consumers = await get(app, `${base}/${group}/consumers`)
  t.equal(consumers.status, 200)
  t.equal(consumers.body.kind, 'KafkaConsumerList')
  t.equal(consumers.body.data.length, 1, 'one member')
  const m = consumers.body.data[0] as Body
  const memberPath = `${base}/${group}/consumers/${m.consumer_id}`
  t.match(m, { kind: 'KafkaConsumer', cluster_id: cluster, consumer_group_id: group, metadata: { self: self(memberPath) }, assignments: { related: self(`${memberPath}/assignments`) } })
  t.type(m.client_id, 'string')

  const one = await get(app, memberPath)
  t.same(one, { status: 200, body: m }, 'a consumer by id is what the list says')

  const assignments = await get(app, `${memberPath}/assignments`)
  t.equal(assignments.status, 200)
  t.equal(assignments.body.kind, 'KafkaConsumerAssignmentList')
  t.same(assignments.body.data.map((a: Body) => [a.topic_name, a.partition_id]), [[topic, 0], [topic, 1]], 'both partitions are assigned to it')
  const assignment = await get(app, `${memberPath}/assignments/${topic}/partitions/1`)
  t.match(assignment, {
    status: 200,
    body: {
      kind: 'KafkaConsumerAssignment',
      consumer_id: m.consumer_id,
      topic_name: topic,
      partition_id: 1,
      partition: { related: self(`/v3/clusters/${cluster}/topics/${topic}/partitions/1`) },
      lag: { related: self(`${base}/${group}/lags/${topic}/partitions/1`) }
    }
  })
  t.equal((await get(app, `${memberPath}/assignments/${topic}/partitions/7`)).status, 404, 'a partition not assigned to it is 404')
  t.equal((await get(app, `${base}/${group}/consumers/no-such-member`)).status, 404, 'an unknown consumer is 404')
  t.equal((await get(app, `${base}/${group}/consumers/no-such-member/assignments`)).status, 404)

  // Committed: partition 0 at 2 of 5, partition 1 at 3 of 3.
  const lags = await until('the committed offsets', async () => {
    const res = await get(app, `${base}/${group}/lags`)
    return res.body.data?.length === 2 ? res.body : undefined
  })
  t.match(lags, { kind: 'KafkaConsumerLagList', metadata: { self: self(`${base}/${group}/lags`) } })
  t.same(lags.data.map((l: Body) => [l.partition_id, l.current_offset, l.log_end_offset, l.lag, l.consumer_id, l.client_id]),
    [[0, 2, 5, 3, m.consumer_id, m.client_id], [1, 3, 3, 0, m.consumer_id, m.client_id]], 'lag = log end - committed, per partition, with its member')
  const lag0 = await get(app, `${base}/${group}/lags/${topic}/partitions/0`)
  t.same(lag0.body, lags.data[0], 'one partition\'s lag is the list\'s entry')
  t.match(lag0.body.metadata, { self: self(`${base}/${group}/lags/${topic}/partitions/0`), resource_name: `crn:///kafka=${cluster}/consumer-group=${group}/lag=${topic}/partition=0` })
  t.equal((await get(app, `${base}/${group}/lags/${topic}/partitions/9`)).status, 404, 'no committed offset there: 404')
  t.equal((await get(app, `${base}/${group}/lags/${topic}/partitions/x`)).status, 400, 'a partition that is not a number: 400, as Confluent')

  const summary = await get(app, `${base}/${group}/lag-summary`)
  t.match(summary, {
    status: 200,
    body: {
      kind: 'KafkaConsumerGroupLagSummary',
      metadata: { self: self(`${base}/${group}/lag-summary`) },
      max_lag_consumer_id: m.consumer_id,
      max_lag_client_id: m.client_id,
      max_lag_topic_name: topic,
      max_lag_partition_id: 0,
      max_lag: 3,
      total_lag: 3,
      max_lag_consumer: { related: self(memberPath) },
      max_lag_partition: { related: self(`/v3/clusters/${cluster}/topics/${topic}/partitions/0`) }
    }
  })

  // An active member: no delete, no reset.
  const del = await app.inject({ method: 'DELETE', url: `${base}/${group}` })
  t.equal(del.statusCode, 409, 'delete refused while a member is active')
  t.match(JSON.parse(del.body), { error_code: 409, message: /active member/ })
  const refused = await reset(app, `${base}/${group}`, { strategy: 'EARLIEST', topics: [topic] })
  t.match(refused, { status: 409, body: { error_code: 409, message: /active member/ } }, 'reset refused while a member is active')
  const after = await get(app, `${base}/${group}/lags`)
  t.same(after.body.data.map((l: Body) => l.current_offset), [2, 3], 'the refused reset moved nothing')
  await consumer.disconnect()
})

t.test('reset offsets: dry run, to given offsets, earliest, latest and a timestamp; then delete the group', async (t) => {
  const app = await build(t)
  const cluster = await clusterId(t)
  const topic = await createTopic(t, { prefix: 'v3cg-reset', partitions: 2 })
  const group = uniqueName('v3cg-reset')
  await produce(t, topic, [4, 2])
  const { consumer } = await member(t, group, topic, 6, { 0: 4, 1: 2 })
  await consumer.disconnect()
  const url = `/v3/clusters/${cluster}/consumer-groups/${group}`
  await until('an empty group', async () => (await get(app, url)).body.state === 'EMPTY' ? true : undefined)
  const committed = async (): Promise<number[]> => (await get(app, `${url}/lags`)).body.data.map((l: Body) => l.current_offset)
  t.same(await committed(), [4, 2])

  const dry = await reset(app, url, { strategy: 'EARLIEST', topics: [topic], dry_run: true })
  t.same(dry, {
    status: 200,
    body: {
      kind: 'KafkaConsumerGroupOffsetsReset',
      metadata: { self: `http://localhost:80${url}/offsets:reset`, resource_name: null },
      cluster_id: cluster,
      consumer_group_id: group,
      dry_run: true,
      data: [
        { topic_name: topic, partition_id: 0, previous_offset: 4, offset: 0 },
        { topic_name: topic, partition_id: 1, previous_offset: 2, offset: 0 }
      ]
    }
  }, 'a dry run answers what it would set')
  t.same(await committed(), [4, 2], 'and sets nothing')

  const given = await reset(app, url, { strategy: 'OFFSETS', offsets: [{ topic_name: topic, partition_id: 0, offset: 1 }] })
  t.same(given.body.data, [{ topic_name: topic, partition_id: 0, previous_offset: 4, offset: 1 }])
  t.same(await committed(), [1, 2], 'a real reset moves the committed offset')
  t.equal((await get(app, `${url}/lag-summary`)).body.total_lag, 3)

  // A consumer of the group now reads partition 0 again from offset 1.
  const again = await member(t, group, topic, 3)
  t.same(again.seen.filter((s) => s.partition === 0).map((s) => s.offset), [1, 2, 3], 'the group re-reads from the reset offset')
  t.same(again.seen.filter((s) => s.partition === 1), [], 'and not what it had committed past')
  await again.consumer.disconnect()
  await until('an empty group', async () => (await get(app, url)).body.state === 'EMPTY' ? true : undefined)

  t.same((await reset(app, url, { strategy: 'EARLIEST', topics: [topic] })).body.data.map((d: Body) => d.offset), [0, 0])
  t.same(await committed(), [0, 0], 'earliest')
  t.same((await reset(app, url, { strategy: 'LATEST', topics: [topic] })).body.data.map((d: Body) => d.offset), [4, 2])
  t.same(await committed(), [4, 2], 'latest')
  t.same((await reset(app, url, { strategy: 'TIMESTAMP', topics: [topic], timestamp: 0 })).body.data.map((d: Body) => d.offset), [0, 0], 'a timestamp before every record: the first')
  const future = new Date(Date.now() + 3_600_000).toISOString()
  t.same((await reset(app, url, { strategy: 'TIMESTAMP', topics: [topic], timestamp: future })).body.data.map((d: Body) => d.offset), [4, 2], 'a timestamp after every record: the end')
  t.same(await committed(), [4, 2])

  // Requests it refuses, none of which moves anything.
  t.match(await reset(app, url, { strategy: 'OFFSETS' }), { status: 400, body: { error_code: 400, message: /offsets is required/ } })
  t.match(await reset(app, url, { strategy: 'EARLIEST' }), { status: 400, body: { message: /topics is required/ } })
  t.match(await reset(app, url, { strategy: 'TIMESTAMP', topics: [topic] }), { status: 400, body: { message: /timestamp is required/ } })
  t.match(await reset(app, url, { strategy: 'TIMESTAMP', topics: [topic], timestamp: 'yesterday' }), { status: 400, body: { message: /timestamp/ } })
  t.match(await reset(app, url, { strategy: 'OFFSETS', offsets: [{ topic_name: topic, partition_id: 0, offset: 99 }] }), { status: 400, body: { message: /outside partition/ } })
  t.match(await reset(app, url, { strategy: 'SOMEWHERE', topics: [topic] }), { status: 400, body: { error_code: 400 } })
  t.match(await reset(app, url, { strategy: 'EARLIEST', topics: ['no-such-topic-v3cg'] }), { status: 404, body: { error_code: 40403 } }, 'an unknown topic: 40403')
  t.match(await reset(app, url, { strategy: 'OFFSETS', offsets: [{ topic_name: topic, partition_id: 5, offset: 0 }] }), { status: 404, body: { error_code: 40403 } }, 'an unknown partition: 40403')
  t.same(await committed(), [4, 2], 'the refused resets moved nothing')
  t.equal((await reset(app, `/v3/clusters/${cluster}/consumer-groups/no-such-group-v3cg`, { strategy: 'EARLIEST', topics: [topic] })).status, 404)

  const del = await app.inject({ method: 'DELETE', url })
  t.equal(del.statusCode, 204, 'an empty group is deleted')
  t.equal(del.body, '')
  t.equal((await get(app, url)).status, 404, 'and is gone')
  t.equal((await app.inject({ method: 'DELETE', url })).statusCode, 404, 'deleting it again is 404')
})

t.test('unknown groups and clusters are 404, in Confluent\'s error shape', async (t) => {
  const app = await build(t)
  const cluster = await clusterId(t)
  const group = uniqueName('v3cg-none')
  for (const path of ['', '/consumers', '/consumers/x', '/consumers/x/assignments', '/lags', '/lags/t/partitions/0', '/lag-summary']) {
    const res = await get(app, `/v3/clusters/${cluster}/consumer-groups/${group}${path}`)
    t.same(res, { status: 404, body: { error_code: 404, message: `Consumer group ${group} cannot be found.` } }, `unknown group${path}`)
  }
  for (const path of ['', `/${group}`, `/${group}/lags`]) {
    const res = await get(app, `/v3/clusters/no-such-cluster/consumer-groups${path}`)
    t.same(res, { status: 404, body: { error_code: 404, message: 'Cluster no-such-cluster cannot be found.' } }, `unknown cluster${path}`)
  }
  t.equal((await app.inject({ method: 'DELETE', url: `/v3/clusters/no-such-cluster/consumer-groups/${group}` })).statusCode, 404)
})
