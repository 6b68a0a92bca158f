// A path that exists, asked with a method it does not serve: 405 with Allow, in its API family's shape, before the
// body is read; a path that does not exist stays 404.
import t from 'tap'
import { build } from '../helper'

t.test('undeclared methods on existing paths: 405 with Allow, in each family\'s shape', async (t) => {
  // Confluent's spec has no operation for these methods, so its conformance check has nothing to compare them with.
  const mismatches: string[] = []
  const app = await build(t, { mismatches })
  for (const [method, url, allow, shape] of [
    ['PUT', '/api/v1/produce/orders', 'POST', { status: 405, code: 'KOSHA_METHOD_NOT_ALLOWED', message: /use POST/, requestId: String }],
    ['POST', '/healthz', 'GET, HEAD', { status: 405, code: 'KOSHA_METHOD_NOT_ALLOWED' }],
    ['QUERY', '/api/v1/getMetadata/orders', 'GET, HEAD', { status: 405, code: 'KOSHA_METHOD_NOT_ALLOWED' }],
    ['DELETE', '/api/v1/consumers', 'POST', { status: 405 }],
    ['PATCH', '/topics/orders', 'GET, HEAD, POST', { error_code: 405, message: /use GET, HEAD, POST/ }],
    ['PUT', '/consumers/g/instances/i', 'DELETE', { error_code: 405 }],
    ['DELETE', '/v3/clusters', 'GET, HEAD', { error_code: 405 }],
    ['PUT', '/v3/clusters/c/topics/t/records', 'POST', { error_code: 405 }],
    ['TRACE', '/kafka/v3/clusters/c/topics', 'GET, HEAD, POST', { error_code: 405 }]
  ] as const) {
    const res = await app.inject({ method, url })
    t.equal(res.statusCode, 405, `${method} ${url}: 405`)
    t.equal(res.headers.allow, allow, `Allow: ${allow}`)
    t.match(res.json(), shape, 'in the family\'s shape')
  }
  const big = await app.inject({ method: 'PUT', url: '/api/v1/produce/orders', headers: { 'content-type': 'application/json' }, payload: Buffer.alloc(2 * 1_048_576, 0x20) })
  t.equal(big.statusCode, 405, 'before the body is read: 405, not 413')
  const missing = await app.inject({ method: 'PUT', url: '/api/v1/nowhere' })
  t.same([missing.statusCode, missing.json().code], [404, 'KOSHA_ROUTE_NOT_FOUND'], 'a path that does not exist: still 404')
  t.equal((await app.inject({ method: 'HEAD', url: '/healthz' })).statusCode, 200, 'HEAD of a GET is served')
  const preflight = await app.inject({ method: 'OPTIONS', url: '/api/v1/produce/orders', headers: { origin: 'https://ui.example.com', 'access-control-request-method': 'POST' } })
  t.equal(preflight.statusCode, 204, 'a CORS preflight is still answered')
  t.ok(mismatches.every((m) => m.endsWith("no such operation in Confluent's spec")), 'the v3 405s differ from Confluent\'s spec only in being no operation of it')
})
