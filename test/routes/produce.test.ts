import t from 'tap'
import { build } from '../helper'
import { adminClient, createTopic, uniqueName } from '../kafka'
import { kcatConsume, kcatValueAt } from '../kcat'

t.test('a produced record is in Kafka exactly where the response says', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { prefix: 'produce', partitions: 3 })
  const body = { orderId: 42, status: 'paid', note: 'ünïcödé, "quotes"', nested: { list: [1, 2, 3] } }
  const res = await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}?key=customer-7`, payload: body })
  t.equal(res.statusCode, 200)
  const reply = res.json()
  t.match(reply, { result: 'success', topic, partition: Number, offset: Number, timestamp: Number })
  const bytes = await kcatValueAt(topic, reply.partition, reply.offset)
  t.same(JSON.parse(bytes.toString('utf8')), body, 'kcat reads the same JSON at that partition and offset')
  const [record] = await kcatConsume(topic, 1)
  t.equal(record?.key, 'customer-7', 'with the key')
})

t.test('the value is the JSON text the client sent: a big number is not rounded, its spacing is kept', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  const sent = '{"id": 12345678901234567890123, "price": 1.10,\n "name": "caf\\u00e9"}'
  const res = await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}`, headers: { 'content-type': 'application/json' }, payload: `  ${sent}\n` })
  t.equal(res.statusCode, 200)
  const { partition, offset } = res.json()
  t.equal((await kcatValueAt(topic, partition, offset)).toString('utf8'), sent, 'JSON.parse and stringify would give 1.2345678901234568e+22 and 1.1')
})

t.test('records of one key land in one partition, offsets grow', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { prefix: 'keyed', partitions: 4 })
  const replies = []
  for (let i = 0; i < 5; i++) {
    replies.push((await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}?key=same`, payload: { i } })).json())
  }
  t.equal(new Set(replies.map((r) => r.partition)).size, 1, 'one partition')
  t.same(replies.map((r) => r.offset), [0, 1, 2, 3, 4], 'consecutive offsets')
})

t.test('a trailing slash is accepted', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  const res = await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}/`, payload: { ok: true } })
  t.equal(res.statusCode, 200)
})

t.test('producing to a missing topic is a 404 and does not create it', async (t) => {
  const app = await build(t)
  const admin = await adminClient(t)
  const topic = uniqueName('missing')
  const res = await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}`, payload: { a: 1 } })
  t.equal(res.statusCode, 404)
  t.match(res.json(), { status: 404, code: 'KOSHA_TOPIC_NOT_FOUND', message: `Topic '${topic}' does not exist.` })
  t.notOk((await admin.listTopics()).includes(topic), 'the topic was not auto-created')
})

t.test('a record larger than the topic accepts is 413, and nothing lands', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { prefix: 'small', config: { 'max.message.bytes': '1024' } })
  const res = await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}`, payload: { blob: 'x'.repeat(4000) } })
  t.equal(res.statusCode, 413)
  t.match(res.json(), { status: 413, code: 'KOSHA_RECORD_TOO_LARGE' })
  t.same(await kcatConsume(topic, 1, { timeoutMs: 5000 }), [], 'the topic is empty')
})

t.test('a body over BODY_LIMIT is 413 before Kafka is asked', async (t) => {
  const app = await build(t, { env: { BODY_LIMIT: '2048' } })
  const topic = await createTopic(t)
  const res = await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}`, payload: { blob: 'x'.repeat(5000) } })
  t.equal(res.statusCode, 413)
  t.match(res.json(), { code: 'KOSHA_BODY_TOO_LARGE', message: /2048 bytes/ })
})

t.test('a body that is not a JSON object is a 4xx', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  for (const payload of ['[1,2]', '"text"', '42', 'null', '{"a":']) {
    const res = await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}`, headers: { 'content-type': 'application/json' }, payload })
    t.equal(res.statusCode, 400, `${payload}: 400`)
  }
  const form = await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' })
  t.equal(form.statusCode, 415)
  t.same(await kcatConsume(topic, 1, { timeoutMs: 5000 }), [], 'nothing was produced')
})

t.test('a topic name of 249 characters works through the URL', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { name: `long-${'x'.repeat(244)}` })
  const res = await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}`, payload: { a: 1 } })
  t.equal(res.statusCode, 200)
})
