// The consumer engine (kafka/consumers/) seen through the service: one registry for v1 consumers and v2 consumer
// instances, so one CONSUMER_MAX for both, one gauge counting both, and names kept apart per API.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import pino from 'pino'
import { ConsumerRegistry } from '../../kafka/consumers/registry'
import { loadConfig } from '../../lib/config'
import { build } from '../helper'
import { bootstrap, createTopic, kafkaClient, uniqueName } from '../kafka'

const V2 = 'application/vnd.kafka.v2+json'

const v1Consumer = async (app: FastifyInstance, name: string): Promise<number> =>
  (await app.inject({ method: 'POST', url: '/api/v1/consumers', payload: { name } })).statusCode
const v2Instance = async (app: FastifyInstance, group: string, name: string): Promise<{ statusCode: number, body: { error_code?: number } }> => {
  const res = await app.inject({ method: 'POST', url: `/consumers/${group}`, headers: { 'content-type': V2 }, payload: { name } })
  return { statusCode: res.statusCode, body: res.json() }
}

t.test('CONSUMER_MAX bounds v1 consumers and v2 instances together', async (t) => {
  const app = await build(t, { env: { CONSUMER_MAX: '2' } })
  const group = uniqueName('g')
  t.equal(await v1Consumer(app, uniqueName('c')), 200, 'a v1 consumer')
  t.equal((await v2Instance(app, group, 'i1')).statusCode, 200, 'a v2 instance')
  const third = await v2Instance(app, group, 'i2')
  t.equal(third.statusCode, 429, 'a third consumer of either kind is one too many')
  t.equal(third.body.error_code, 42901)
  const fourth = await app.inject({ method: 'POST', url: '/api/v1/consumers', payload: { name: uniqueName('c') } })
  t.equal(fourth.statusCode, 429)
  t.equal(fourth.json().code, 'KOSHA_TOO_MANY_CONSUMERS')
  t.equal((await app.inject({ method: 'DELETE', url: `/consumers/${group}/instances/i1` })).statusCode, 204)
  t.equal((await v2Instance(app, group, 'i2')).statusCode, 200, 'room again once one is deleted')
})

t.test('kosha_consumers counts v2 instances as well as v1 consumers', async (t) => {
  const app = await build(t)
  const gauge = async (): Promise<number> => {
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
    return Number(/^kosha_consumers (\d+)$/m.exec(text)?.[1] ?? NaN)
  }
  t.equal(await gauge(), 0)
  const group = uniqueName('g')
  t.equal((await v2Instance(app, group, 'i1')).statusCode, 200)
  t.equal(await gauge(), 1, 'one v2 instance')
  t.equal(await v1Consumer(app, uniqueName('c')), 200)
  t.equal(await gauge(), 2, 'and a v1 consumer')
  t.equal((await app.inject({ method: 'DELETE', url: `/consumers/${group}/instances/i1` })).statusCode, 204)
  t.equal(await gauge(), 1)
})

t.test('a v1 consumer and a v2 instance may share a name: the APIs name them apart', async (t) => {
  const app = await build(t)
  const name = uniqueName('same')
  t.equal(await v1Consumer(app, name), 200)
  t.equal((await v2Instance(app, uniqueName('g'), name)).statusCode, 200)
  t.equal(await v1Consumer(app, name), 409, 'the v1 name is taken')
})

t.test('shutdown closes v2 instances too, before the producer is disconnected', async (t) => {
  const logs: string[] = []
  const app = await build(t, { logs })
  const group = uniqueName('g')
  t.equal((await v2Instance(app, group, 'closing')).statusCode, 200)
  await app.close()
  const messages = logs.map((l) => (JSON.parse(l) as { msg: string }).msg)
  const closed = messages.indexOf(`consumer instance 'closing' of group '${group}' closed`)
  t.ok(closed >= 0, 'the instance was closed')
  t.ok(messages.indexOf('disconnected from Kafka') > closed, 'and only then was the producer disconnected')
})

t.test('a deleted consumer is let go: nothing keeps it (or its records) in memory once it is closed', async (t) => {
  // The binding keeps every consumer it made with a rebalance_cb for the life of the process; what the session hangs
  // on it must not stay with it. Measured on the Kafka layer itself, with a weak reference and V8's own collector.
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const registry = new ConsumerRegistry(loadConfig({ BROKER_ADDRESS: bootstrap() }), pino({ level: 'silent' }))
  t.teardown(() => registry.closeAll())
  const topic = await createTopic(t, { prefix: 'forgotten' })
  const producer = kafkaClient().producer()
  await producer.connect()
  await producer.send({ topic, messages: [{ value: 'a record the fetch holds' }] })
  await producer.disconnect()
  const id = { name: 'i1', group: uniqueName('g') }
  // In a function of its own, so that no variable of the test holds the session.
  const session = await (async (): Promise<WeakRef<object>> => {
    const created = await registry.create({ id, groupId: id.group, autoCommit: false, format: 'binary', requestTimeoutMs: 1000, offsetReset: 'earliest' })
    await created.subscribe({ topics: [topic] })
    const fetched = await created.fetch({ max: 10, timeoutMs: 10_000 })
    t.equal(fetched.messages.length, 1, 'it fetched the record')
    fetched.delivered()
    return new WeakRef(created)
  })()
  await registry.delete(id)
  let collected = false
  for (let i = 0; i < 20 && !collected; i++) {
    await sleep(100)
    gc()
    collected = session.deref() === undefined
  }
  t.ok(collected, 'the closed session was collected')
})
