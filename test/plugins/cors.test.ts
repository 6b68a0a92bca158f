// CORS (plugins/cors.ts) against the real app and the real broker: a preflight is answered before any route
// handler runs, so a preflight for DELETE deletes nothing; origins are '*' by default, or the CORS_ORIGINS list.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import { build } from '../helper'
import { adminClient, createTopic } from '../kafka'

async function topicExists (t: Test, topic: string): Promise<boolean> {
  const admin = await adminClient(t)
  return (await admin.listTopics()).includes(topic)
}

t.test('a preflight for DELETE /api/v1/delete/<topic> answers 204 with the CORS headers and deletes nothing', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { prefix: 'cors' })
  t.ok(await topicExists(t, topic), 'the topic exists before the preflight')

  const res = await app.inject({
    method: 'OPTIONS',
    url: `/api/v1/delete/${topic}`,
    headers: {
      origin: 'https://app.example',
      'access-control-request-method': 'DELETE',
      'access-control-request-headers': 'content-type, x-api-key'
    }
  })
  t.equal(res.statusCode, 204, 'the preflight is answered with 204')
  t.equal(res.body, '', 'with no body')
  t.equal(res.headers['access-control-allow-origin'], '*', 'any origin by default')
  const methods = String(res.headers['access-control-allow-methods']).split(',').map((m) => m.trim())
  t.ok(methods.includes('DELETE'), `DELETE is an allowed method (${methods.join(', ')})`)
  const headers = String(res.headers['access-control-allow-headers']).toLowerCase().split(',').map((h) => h.trim())
  for (const h of ['content-type', 'authorization', 'x-api-key', 'x-request-id']) t.ok(headers.includes(h), `${h} is an allowed header`)
  t.equal(res.headers['access-control-max-age'], '600', 'the preflight may be cached for 10 minutes')

  // The topic is still there, seen both through the service and directly by the broker's admin API.
  const metadata = await app.inject({ method: 'GET', url: `/api/v1/getMetadata/${topic}` })
  t.equal(metadata.statusCode, 200, 'GET /api/v1/getMetadata/<topic> still finds the topic')
  const body = metadata.json<{ topics: Record<string, unknown> }>()
  t.ok(body.topics[topic], 'the metadata names the topic')
  t.ok(await topicExists(t, topic), 'the broker still lists the topic')

  // The check above can fail: a real DELETE removes the topic, and then the same checks see it gone.
  const deleted = await app.inject({ method: 'DELETE', url: `/api/v1/delete/${topic}`, headers: { origin: 'https://app.example' } })
  t.equal(deleted.statusCode, 200, 'a real DELETE does delete the topic')
  t.equal(deleted.headers['access-control-allow-origin'], '*', 'and carries the CORS header too')
  let gone = false
  for (let i = 0; i < 50 && !gone; i++) {
    gone = !(await topicExists(t, topic))
    if (!gone) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.ok(gone, 'after a real DELETE the broker no longer lists the topic')
})

t.test('a plain GET with an Origin gets Access-Control-Allow-Origin * by default, and the exposed headers', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://anywhere.example' } })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['access-control-allow-origin'], '*')
  const exposed = String(res.headers['access-control-expose-headers']).toLowerCase().split(',').map((h) => h.trim())
  t.ok(exposed.includes('x-request-id'), 'X-Request-Id is exposed to the browser')
  t.ok(exposed.includes('retry-after'), 'Retry-After is exposed to the browser')
})

t.test('with CORS_ORIGINS an allowed origin is echoed and another is not', async (t) => {
  const app = await build(t, { env: { CORS_ORIGINS: 'https://a.example' } })

  const allowed = await app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://a.example' } })
  t.equal(allowed.statusCode, 200)
  t.equal(allowed.headers['access-control-allow-origin'], 'https://a.example', 'the allowed origin is echoed')
  t.match(String(allowed.headers.vary), /origin/i, 'with Vary: Origin, so caches keep the answers apart')

  const other = await app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://b.example' } })
  t.equal(other.statusCode, 200, 'the request itself is served (CORS is enforced by the browser)')
  t.equal(other.headers['access-control-allow-origin'], undefined, 'another origin is not allowed')

  const lookalike = await app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://a.example.evil.test' } })
  t.equal(lookalike.headers['access-control-allow-origin'], undefined, 'a look-alike origin is not allowed')

  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/api/v1/produce/anything',
    headers: { origin: 'https://b.example', 'access-control-request-method': 'POST' }
  })
  t.not(preflight.headers['access-control-allow-origin'], 'https://b.example', 'a preflight from another origin is not allowed')
  t.not(preflight.headers['access-control-allow-origin'], '*', 'nor answered with *')
})

t.test('a preflight allows every method openapi.json uses (v3 has PUT and PATCH), so a browser can call them all', async (t) => {
  const app = await build(t)
  const openapi = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'openapi.json'), 'utf8')) as { paths: Record<string, Record<string, unknown>> }
  const used = new Set(Object.values(openapi.paths).flatMap((item) => Object.keys(item)).filter((m) => ['get', 'put', 'post', 'delete', 'patch'].includes(m)))
  t.ok(used.has('put') && used.has('patch'), 'the API has PUT and PATCH operations')
  for (const method of [...used].map((m) => m.toUpperCase())) {
    const res = await app.inject({
      method: 'OPTIONS',
      url: '/v3/clusters/any/topics/any/configs/any',
      headers: { origin: 'https://app.example', 'access-control-request-method': method }
    })
    t.equal(res.statusCode, 204, `${method} preflight: 204`)
    const allowed = String(res.headers['access-control-allow-methods']).split(',').map((m) => m.trim())
    t.ok(allowed.includes(method), `${method} is allowed (${allowed.join(', ')})`)
  }
})
