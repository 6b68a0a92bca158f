// Prometheus metrics (plugins/metrics.ts) against the real app and the real broker: requests by route and status,
// request duration, records produced and their delivery latency, live consumers.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../helper'
import { createTopic, uniqueName } from '../kafka'

interface Sample { name: string, labels: Record<string, string>, value: number }

/** Parses the Prometheus text format: one sample a line, comments skipped. */
function parse (text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = l[2] ?? ''
    samples.push({ name: m[1] ?? '', labels, value: Number(m[3]) })
  }
  return samples
}

async function scrape (app: FastifyInstance): Promise<{ text: string, samples: Sample[] }> {
  const res = await app.inject({ method: 'GET', url: '/metrics' })
  if (res.statusCode !== 200) throw new Error(`GET /metrics answered ${res.statusCode}`)
  return { text: res.body, samples: parse(res.body) }
}

/** The value of the one sample with this name and (at least) these labels, or undefined. */
function value (samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return found[0]?.value
}

t.test('GET /metrics is Prometheus text with requests by route and status and their duration', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/, 'the Prometheus text content type')
  t.match(res.body, /^# HELP http_requests_total /m)
  t.match(res.body, /^# TYPE http_requests_total counter$/m)
  t.match(res.body, /^# TYPE http_request_duration_seconds histogram$/m)
  t.match(res.body, /^# TYPE process_cpu_seconds_total counter$/m, 'the default process metrics are collected')

  const missingTopic = uniqueName('missing')
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: `/api/v1/getMetadata/${missingTopic}` })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: '/no/such/route-xyz' })).statusCode, 404)

  const { text, samples } = await scrape(app)
  t.equal(value(samples, 'http_requests_total', { method: 'GET', route: '/healthz', status: '200' }), 2, 'two 200s on /healthz')
  t.equal(value(samples, 'http_requests_total', { method: 'GET', route: '/api/v1/getMetadata/:topic', status: '404' }), 1,
    'a 404 on a known route is labelled with the route pattern')
  t.equal(value(samples, 'http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }), 1,
    'a 404 on no route is labelled unmatched')
  t.equal(value(samples, 'http_requests_total', { route: '/healthz', status: '404' }), undefined, 'no sample for a status that never happened')
  t.notOk(text.includes(missingTopic), 'the topic of a request is not a label (bounded cardinality)')
  t.notOk(text.includes('/no/such/route-xyz'), 'nor the path of an unmatched request')

  const labels = { method: 'GET', route: '/healthz', status: '200' }
  const buckets = samples.filter((s) => s.name === 'http_request_duration_seconds_bucket' && s.labels.route === '/healthz' && s.labels.status === '200')
  t.ok(buckets.length >= 2, `the duration has buckets (${buckets.length})`)
  t.equal(value(samples, 'http_request_duration_seconds_bucket', { ...labels, le: '+Inf' }), 2, 'the +Inf bucket holds both requests')
  t.equal(value(samples, 'http_request_duration_seconds_count', labels), 2, 'the count is 2')
  const sum = value(samples, 'http_request_duration_seconds_sum', labels) ?? -1
  t.ok(sum > 0 && sum < 5, `the sum is a plausible duration in seconds (${sum})`)
  const counts = buckets.map((b) => b.value)
  t.same(counts, [...counts].sort((a, b) => a - b), 'the buckets are cumulative')
})

t.test('a produce the broker acknowledged is counted, with its delivery latency', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { prefix: 'metrics' })

  const before = (await scrape(app)).samples
  t.equal(value(before, 'kosha_records_produced_total'), 0, 'nothing produced yet')
  t.equal(value(before, 'kosha_delivery_latency_seconds_count'), 0, 'no latency observed yet')

  const missing = await app.inject({ method: 'POST', url: `/api/v1/produce/${uniqueName('missing')}`, payload: { n: 0 } })
  t.equal(missing.statusCode, 404, 'a produce to a missing topic fails')
  t.equal(value((await scrape(app)).samples, 'kosha_records_produced_total'), 0, 'and is not counted as produced')

  const res = await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}`, payload: { orderId: 42, status: 'paid' } })
  t.equal(res.statusCode, 200, 'the broker acknowledged the record')
  t.match(res.json(), { result: 'success', topic })

  const after = (await scrape(app)).samples
  const produced = value(after, 'kosha_records_produced_total') ?? 0
  t.ok(produced >= 1, `kosha_records_produced_total is at least 1 (${produced})`)
  t.equal(value(after, 'kosha_delivery_latency_seconds_count'), 1, 'kosha_delivery_latency_seconds has a count')
  t.equal(value(after, 'kosha_delivery_latency_seconds_bucket', { le: '+Inf' }), 1, 'in its +Inf bucket')
  const sum = value(after, 'kosha_delivery_latency_seconds_sum') ?? -1
  t.ok(sum > 0 && sum < 30, `the latency is a plausible number of seconds (${sum})`)
  t.equal(value(after, 'kosha_records_failed_total'), 0, 'no record failed')
  t.equal(value(after, 'http_requests_total', { method: 'POST', route: '/api/v1/produce/:topic', status: '200' }), 1)
})

t.test('kosha_consumers counts the live consumers', async (t) => {
  const app = await build(t)
  t.equal(value((await scrape(app)).samples, 'kosha_consumers'), 0, 'no consumer yet')

  const name = uniqueName('c')
  const created = await app.inject({ method: 'POST', url: '/api/v1/consumers', payload: { name } })
  t.equal(created.statusCode, 200, 'the consumer was created')
  t.equal(value((await scrape(app)).samples, 'kosha_consumers'), 1, 'kosha_consumers is 1')

  const deleted = await app.inject({ method: 'DELETE', url: `/api/v1/consumers/${name}` })
  t.equal(deleted.statusCode, 200, 'the consumer was deleted')
  t.equal(value((await scrape(app)).samples, 'kosha_consumers'), 0, 'kosha_consumers is 0 again')
})

t.test('/metrics stays open when authentication is on, and every app has its own counters', async (t) => {
  const app = await build(t, { env: { API_KEYS: 'k1' } })
  const res = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(res.statusCode, 200, 'a scraper needs no key')
  const samples = parse(res.body)
  t.equal(value(samples, 'http_requests_total', { route: '/healthz', status: '200' }), undefined,
    'the requests of the other apps in this file are not counted here')
  t.equal(value(samples, 'kosha_records_produced_total'), 0)
})
