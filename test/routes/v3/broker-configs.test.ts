// Confluent v3 config writes beyond topics, against the real broker: cluster-wide dynamic broker configs
// (broker-configs), one broker's configs (PUT, DELETE, configs:alter), and the every-broker and every-topic lists
// (brokers/-/configs, topics/-/configs). Each write is checked with Kafka's own kafka-configs (ConfigCommand) right
// after the 2xx, and undone when the test ends. The configs written are harmless: log.cleaner.backoff.ms
// cluster-wide and max.connections on one broker. build() checks every /v3 answer against Confluent's spec.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { Admin, ConfigResourceTypes, IncrementalAlterConfigOperationTypes } from '@platformatic/kafka'
import { build } from '../../helper'
import { onAnyBroker } from '../../../kafka/protocol'
import { bootstrap, createTopic, kafkaDynamicConfigs } from '../../kafka'

const BASE = 'http://kosha.example:8000'
const CLUSTER_CONFIG = 'log.cleaner.backoff.ms'
const BROKER_CONFIG = 'max.connections'

/** Removes dynamic values the test set, whatever the service did, with a client of the test's own. */
function resetAfter (t: Test, broker: string, names: string[]): void {
  t.teardown(async () => {
    const admin = new Admin({ clientId: 'kosha-test', bootstrapBrokers: bootstrap().split(',') })
    const remove = { configs: names.map((name) => ({ name, configOperation: IncrementalAlterConfigOperationTypes.DELETE })) }
    // @platformatic's Admin sends a broker resource to the broker its name numbers: the cluster-wide "" to any.
    await (broker === ''
      ? onAnyBroker(admin, 'IncrementalAlterConfigs', [{ resourceType: ConfigResourceTypes.BROKER, resourceName: '', ...remove }], false)
      : admin.incrementalAlterConfigs({ resources: [{ resourceType: ConfigResourceTypes.BROKER, resourceName: broker, ...remove }] })).catch(() => undefined)
    await admin.close()
  })
}

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

t.test('cluster-wide broker configs: PUT creates one Kafka reads back at once, GET lists and reads it, DELETE removes it', async (t) => {
  const app = await build(t, { env: { ADVERTISED_URL: BASE } })
  resetAfter(t, '', [CLUSTER_CONFIG])
  const { cluster } = await ids(app)
  const url = `/v3/clusters/${cluster}/broker-configs`

  const before = await app.inject({ method: 'GET', url })
  t.equal(before.statusCode, 200)
  t.equal(before.json().kind, 'KafkaClusterConfigList')
  t.same(before.json().metadata, { self: `${BASE}${url}`, next: null })
  t.notOk(before.json().data.some((c: { name: string }) => c.name === CLUSTER_CONFIG), 'not set cluster-wide yet')
  const missing = await app.inject({ method: 'GET', url: `${url}/${CLUSTER_CONFIG}` })
  expectError(t, missing, 404, 404, new RegExp(`Config ${CLUSTER_CONFIG} cannot be found`), 'a config not set cluster-wide')

  const put = await app.inject({ method: 'PUT', url: `${url}/${CLUSTER_CONFIG}`, payload: { value: '21000' } })
  t.equal(put.statusCode, 204, 'set')
  t.equal((await kafkaDynamicConfigs('default')).get(CLUSTER_CONFIG), '21000', 'Kafka has it, right after the 204')

  const one = await app.inject({ method: 'GET', url: `${url}/${CLUSTER_CONFIG}` })
  t.equal(one.statusCode, 200)
  t.same(one.json(), {
    kind: 'KafkaClusterConfig',
    metadata: { self: `${BASE}${url}/${CLUSTER_CONFIG}`, resource_name: `crn:///kafka=${cluster}/broker-config=${CLUSTER_CONFIG}` },
    cluster_id: cluster,
    config_type: 'BROKER',
    name: CLUSTER_CONFIG,
    value: '21000',
    is_default: false,
    is_read_only: false,
    is_sensitive: false,
    source: 'DYNAMIC_DEFAULT_BROKER_CONFIG',
    synonyms: [{ name: CLUSTER_CONFIG, value: '21000', source: 'DYNAMIC_DEFAULT_BROKER_CONFIG' }]
  })
  const listed = (await app.inject({ method: 'GET', url })).json().data as Array<{ name: string }>
  t.ok(listed.some((c) => c.name === CLUSTER_CONFIG), 'listed')
  t.ok(listed.every((c: { name: string, source?: string }) => c.source === 'DYNAMIC_DEFAULT_BROKER_CONFIG'), 'only what is set cluster-wide is listed')

  const del = await app.inject({ method: 'DELETE', url: `${url}/${CLUSTER_CONFIG}` })
  t.equal(del.statusCode, 204, 'removed')
  t.notOk((await kafkaDynamicConfigs('default')).has(CLUSTER_CONFIG), 'Kafka no longer has it, right after the 204')
  expectError(t, await app.inject({ method: 'DELETE', url: `${url}/${CLUSTER_CONFIG}` }), 404, 404, /cannot be found/, 'removing it again')
})

t.test('broker-configs:alter sets and removes in one call; validate_only changes nothing; Kafka\'s refusal is 400 40002', async (t) => {
  const app = await build(t)
  resetAfter(t, '', [CLUSTER_CONFIG])
  const { cluster } = await ids(app)
  const url = `/v3/clusters/${cluster}/broker-configs:alter`

  const dry = await app.inject({ method: 'POST', url, payload: { data: [{ name: CLUSTER_CONFIG, value: '22000' }], validate_only: true } })
  t.equal(dry.statusCode, 204)
  t.notOk((await kafkaDynamicConfigs('default')).has(CLUSTER_CONFIG), 'validate_only: nothing set')

  const set = await app.inject({ method: 'POST', url, payload: { data: [{ name: CLUSTER_CONFIG, value: '22000', operation: 'SET' }] } })
  t.equal(set.statusCode, 204)
  t.equal((await kafkaDynamicConfigs('default')).get(CLUSTER_CONFIG), '22000')

  const remove = await app.inject({ method: 'POST', url, payload: { data: [{ name: CLUSTER_CONFIG, operation: 'DELETE' }] } })
  t.equal(remove.statusCode, 204)
  t.notOk((await kafkaDynamicConfigs('default')).has(CLUSTER_CONFIG), 'removed')

  // broker.id cannot be changed while brokers run: Kafka refuses, and nothing else in the call is applied.
  const refused = await app.inject({ method: 'POST', url, payload: { data: [{ name: CLUSTER_CONFIG, value: '23000' }, { name: 'broker.id', value: '7' }] } })
  expectError(t, refused, 400, 40002, /Kafka refused/, 'a config Kafka cannot change dynamically')
  t.notOk((await kafkaDynamicConfigs('default')).has(CLUSTER_CONFIG), 'all or none: the valid change was not applied')

  const noValue = await app.inject({ method: 'POST', url, payload: { data: [{ name: CLUSTER_CONFIG }] } })
  expectError(t, noValue, 400, 400, /body\/data\/0\/value is required/, 'a SET without a value')
  const nullPut = await app.inject({ method: 'PUT', url: `/v3/clusters/${cluster}/broker-configs/${CLUSTER_CONFIG}`, payload: { value: null } })
  expectError(t, nullPut, 400, 400, /DELETE it/, 'a PUT of null')
})

t.test('one broker\'s configs: PUT and DELETE of a config, configs:alter, each read back from Kafka at once', async (t) => {
  const app = await build(t)
  const { cluster, broker } = await ids(app)
  resetAfter(t, String(broker), [BROKER_CONFIG])
  const url = `/v3/clusters/${cluster}/brokers/${broker}/configs`

  const put = await app.inject({ method: 'PUT', url: `${url}/${BROKER_CONFIG}`, payload: { value: '100000' } })
  t.equal(put.statusCode, 204)
  t.equal((await kafkaDynamicConfigs(broker)).get(BROKER_CONFIG), '100000', 'Kafka has it, right after the 204')
  const read = await app.inject({ method: 'GET', url: `${url}/${BROKER_CONFIG}` })
  t.match(read.json(), { kind: 'KafkaBrokerConfig', broker_id: broker, name: BROKER_CONFIG, value: '100000', source: 'DYNAMIC_BROKER_CONFIG', is_default: false })

  const del = await app.inject({ method: 'DELETE', url: `${url}/${BROKER_CONFIG}` })
  t.equal(del.statusCode, 204)
  t.notOk((await kafkaDynamicConfigs(broker)).has(BROKER_CONFIG), 'back to its static or default value')

  const alter = await app.inject({ method: 'POST', url: `${url}:alter`, payload: { data: [{ name: BROKER_CONFIG, value: '90000' }] } })
  t.equal(alter.statusCode, 204)
  t.equal((await kafkaDynamicConfigs(broker)).get(BROKER_CONFIG), '90000')
  const undo = await app.inject({ method: 'POST', url: `${url}:alter`, payload: { data: [{ name: BROKER_CONFIG, operation: 'DELETE' }] } })
  t.equal(undo.statusCode, 204)
  t.notOk((await kafkaDynamicConfigs(broker)).has(BROKER_CONFIG))

  expectError(t, await app.inject({ method: 'PUT', url: `${url}/no.such.config`, payload: { value: '1' } }), 404, 404, /Config no.such.config cannot be found for broker/, 'an unknown config')
  expectError(t, await app.inject({ method: 'PUT', url: `/v3/clusters/${cluster}/brokers/987654/configs/${BROKER_CONFIG}`, payload: { value: '1' } }), 404, 404, /Broker 987654 cannot be found/, 'an unknown broker')
  expectError(t, await app.inject({ method: 'POST', url: `/v3/clusters/${cluster}/brokers/987654/configs:alter`, payload: { data: [{ name: BROKER_CONFIG, value: '1' }] } }), 404, 404, /Broker 987654 cannot be found/, 'alter on an unknown broker')
  expectError(t, await app.inject({ method: 'PUT', url: `${url}/${BROKER_CONFIG}`, payload: { value: 'many' } }), 400, 40002, /Kafka refused/, 'a value Kafka refuses')
  expectError(t, await app.inject({ method: 'DELETE', url: `/v3/clusters/no-such-cluster/brokers/${broker}/configs/${BROKER_CONFIG}` }), 404, 404, /Cluster no-such-cluster cannot be found/, 'an unknown cluster')
})

t.test('brokers/-/configs lists every broker\'s configs; topics/-/configs every topic\'s', async (t) => {
  const app = await build(t, { env: { ADVERTISED_URL: BASE } })
  const { cluster, broker } = await ids(app)
  const brokers = await app.inject({ method: 'GET', url: `/v3/clusters/${cluster}/brokers/-/configs` })
  t.equal(brokers.statusCode, 200, 'the literal "-" reaches its own route, not a broker id')
  t.equal(brokers.json().kind, 'KafkaBrokerConfigList')
  t.equal(brokers.json().metadata.self, `${BASE}/v3/clusters/${cluster}/brokers/-/configs`)
  const one = (await app.inject({ method: 'GET', url: `/v3/clusters/${cluster}/brokers/${broker}/configs` })).json().data
  t.same(brokers.json().data.filter((c: { broker_id: number }) => c.broker_id === broker), one, 'a broker\'s part is its own list')

  const topic = await createTopic(t, { prefix: 'v3-all-configs', config: { 'retention.ms': '4200000' } })
  const topics = await app.inject({ method: 'GET', url: `/v3/clusters/${cluster}/topics/-/configs` })
  t.equal(topics.statusCode, 200, 'the literal "-" is not a topic name here')
  t.equal(topics.json().kind, 'KafkaTopicConfigList')
  t.equal(topics.json().metadata.self, `${BASE}/v3/clusters/${cluster}/topics/-/configs`)
  const mine = topics.json().data.filter((c: { topic_name: string }) => c.topic_name === topic)
  t.same(mine, (await app.inject({ method: 'GET', url: `/v3/clusters/${cluster}/topics/${topic}/configs` })).json().data, 'a topic\'s part is its own list')
  t.match(mine.find((c: { name: string }) => c.name === 'retention.ms'), { value: '4200000', source: 'DYNAMIC_TOPIC_CONFIG' })
})
