// Confluent v3 clusters, brokers and broker configs against the real broker. build() checks every /v3 answer
// against Confluent's spec.
import t from 'tap'
import { build } from '../../helper'
import { Admin } from '@platformatic/kafka'
import { bootstrap } from '../../kafka'

const BASE = 'http://kosha.example:8000'

/** The cluster as Kafka describes it, asked by a client of the test's own. */
async function describeCluster (t: { teardown: (fn: () => unknown) => void }): Promise<{ clusterId: string, controller: number, brokers: Array<{ nodeId: number, host: string, port: number }> }> {
  const admin = new Admin({ clientId: 'kosha-test', bootstrapBrokers: bootstrap().split(',') })
  t.teardown(() => admin.close())
  const md = await admin.metadata({ topics: [] })
  return { clusterId: md.id, controller: md.controllerId, brokers: [...md.brokers.entries()].map(([nodeId, b]) => ({ nodeId, host: b.host, port: b.port })) }
}

async function clusterId (app: Awaited<ReturnType<typeof build>>): Promise<string> {
  return (await app.inject({ method: 'GET', url: '/v3/clusters' })).json().data[0].cluster_id
}

t.test('GET /v3/clusters: the one cluster, its id as Kafka reports it, absolute links', async (t) => {
  const app = await build(t, { env: { ADVERTISED_URL: BASE } })
  const res = await app.inject({ method: 'GET', url: '/v3/clusters' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], 'application/json')
  const body = res.json()
  t.equal(body.kind, 'KafkaClusterList')
  t.same(body.metadata, { self: `${BASE}/v3/clusters`, next: null })
  t.equal(body.data.length, 1)
  const described = await describeCluster(t)
  const id = body.data[0].cluster_id
  t.equal(id, described.clusterId, 'the id Kafka reports')
  const c = `${BASE}/v3/clusters/${id}`
  t.same(body.data[0], {
    kind: 'KafkaCluster',
    metadata: { self: c, resource_name: `crn:///kafka=${id}` },
    cluster_id: id,
    controller: { related: `${c}/brokers/${described.controller}` },
    acls: { related: `${c}/acls` },
    brokers: { related: `${c}/brokers` },
    broker_configs: { related: `${c}/broker-configs` },
    consumer_groups: { related: `${c}/consumer-groups` },
    topics: { related: `${c}/topics` },
    partition_reassignments: { related: `${c}/topics/-/partitions/-/reassignment` }
  })
  const one = await app.inject({ method: 'GET', url: `/v3/clusters/${id}` })
  t.equal(one.statusCode, 200)
  t.same(one.json(), body.data[0], 'GET one is the listed one')
})

t.test('without ADVERTISED_URL, links are built from the request\'s host', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/v3/clusters', headers: { host: 'proxy.local:8082' } })
  t.equal(res.json().metadata.self, 'http://proxy.local:8082/v3/clusters')
})

t.test('brokers: list, one, and their configs (sensitive values never returned)', async (t) => {
  const app = await build(t, { env: { ADVERTISED_URL: BASE } })
  const id = await clusterId(app)
  const described = await describeCluster(t)

  const list = await app.inject({ method: 'GET', url: `/v3/clusters/${id}/brokers` })
  t.equal(list.statusCode, 200)
  const brokers = list.json()
  t.equal(brokers.kind, 'KafkaBrokerList')
  t.equal(brokers.metadata.self, `${BASE}/v3/clusters/${id}/brokers`)
  t.same(brokers.data.map((b: { broker_id: number }) => b.broker_id), described.brokers.map((b) => b.nodeId).sort((a, b) => a - b))
  const first = described.brokers.sort((a, b) => a.nodeId - b.nodeId)[0]!
  const b = `${BASE}/v3/clusters/${id}/brokers/${first.nodeId}`
  t.same(brokers.data[0], {
    kind: 'KafkaBroker',
    metadata: { self: b, resource_name: `crn:///kafka=${id}/broker=${first.nodeId}` },
    cluster_id: id,
    broker_id: first.nodeId,
    host: first.host,
    port: first.port,
    rack: null,
    configs: { related: `${b}/configs` },
    partition_replicas: { related: `${b}/partition-replicas` }
  })

  const one = await app.inject({ method: 'GET', url: `/v3/clusters/${id}/brokers/${first.nodeId}` })
  t.equal(one.statusCode, 200)
  t.same(one.json(), brokers.data[0])

  const configs = await app.inject({ method: 'GET', url: `/v3/clusters/${id}/brokers/${first.nodeId}/configs` })
  t.equal(configs.statusCode, 200)
  const list2 = configs.json()
  t.equal(list2.kind, 'KafkaBrokerConfigList')
  t.equal(list2.metadata.self, `${b}/configs`)
  const byName = new Map<string, Record<string, unknown>>(list2.data.map((c: { name: string }) => [c.name, c]))
  const logRetention = byName.get('log.retention.hours')
  t.match(logRetention, {
    kind: 'KafkaBrokerConfig',
    metadata: { self: `${b}/configs/log.retention.hours`, resource_name: `crn:///kafka=${id}/broker=${first.nodeId}/config=log.retention.hours` },
    cluster_id: id,
    broker_id: first.nodeId,
    name: 'log.retention.hours',
    value: String,
    is_read_only: Boolean,
    is_sensitive: false,
    source: String,
    synonyms: Array
  })
  const sensitive = list2.data.filter((c: { is_sensitive: boolean }) => c.is_sensitive)
  t.ok(sensitive.length > 0, 'the broker has sensitive configs (e.g. ssl.key.password)')
  t.ok(sensitive.every((c: { value: unknown, synonyms: Array<{ value: unknown }> }) => c.value === null && c.synonyms.every((s) => s.value === null)),
    'their values (and their synonyms\' values) are null')
  t.ok(list2.data.some((c: { is_default: boolean, source: string }) => c.is_default && c.source === 'DEFAULT_CONFIG'), 'is_default follows the source')

  const config = await app.inject({ method: 'GET', url: `/v3/clusters/${id}/brokers/${first.nodeId}/configs/log.retention.hours` })
  t.equal(config.statusCode, 200)
  t.same(config.json(), logRetention)
})

t.test('unknown cluster, broker or config: Confluent\'s envelope, with the statuses the spec declares', async (t) => {
  const app = await build(t)
  const id = await clusterId(app)
  // A resource that is not there is 404, as Confluent's server answers (its spec omits 404 on some of these).
  const cases: Array<[string, number, RegExp]> = [
    ['/v3/clusters/no-such-cluster', 404, /Cluster no-such-cluster cannot be found/],
    ['/v3/clusters/no-such-cluster/brokers', 404, /cannot be found/],
    ['/v3/clusters/no-such-cluster/brokers/1', 404, /cannot be found/],
    [`/v3/clusters/${id}/brokers/987654`, 404, /Broker 987654 cannot be found/],
    [`/v3/clusters/${id}/brokers/987654/configs`, 404, /Broker 987654 cannot be found/],
    [`/v3/clusters/${id}/brokers/987654/configs/log.retention.hours`, 404, /Broker 987654 cannot be found/],
    [`/v3/clusters/${id}/brokers/not-a-number`, 400, /broker_id must be integer/],
    [`/v3/clusters/${id}/brokers/-5`, 400, /broker_id must be >= 0/]
  ]
  const [broker] = (await app.inject({ method: 'GET', url: `/v3/clusters/${id}/brokers` })).json().data
  cases.push([`/v3/clusters/${id}/brokers/${broker.broker_id}/configs/no.such.config`, 404, /Config no.such.config cannot be found/])
  for (const [url, status, message] of cases) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, status, `${url}: ${status}`)
    t.same(Object.keys(res.json()).sort(), ['error_code', 'message'], 'only Confluent\'s two fields')
    t.equal(res.json().error_code, status, 'error_code: the plain status (Confluent has no sub-code for a cluster, broker or config)')
    t.match(res.json().message, message)
  }
})
