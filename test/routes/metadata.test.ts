import t from 'tap'
import { build } from '../helper'
import { adminClient, bootstrap, createTopic, uniqueName } from '../kafka'

t.test('GET /api/v1/getMetadata/{topic} describes the brokers and the topic\'s partitions', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { partitions: 3 })
  const res = await app.inject({ method: 'GET', url: `/api/v1/getMetadata/${topic}` })
  t.equal(res.statusCode, 200)
  const md = res.json()
  const [host, port] = (bootstrap().split(',')[0] ?? '').split(':')
  t.ok(md.brokers.some((b: { host: string, port: number }) => b.host === host && b.port === Number(port)), 'the brokers include the bootstrap broker')
  t.match(md.originatingBroker, { id: Number, host: String, port: Number })
  t.same(Object.keys(md.topics), [topic])
  t.equal(md.topics[topic].partitions.length, 3)
  t.match(md.topics[topic].partitions[0], { id: 0, leader: Number, replicas: Array, isrs: Array, error: null })
})

t.test('metadata of an unknown topic is 404, and asking does not create it', async (t) => {
  const app = await build(t)
  const admin = await adminClient(t)
  const topic = uniqueName('ghost')
  const res = await app.inject({ method: 'GET', url: `/api/v1/getMetadata/${topic}` })
  t.equal(res.statusCode, 404)
  t.match(res.json(), { code: 'KOSHA_TOPIC_NOT_FOUND' })
  t.notOk((await admin.listTopics()).includes(topic))
})

t.test('describe a topic: its configuration, a changed value marked as such, any case of the type', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { prefix: 'described', config: { 'retention.ms': '3600000' } })
  for (const type of ['topic', 'TOPIC', 'Topic']) {
    const res = await app.inject({ method: 'GET', url: `/api/v1/describe/${type}/${topic}` })
    t.equal(res.statusCode, 200, `${type}: 200`)
    const [d] = res.json()
    t.match(d, { name: topic, type: 'topic', error: null })
    t.match(d.config['retention.ms'], { name: 'retention.ms', value: '3600000', source: 'DYNAMIC_TOPIC_CONFIG', isSensitive: false, isReadOnly: false, isSynonym: false, synonyms: Array })
  }
})

t.test('describe a broker: sensitive values are never returned', async (t) => {
  const app = await build(t)
  const md = (await app.inject({ method: 'GET', url: `/api/v1/getMetadata/${await createTopic(t)}` })).json()
  const res = await app.inject({ method: 'GET', url: `/api/v1/describe/broker/${md.brokers[0].id}` })
  t.equal(res.statusCode, 200)
  const entries = Object.values(res.json()[0].config) as Array<{ isSensitive: boolean, value: string | null, synonyms: Array<{ value: string | null }> }>
  t.ok(entries.length > 50, 'the broker configuration is listed')
  const sensitive = entries.filter((e) => e.isSensitive)
  t.ok(sensitive.length > 0, 'the broker has sensitive entries (its JAAS configs)')
  t.ok(sensitive.every((e) => e.value === null && e.synonyms.every((s) => s.value === null)), 'and none of their values is returned')
  t.notMatch(res.body, /(admin|kosha|noacl)-secret/, 'no password of the broker\'s JAAS config leaks')
})

t.test('describe a group that exists', async (t) => {
  const app = await build(t)
  const name = uniqueName('grp')
  await app.inject({ method: 'POST', url: '/api/v1/consumers', payload: { name } })
  const topic = await createTopic(t)
  await app.inject({ method: 'POST', url: `/api/v1/consumers/${name}/subscribe`, payload: { name: topic } })
  await app.inject({ method: 'GET', url: `/api/v1/consumers/${name}/consume?timeout=4000` })
  const res = await app.inject({ method: 'GET', url: `/api/v1/describe/group/kosha-${name}` })
  t.equal(res.statusCode, 200)
  t.match(res.json()[0], { name: `kosha-${name}`, type: 'group', error: null })
})

t.test('describe: an unknown type is 400, unknown resources are 404', async (t) => {
  const app = await build(t)
  const bad = await app.inject({ method: 'GET', url: '/api/v1/describe/table/x' })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { code: 'KOSHA_INVALID_RESOURCE_TYPE', message: /broker, topic or group/ })
  const notId = await app.inject({ method: 'GET', url: '/api/v1/describe/broker/first' })
  t.equal(notId.statusCode, 400)
  for (const url of [`/api/v1/describe/topic/${uniqueName('none')}`, '/api/v1/describe/broker/9999', `/api/v1/describe/group/${uniqueName('none')}`]) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 404, `${url}: 404`)
    t.match(res.json(), { status: 404, code: /^KOSHA_(TOPIC|RESOURCE)_NOT_FOUND$/ })
  }
})
