// The service configured like a deployment: SASL to the broker, wrong credentials, an unreachable broker, and the
// order in which it lets go of Kafka on shutdown.
import t from 'tap'
import { build } from '../helper'
import { USERS, createTopic, saslBootstrap, uniqueName, type Mechanism } from '../kafka'
import { kcatValueAt } from '../kcat'

const sasl = saslBootstrap()
const needsSasl = { skip: sasl ? false : 'the cluster has no SASL listener' }

for (const mechanism of ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN'] as Mechanism[]) {
  t.test(`USERNAME/PASSWORD with ${mechanism}: every kind of call works end to end over SASL`, needsSasl, async (t) => {
    const app = await build(t, { env: { BROKER_ADDRESS: sasl ?? '', USERNAME: USERS.test.username, PASSWORD: USERS.test.password, SASL_MECHANISM: mechanism } })
    t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'ready')
    const topic = uniqueName('sasl')
    t.equal((await app.inject({ method: 'POST', url: '/api/v1/create', payload: { topic } })).statusCode, 201, 'create')
    const produced = await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}`, payload: { via: mechanism } })
    t.equal(produced.statusCode, 200, 'produce')
    const { partition, offset } = produced.json()
    t.same(JSON.parse((await kcatValueAt(topic, partition, offset)).toString()), { via: mechanism }, 'kcat reads it where the service said')
    t.equal((await app.inject({ method: 'GET', url: `/api/v1/describe/topic/${topic}` })).statusCode, 200, 'describe')
    const name = uniqueName('c')
    t.equal((await app.inject({ method: 'POST', url: '/api/v1/consumers', payload: { name, offset: 'earliest' } })).statusCode, 200, 'consumer')
    t.equal((await app.inject({ method: 'POST', url: `/api/v1/consumers/${name}/subscribe`, payload: { name: topic } })).statusCode, 200, 'subscribe')
    const consumed = await app.inject({ method: 'GET', url: `/api/v1/consumers/${name}/consume?timeout=15000` })
    t.equal(consumed.statusCode, 200, 'consume')
    t.same(consumed.json().value, { via: mechanism })
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/delete/${topic}` })).statusCode, 200, 'delete')
  })
}

t.test('a wrong password: not ready, calls answer a clear 503, the log says why and never shows the password', needsSasl, async (t) => {
  const logs: string[] = []
  const password = 'Wr0ng-Pa55word-9f3c'
  const app = await build(t, { env: { BROKER_ADDRESS: sasl ?? '', USERNAME: USERS.test.username, PASSWORD: password, KAFKA_TIMEOUT_MS: '3000' }, logs })
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { status: 503, code: 'KOSHA_KAFKA_AUTHENTICATION_FAILED', message: /credentials/ })
  t.ok(ready.headers['retry-after'], 'with Retry-After')
  const produce = await app.inject({ method: 'POST', url: '/api/v1/produce/anything', payload: { a: 1 } })
  t.equal(produce.statusCode, 503)
  t.match(produce.json(), { code: 'KOSHA_KAFKA_AUTHENTICATION_FAILED' })
  const create = await app.inject({ method: 'POST', url: '/api/v1/create', payload: { topic: uniqueName('x') } })
  t.equal(create.statusCode, 503)
  const all = logs.join('')
  t.match(all, /SASL authentication (error|failed)|Authentication failed/i, 'the log says the broker refused the login')
  t.notMatch(all, new RegExp(password), 'the password is nowhere in the log')
  t.notMatch(JSON.stringify([ready.json(), produce.json(), create.json()]), new RegExp(password), 'nor in any answer')
})

t.test('an unreachable broker: not ready, calls are 503 with Retry-After, never a hang', async (t) => {
  const app = await build(t, { env: { BROKER_ADDRESS: '127.0.0.1:1', KAFKA_TIMEOUT_MS: '2000' } })
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { code: 'KOSHA_KAFKA_UNAVAILABLE' })
  t.equal(ready.headers['retry-after'], '5')
  for (const [method, url, payload] of [
    ['POST', '/api/v1/produce/x', { a: 1 }], ['POST', '/api/v1/create', { topic: 'x' }], ['GET', '/api/v1/getMetadata/x', undefined],
    ['DELETE', '/api/v1/delete/x', undefined], ['GET', '/api/v1/describe/topic/x', undefined]
  ] as const) {
    const res = await app.inject({ method, url, ...(payload ? { payload } : {}) })
    t.equal(res.statusCode, 503, `${method} ${url}: 503`)
    t.equal(res.json().code, 'KOSHA_KAFKA_UNAVAILABLE')
  }
  // Confluent v3: 503 with Retry-After, and error_code 50003, the code Confluent gives a retriable Kafka error.
  const v3 = await app.inject({ method: 'GET', url: '/v3/clusters' })
  t.same([v3.statusCode, v3.json().error_code, v3.headers['retry-after']], [503, 50003, '5'], 'GET /v3/clusters: 503, 50003, Retry-After')
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'liveness does not depend on Kafka')
})

t.test('shutdown closes consumers before the producer is flushed and disconnected', async (t) => {
  const logs: string[] = []
  const app = await build(t, { logs })
  const topic = await createTopic(t)
  const name = uniqueName('closing')
  await app.inject({ method: 'POST', url: '/api/v1/consumers', payload: { name } })
  await app.inject({ method: 'POST', url: `/api/v1/consumers/${name}/subscribe`, payload: { name: topic } })
  t.equal((await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}`, payload: { last: true } })).statusCode, 200)
  await app.close()
  const messages = logs.map((l) => (JSON.parse(l) as { msg: string }).msg)
  const consumerClosed = messages.indexOf(`consumer '${name}' closed`)
  const disconnected = messages.indexOf('disconnected from Kafka')
  t.ok(consumerClosed >= 0, 'the consumer was closed')
  t.ok(disconnected > consumerClosed, 'and only then was the producer disconnected')
})
