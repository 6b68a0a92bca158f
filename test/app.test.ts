import t from 'tap'
import { build } from './helper'

t.test('GET /healthz answers 200 while the process is up', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/healthz' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
})

t.test('each request is logged once at info, when it completes: method, url, status, time and request id', async (t) => {
  const logs: string[] = []
  const app = await build(t, { logs })
  const res = await app.inject({ method: 'GET', url: '/api/v1/getMetadata/kosha-no-such-topic-for-logs', headers: { 'x-request-id': 'log-check-1' } })
  t.equal(res.statusCode, 404)
  const lines = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reqId === 'log-check-1')
  const completed = lines.filter((l) => l.msg === 'request completed')
  t.equal(completed.length, 1, 'one completion line')
  t.match(completed[0], { level: 30, method: 'GET', url: '/api/v1/getMetadata/kosha-no-such-topic-for-logs', statusCode: 404, responseTime: Number })
  t.equal(lines.filter((l) => l.msg === 'incoming request').length, 0, 'arrivals are not logged at info')
})

t.test('building the app prints no deprecation warning (FSTDEP023 for disableRequestLogging was one)', async (t) => {
  const warnings: string[] = []
  const onWarning = (w: Error & { code?: string }): void => { warnings.push(`${w.code ?? w.name}: ${w.message}`) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  await build(t)
  await new Promise((resolve) => setImmediate(resolve)) // warnings are emitted on the next tick
  t.same(warnings.filter((w) => w.includes('FSTDEP')), [], 'no Fastify deprecation')
})
