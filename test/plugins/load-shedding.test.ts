// Load shedding (plugins/load-shedding.ts, on @fastify/under-pressure) against the real app and the real broker,
// with real pressure and no fake of the library: a heap limit below the heap the process already uses, and an event
// loop this test keeps busy with a loop of its own. New requests get 503 KOSHA_OVERLOADED with Retry-After in
// each API family's envelope; /healthz and /metrics are served, /readyz says 503; served again once the loop is free.
import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { build } from '../helper'
import { createTopic } from '../kafka'

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** Asks until the answer's status is `status`, for at most 15 s (pressure is sampled, so it shows a sample later). */
async function until (app: FastifyInstance, url: string, status: number): Promise<LightMyRequestResponse> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const res = await app.inject({ method: 'GET', url })
    if (res.statusCode === status || Date.now() > deadline) return res
    await sleep(50)
  }
}

function assertShed (t: Test, res: LightMyRequestResponse, family: 'kosha' | 'v2' | 'v3', pressure: RegExp, what: string): void {
  t.equal(res.statusCode, 503, `${what}: 503`)
  t.equal(res.headers['retry-after'], '1', `${what}: Retry-After, the next sample (at most 1 s here: 1 s at least)`)
  if (family === 'kosha') {
    const body = res.json<{ status: number, code: string, message: string, requestId: string }>()
    t.same(Object.keys(body).sort(), ['code', 'message', 'requestId', 'status'], `${what}: the Kosha error shape`)
    t.match(body, { status: 503, code: 'KOSHA_OVERLOADED', message: pressure, requestId: res.headers['x-request-id'] }, `${what}: KOSHA_OVERLOADED saying why`)
  } else {
    t.match(res.headers['content-type'], family === 'v2' ? /^application\/vnd\.kafka\.v2\+json/ : /^application\/json/, `${what}: the ${family} media type`)
    const body = res.json<{ error_code: number, message: string }>()
    t.same(Object.keys(body).sort(), ['error_code', 'message'], `${what}: Confluent's envelope`)
    t.match(body, { error_code: 50003, message: pressure }, `${what}: 50003, retriable`)
  }
}

t.test('a heap limit below the heap in use: every new request is shed, liveness and metrics are served, readiness says 503', async (t) => {
  const app = await build(t, { env: { SHED_MAX_HEAP_USED_BYTES: '1', SHED_SAMPLE_INTERVAL_MS: '100' } })
  const topic = await createTopic(t, { prefix: 'shed' })
  assertShed(t, await until(app, `/api/v1/getMetadata/${topic}`, 503), 'kosha', /heap above its limit/, 'v1 metadata')
  assertShed(t, await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}`, payload: { a: 1 } }), 'kosha', /heap/, 'v1 produce')
  assertShed(t, await app.inject({ method: 'GET', url: `/topics/${topic}` }), 'v2', /heap/, 'v2 topic')
  // A 5xx of Confluent's v3 spec is its ServerErrorResponse ({error_code, message}): the helper checks it conforms.
  assertShed(t, await app.inject({ method: 'GET', url: '/v3/clusters' }), 'v3', /heap/, 'v3 clusters')
  assertShed(t, await app.inject({ method: 'GET', url: '/readyz' }), 'kosha', /heap/, 'readiness: not ready while shedding')

  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'liveness: alive')
  const metrics = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(metrics.statusCode, 200, 'metrics are served')
  t.match(metrics.body, /kosha_requests_shed_total\{pressure="heap"\} [1-9]/, 'and count what was shed, by pressure')
})

t.test('an event loop kept busy by this test: shed while it is, served again once it is free', async (t) => {
  const app = await build(t, { env: { SHED_MAX_EVENT_LOOP_DELAY_MS: '30', SHED_SAMPLE_INTERVAL_MS: '100', SHED_MAX_HEAP_USED_BYTES: '0' } })
  const topic = await createTopic(t, { prefix: 'shed' })
  const url = `/api/v1/getMetadata/${topic}`
  t.equal((await until(app, url, 200)).statusCode, 200, 'a free loop: served')

  // 200 ms of busy loop each time the loop comes round: its mean delay is far above 30 ms.
  const busy = setInterval(() => { const end = Date.now() + 200; while (Date.now() < end); }, 1)
  t.teardown(() => { clearInterval(busy) })
  assertShed(t, await until(app, url, 503), 'kosha', /event loop delay above its limit/, 'a busy loop: v1 metadata')
  assertShed(t, await until(app, `/topics/${topic}`, 503), 'v2', /event loop delay/, 'v2')
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'liveness is served while the loop is busy')
  clearInterval(busy)

  const after = await until(app, url, 200)
  t.equal(after.statusCode, 200, 'the loop free again: served again')
  t.ok(after.json<{ topics: Record<string, unknown> }>().topics[topic], 'with the metadata')
})

t.test('no shedding in the first two samples after the app is ready: what starting costs does not count', async (t) => {
  const app = await build(t, { env: { SHED_MAX_HEAP_USED_BYTES: '1', SHED_SAMPLE_INTERVAL_MS: '1000' } })
  // A sample was taken by now (the heap is above 1 byte), and it is still the warm-up.
  await sleep(1200)
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/no-such-route' })).statusCode, 404, 'served (404) in the warm-up, not shed')
  assertShed(t, await until(app, '/api/v1/no-such-route', 503), 'kosha', /heap/, 'after it')
})
