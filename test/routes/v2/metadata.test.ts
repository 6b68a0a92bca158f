import t from 'tap'
import { build } from '../../helper'
import { createTopic, kafkaClient, uniqueName } from '../../kafka'

const V2 = 'application/vnd.kafka.v2+json'

t.test('GET /topics lists topics without the internal ones', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  const res = await app.inject({ method: 'GET', url: '/topics' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], V2)
  const names = res.json() as string[]
  t.ok(names.includes(topic))
  t.notOk(names.some((n) => n.startsWith('__')), 'no internal topic')
})

t.test('GET /topics/{t}, its partitions and one partition', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { partitions: 2, config: { 'retention.ms': '3600000' } })
  const res = await app.inject({ method: 'GET', url: `/topics/${topic}` })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.name, topic)
  t.equal(body.configs['retention.ms'], '3600000', 'configs carry the topic\'s values')
  t.equal(body.partitions.length, 2)
  t.match(body.partitions[0], { partition: 0, leader: Number, replicas: [{ broker: Number, leader: true, in_sync: true }] })
  const parts = await app.inject({ method: 'GET', url: `/topics/${topic}/partitions` })
  t.same(parts.json(), body.partitions)
  const one = await app.inject({ method: 'GET', url: `/topics/${topic}/partitions/1` })
  t.same(one.json(), body.partitions[1])
})

t.test('partition offsets move with the records', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  const before = (await app.inject({ method: 'GET', url: `/topics/${topic}/partitions/0/offsets` })).json()
  t.same(before, { beginning_offset: 0, end_offset: 0 })
  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  await producer.send({ topic, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] })
  const after = (await app.inject({ method: 'GET', url: `/topics/${topic}/partitions/0/offsets` })).json()
  t.same(after, { beginning_offset: 0, end_offset: 3 })
})

t.test('GET /brokers lists the broker ids', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/brokers' })
  t.equal(res.statusCode, 200)
  const { brokers } = res.json() as { brokers: number[] }
  t.ok(brokers.length >= 1 && brokers.every((b) => Number.isInteger(b)))
})

t.test('unknown topics and partitions: Confluent\'s envelope and codes', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  const missing = uniqueName('none')
  const cases: Array<[string, number, number]> = [
    [`/topics/${missing}`, 404, 40401],
    [`/topics/${missing}/partitions`, 404, 40401],
    [`/topics/${missing}/partitions/0`, 404, 40402],
    [`/topics/${topic}/partitions/7`, 404, 40402],
    [`/topics/${topic}/partitions/7/offsets`, 404, 40402],
    [`/topics/${topic}/partitions/-1`, 422, 42206]
  ]
  for (const [url, status, code] of cases) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, status, `${url}: ${status}`)
    t.same(Object.keys(res.json()).sort(), ['error_code', 'message'], 'only Confluent\'s two fields')
    t.equal(res.json().error_code, code, `${url}: error_code ${code}`)
  }
})
