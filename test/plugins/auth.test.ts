// Inbound authentication (plugins/auth.ts) against the real app and the real broker: off by default; with
// API_KEYS a key as Bearer or X-API-Key; with BASIC_AUTH_USERS HTTP Basic; liveness, readiness and CORS
// preflights stay open; a refusal is a 401 in the one error shape; no secret ever reaches the log.
import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { build } from '../helper'
import { createTopic } from '../kafka'

interface ErrorBody { status: number, code: string, message: string, requestId: string }

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

/** A request that reaches Kafka: the metadata of a real topic. */
async function metadata (app: FastifyInstance, topic: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'GET', url: `/api/v1/getMetadata/${topic}`, headers })
}

function assertUnauthorized (t: Test, res: LightMyRequestResponse, scheme: RegExp, what: string): void {
  t.equal(res.statusCode, 401, `${what}: 401`)
  t.match(String(res.headers['www-authenticate']), scheme, `${what}: WWW-Authenticate names the scheme`)
  const body = res.json<ErrorBody>()
  t.same(Object.keys(body).sort(), ['code', 'message', 'requestId', 'status'], `${what}: the one error shape`)
  t.equal(body.status, 401)
  t.equal(body.code, 'KOSHA_UNAUTHORIZED')
  t.type(body.message, 'string')
  t.ok(body.message.length > 0, `${what}: a message`)
  t.equal(body.requestId, res.headers['x-request-id'], `${what}: the requestId is the X-Request-Id`)
}

t.test('authentication is off by default: a request without credentials reaches Kafka', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { prefix: 'auth' })
  const res = await metadata(app, topic)
  t.equal(res.statusCode, 200)
  t.ok(res.json<{ topics: Record<string, unknown> }>().topics[topic], 'the metadata names the topic')
})

t.test('API_KEYS=k1,k2', async (t) => {
  const app = await build(t, { env: { API_KEYS: 'k1,k2' } })
  const topic = await createTopic(t, { prefix: 'auth' })

  t.test('no credentials: 401 with WWW-Authenticate and the error shape', async (t) => {
    const res = await metadata(app, topic)
    assertUnauthorized(t, res, /^Bearer realm="kosha"$/, 'no credentials')
  })

  t.test('Authorization: Bearer k2 works', async (t) => {
    const res = await metadata(app, topic, { authorization: 'Bearer k2' })
    t.equal(res.statusCode, 200)
    t.ok(res.json<{ topics: Record<string, unknown> }>().topics[topic], 'the metadata names the topic')
  })

  t.test('the scheme is case-insensitive: bearer k1 works', async (t) => {
    t.equal((await metadata(app, topic, { authorization: 'bearer k1' })).statusCode, 200)
  })

  t.test('X-API-Key: k1 works', async (t) => {
    const res = await metadata(app, topic, { 'x-api-key': 'k1' })
    t.equal(res.statusCode, 200)
  })

  t.test('a wrong key is 401, however it is sent', async (t) => {
    assertUnauthorized(t, await metadata(app, topic, { authorization: 'Bearer k3' }), /Bearer/, 'Bearer k3')
    assertUnauthorized(t, await metadata(app, topic, { 'x-api-key': 'nope' }), /Bearer/, 'X-API-Key nope')
    assertUnauthorized(t, await metadata(app, topic, { authorization: 'Bearer k' }), /Bearer/, 'a prefix of a key')
    assertUnauthorized(t, await metadata(app, topic, { authorization: 'Bearer k1k2' }), /Bearer/, 'two keys run together')
    assertUnauthorized(t, await metadata(app, topic, { authorization: 'Bearer K1' }), /Bearer/, 'a key in the wrong case')
    assertUnauthorized(t, await metadata(app, topic, { authorization: 'Bearer ' }), /Bearer/, 'an empty Bearer')
    assertUnauthorized(t, await metadata(app, topic, { authorization: basic('k1', 'k1') }), /Bearer/, 'Basic when only keys are set')
  })

  t.test('a wrong key refuses a request that would change Kafka: the topic survives a DELETE', async (t) => {
    const res = await app.inject({ method: 'DELETE', url: `/api/v1/delete/${topic}`, headers: { 'x-api-key': 'k3' } })
    assertUnauthorized(t, res, /Bearer/, 'DELETE with a wrong key')
    t.equal((await metadata(app, topic, { 'x-api-key': 'k1' })).statusCode, 200, 'the topic still exists')
  })

  t.test('an unknown route is 401 too, so that routes cannot be probed without a key', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/nothing-here' })
    assertUnauthorized(t, res, /Bearer/, 'unknown route')
  })

  t.test('/healthz and /readyz stay open without credentials', async (t) => {
    const health = await app.inject({ method: 'GET', url: '/healthz' })
    t.equal(health.statusCode, 200)
    t.same(health.json(), { status: 'ok' })
    const ready = await app.inject({ method: 'GET', url: '/readyz' })
    t.equal(ready.statusCode, 200, 'the real broker is reachable, so /readyz is 200')
    t.same(ready.json(), { status: 'ready', kafka: 'reachable' })
    t.equal((await app.inject({ method: 'GET', url: '/healthz?probe=1' })).statusCode, 200, 'with a query string too')
  })

  t.test('what the router serves as /healthz, /readyz or /metrics stays open however it is spelt (a trailing slash)', async (t) => {
    for (const url of ['/healthz/', '/readyz/', '/metrics/']) {
      t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, `${url} is open`)
    }
  })

  t.test('the docs stay open: the UI, its files and the spec', async (t) => {
    for (const url of ['/docs', '/docs/', '/docs/json', '/docs/static/swagger-ui-bundle.js']) {
      t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, `${url} is open`)
    }
  })

  t.test('an open path cannot carry a protected request past the check', async (t) => {
    for (const url of [`/docs/../api/v1/getMetadata/${topic}`, `/healthz/../api/v1/getMetadata/${topic}`, `/api/v1/getMetadata/${topic}?/healthz`,
      `/api/v1/getMetadata/${topic}/`, `/healthz/x/../../api/v1/getMetadata/${topic}`]) {
      const res = await app.inject({ method: 'GET', url })
      t.not(res.statusCode, 200, `${url} is not served without a key (${res.statusCode})`)
      t.notOk(res.body.includes(`"topic":"${topic}"`), `${url} shows no metadata`)
    }
  })

  t.test('a CORS preflight needs no credentials, and a 401 carries the CORS header a browser needs to read it', async (t) => {
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: `/api/v1/delete/${topic}`,
      headers: { origin: 'https://app.example', 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'authorization' }
    })
    t.equal(preflight.statusCode, 204)
    t.equal(preflight.headers['access-control-allow-origin'], '*')
    t.equal((await metadata(app, topic, { 'x-api-key': 'k1' })).statusCode, 200, 'the preflight deleted nothing')

    const refused = await metadata(app, topic, { origin: 'https://app.example' })
    t.equal(refused.statusCode, 401)
    t.equal(refused.headers['access-control-allow-origin'], '*')
  })
})

t.test('BASIC_AUTH_USERS=alice:s3cret', async (t) => {
  const app = await build(t, { env: { BASIC_AUTH_USERS: 'alice:s3cret' } })
  const topic = await createTopic(t, { prefix: 'auth' })

  t.test('the correct user and password work', async (t) => {
    const res = await metadata(app, topic, { authorization: basic('alice', 's3cret') })
    t.equal(res.statusCode, 200)
    t.ok(res.json<{ topics: Record<string, unknown> }>().topics[topic], 'the metadata names the topic')
  })

  t.test('a wrong password, a wrong user or nothing is 401 with a Basic challenge', async (t) => {
    const challenge = /^Basic realm="kosha", charset="UTF-8"$/
    assertUnauthorized(t, await metadata(app, topic, { authorization: basic('alice', 'wrong') }), challenge, 'wrong password')
    assertUnauthorized(t, await metadata(app, topic, { authorization: basic('bob', 's3cret') }), challenge, 'wrong user')
    assertUnauthorized(t, await metadata(app, topic, { authorization: basic('alice', '') }), challenge, 'empty password')
    assertUnauthorized(t, await metadata(app, topic), challenge, 'no credentials')
    assertUnauthorized(t, await metadata(app, topic, { 'x-api-key': 's3cret' }), challenge, 'the password as an API key')
  })
})

t.test('with both keys and users, the challenge offers both schemes and either works', async (t) => {
  const app = await build(t, { env: { API_KEYS: 'k1', BASIC_AUTH_USERS: 'alice:s3cret' } })
  const res = await app.inject({ method: 'GET', url: '/api/v1/getMetadata/anything' })
  assertUnauthorized(t, res, /^Bearer realm="kosha", Basic realm="kosha", charset="UTF-8"$/, 'both schemes')
  const topic = await createTopic(t, { prefix: 'auth' })
  t.equal((await metadata(app, topic, { authorization: 'Bearer k1' })).statusCode, 200)
  t.equal((await metadata(app, topic, { authorization: basic('alice', 's3cret') })).statusCode, 200)
})

t.test('no secret ever appears in the log', async (t) => {
  const key = `key-${randomBytes(12).toString('hex')}`
  const wrongKey = `wrong-${randomBytes(12).toString('hex')}`
  const password = `pw-${randomBytes(12).toString('hex')}`
  const logs: string[] = []
  const app = await build(t, { env: { API_KEYS: key, BASIC_AUTH_USERS: `alice:${password}` }, logs })
  const topic = await createTopic(t, { prefix: 'auth' })

  t.equal((await metadata(app, topic, { authorization: `Bearer ${key}` })).statusCode, 200)
  t.equal((await metadata(app, topic, { 'x-api-key': key })).statusCode, 200)
  t.equal((await metadata(app, topic, { authorization: basic('alice', password) })).statusCode, 200)
  t.equal((await metadata(app, topic, { authorization: `Bearer ${wrongKey}` })).statusCode, 401)
  t.equal((await metadata(app, topic, { 'x-api-key': wrongKey })).statusCode, 401)
  t.equal((await metadata(app, topic, { authorization: basic('alice', wrongKey) })).statusCode, 401)
  // A request that fails after authentication (the topic does not exist) logs its error too.
  t.equal((await metadata(app, `missing-${randomBytes(4).toString('hex')}`, { 'x-api-key': key })).statusCode, 404)

  // The capture works: the requests above are in it, so an empty capture cannot pass this test.
  const requestLines = logs.filter((l) => l.includes(`/api/v1/getMetadata/${topic}`))
  t.ok(requestLines.length >= 6, `the log has the requests (${requestLines.length} lines name the topic)`)
  t.ok(logs.some((l) => l.includes('KOSHA_UNAUTHORIZED')), 'the log has the refusals')

  const secrets = {
    'the API key': key,
    'the wrong key': wrongKey,
    'the password': password,
    'the Basic credentials': Buffer.from(`alice:${password}`).toString('base64'),
    'the wrong Basic credentials': Buffer.from(`alice:${wrongKey}`).toString('base64')
  }
  for (const [what, secret] of Object.entries(secrets)) {
    const leaks = logs.filter((l) => l.includes(secret))
    t.same(leaks, [], `${what} is in no log line`)
  }
})
