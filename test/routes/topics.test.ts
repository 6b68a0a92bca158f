import t from 'tap'
import { build } from '../helper'
import { adminClient, uniqueName } from '../kafka'

const errorShape = { status: Number, code: String, message: String, requestId: String }

t.test('POST /api/v1/create creates the topic with the partitions asked, counts as strings or integers', async (t) => {
  const app = await build(t)
  const admin = await adminClient(t)
  for (const [numParts, expected] of [['3', 3], [2, 2]] as const) {
    const topic = uniqueName('create')
    t.teardown(() => admin.deleteTopics({ topics: [topic] }).catch(() => undefined))
    const res = await app.inject({ method: 'POST', url: '/api/v1/create', payload: { topic, numParts, replicationFactor: '1' } })
    t.equal(res.statusCode, 201)
    t.same(res.json(), [{ topic, error: null }])
    const [md] = await admin.fetchTopicMetadata({ topics: [topic] })
    t.equal(md?.partitions.length, expected, `the topic has ${expected} partitions in Kafka`)
  }
})

t.test('POST /api/v1/create defaults to one partition', async (t) => {
  const app = await build(t)
  const admin = await adminClient(t)
  const topic = uniqueName('default')
  t.teardown(() => admin.deleteTopics({ topics: [topic] }).catch(() => undefined))
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/create', payload: { topic } })).statusCode, 201)
  const [md] = await admin.fetchTopicMetadata({ topics: [topic] })
  t.equal(md?.partitions.length, 1)
})

t.test('creating an existing topic is 409 and changes nothing', async (t) => {
  const app = await build(t)
  const admin = await adminClient(t)
  const topic = uniqueName('exists')
  t.teardown(() => admin.deleteTopics({ topics: [topic] }).catch(() => undefined))
  await app.inject({ method: 'POST', url: '/api/v1/create', payload: { topic, numParts: 2 } })
  const res = await app.inject({ method: 'POST', url: '/api/v1/create', payload: { topic, numParts: 5 } })
  t.equal(res.statusCode, 409)
  t.match(res.json(), { ...errorShape, status: 409, code: 'KOSHA_TOPIC_EXISTS' })
  const [md] = await admin.fetchTopicMetadata({ topics: [topic] })
  t.equal(md?.partitions.length, 2, 'still the first topic')
})

t.test('bad create requests are clear 400s and create nothing', async (t) => {
  const app = await build(t)
  const admin = await adminClient(t)
  const name = uniqueName('bad')
  const cases: Array<[string, unknown, RegExp]> = [
    ['a name with a space', { topic: 'bad name' }, /topic is not valid/],
    ['a name of 250 characters', { topic: 'x'.repeat(250) }, /topic is not valid/],
    ['the name ".."', { topic: '..' }, /topic is not valid/],
    ['numParts "abc"', { topic: name, numParts: 'abc' }, /numParts/],
    ['numParts 0', { topic: name, numParts: 0 }, /numParts/],
    ['numParts "0"', { topic: name, numParts: '0' }, /numParts/],
    ['numParts -1', { topic: name, numParts: -1 }, /numParts/],
    ['numParts 1.5', { topic: name, numParts: 1.5 }, /numParts/],
    ['numParts 10001', { topic: name, numParts: 10001 }, /numParts/],
    ['numParts "99999"', { topic: name, numParts: '99999' }, /numParts/],
    ['replicationFactor true', { topic: name, replicationFactor: true }, /replicationFactor/],
    ['no topic', { numParts: 1 }, /topic is required/],
    ['a topic that is a number', { topic: 42 }, /topic/]
  ]
  for (const [what, payload, message] of cases) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/create', payload: payload as object })
    t.equal(res.statusCode, 400, `${what}: 400`)
    t.match(res.json(), { ...errorShape, status: 400, code: 'KOSHA_VALIDATION_FAILED', message }, `${what}: says what is wrong`)
  }
  t.notOk((await admin.listTopics()).includes(name), 'nothing was created')
})

t.test('a replication factor above the broker count is a 400 from Kafka, not a 500', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/api/v1/create', payload: { topic: uniqueName('rf'), replicationFactor: '50' } })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { code: 'KOSHA_KAFKA_INVALID_REQUEST', message: /replication factor/ })
})

t.test('malformed and missing bodies are 4xx', async (t) => {
  const app = await build(t)
  const broken = await app.inject({ method: 'POST', url: '/api/v1/create', headers: { 'content-type': 'application/json' }, payload: '{"topic": ' })
  t.equal(broken.statusCode, 400)
  t.match(broken.json(), { code: 'KOSHA_INVALID_JSON' })
  const empty = await app.inject({ method: 'POST', url: '/api/v1/create', headers: { 'content-type': 'application/json' }, payload: '' })
  t.equal(empty.statusCode, 400)
  const text = await app.inject({ method: 'POST', url: '/api/v1/create', headers: { 'content-type': 'text/plain' }, payload: 'topic=x' })
  t.equal(text.statusCode, 415)
  t.match(text.json(), { code: 'KOSHA_UNSUPPORTED_MEDIA_TYPE' })
  const array = await app.inject({ method: 'POST', url: '/api/v1/create', payload: [{ topic: 'x' }] })
  t.equal(array.statusCode, 400)
})

t.test('DELETE /api/v1/delete/{topic} deletes; an unknown topic is 404', async (t) => {
  const app = await build(t)
  const admin = await adminClient(t)
  const topic = uniqueName('delete')
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] })
  const res = await app.inject({ method: 'DELETE', url: `/api/v1/delete/${topic}` })
  t.equal(res.statusCode, 200)
  t.same(res.json(), [{ topic, error: null }])
  t.notOk((await admin.listTopics()).includes(topic), 'the topic is gone from Kafka')
  const again = await app.inject({ method: 'DELETE', url: `/api/v1/delete/${topic}` })
  t.equal(again.statusCode, 404)
  t.match(again.json(), { ...errorShape, status: 404, code: 'KOSHA_TOPIC_NOT_FOUND' })
})

t.test('an unknown route is a 404 in the one error shape', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/api/v1/nothing-here' })
  t.equal(res.statusCode, 404)
  t.match(res.json(), { ...errorShape, status: 404, code: 'KOSHA_ROUTE_NOT_FOUND' })
  t.equal(res.headers['x-request-id'], res.json().requestId, 'the request id is in the header too')
})
