// Tracing (plugins/tracing.ts, lib/tracing.ts, kafka/tracing.ts) against the real broker: the traceparent that
// records carry (read back with kcat), and the spans the service exports by OTLP to a receiver this test runs on
// loopback (a plain HTTP server that keeps the export requests; Kafka is the real one).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../helper'
import { clusterId, createTopic, uniqueName } from '../kafka'
import { kcatConsume, type KcatRecord } from '../kcat'

const V2 = 'application/vnd.kafka.v2+json'
const BINARY = 'application/vnd.kafka.binary.v2+json'
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT_ID = '00f067aa0ba902b7'
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`
const CLIENT_SET = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
const b64 = (s: string): string => Buffer.from(s).toString('base64')

/** The values of a kcat record's headers named `name`, in order (kcat -J lists headers as name, value, name, value...). */
function headerValues (record: KcatRecord | undefined, name: string): string[] {
  const h = record?.headers ?? []
  const out: string[] = []
  for (let i = 0; i + 1 < h.length; i += 2) if (h[i] === name) out.push(h[i + 1] as string)
  return out
}

interface Received { url: string, headers: IncomingHttpHeaders, body: Buffer }

/** An OTLP/HTTP receiver on loopback: keeps every export request and answers 200. */
async function receiver (t: Test, port: number): Promise<Received[]> {
  const received: Received[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) })
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.close(() => resolve()) }))
  return received
}

interface OtlpValue { stringValue?: string, intValue?: number | string, boolValue?: boolean, arrayValue?: unknown }
interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  attributes: Array<{ key: string, value: OtlpValue }>
  links?: Array<{ traceId: string, spanId: string }>
  status?: { code?: number }
}
interface Exported { resource: Record<string, unknown>, spans: OtlpSpan[] }

/** The spans of OTLP/JSON export requests, with their resource's attributes. */
function spansOf (received: Received[]): Exported[] {
  const out: Exported[] = []
  for (const r of received) {
    const body = JSON.parse(r.body.toString('utf8')) as { resourceSpans: Array<{ resource: { attributes: Array<{ key: string, value: OtlpValue }> }, scopeSpans: Array<{ spans: OtlpSpan[] }> }> }
    for (const rs of body.resourceSpans) {
      const resource = Object.fromEntries(rs.resource.attributes.map((a) => [a.key, a.value.stringValue]))
      out.push({ resource, spans: rs.scopeSpans.flatMap((s) => s.spans) })
    }
  }
  return out
}

function attr (span: OtlpSpan | undefined, key: string): unknown {
  const v = span?.attributes.find((a) => a.key === key)?.value
  if (v === undefined) return undefined
  return v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.boolValue)
}

async function v2Fetch (t: Test, app: FastifyInstance, topic: string): Promise<Array<{ headers?: Array<{ name: string, value: string }> }>> {
  const group = uniqueName('g')
  const created = await app.inject({ method: 'POST', url: `/consumers/${group}`, headers: { 'content-type': V2 }, payload: { format: 'binary', 'auto.offset.reset': 'earliest' } })
  t.equal(created.statusCode, 200)
  const base = `/consumers/${group}/instances/${created.json().instance_id as string}`
  t.equal((await app.inject({ method: 'POST', url: `${base}/subscription`, headers: { 'content-type': V2 }, payload: { topics: [topic] } })).statusCode, 204)
  const res = await app.inject({ method: 'GET', url: `${base}/records?timeout=15000`, headers: { accept: BINARY } })
  t.equal(res.statusCode, 200)
  t.equal((await app.inject({ method: 'DELETE', url: base })).statusCode, 204)
  return res.json()
}

t.test('tracing off: every produce API puts the request\'s traceparent on its records unchanged; a record\'s own wins', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { prefix: 'traceparent' })
  const v3 = `/v3/clusters/${await clusterId(t)}/topics/${topic}`
  const traced = { traceparent: TRACEPARENT }
  const sends = [
    await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}`, headers: traced, payload: { n: 'v1' } }),
    await app.inject({ method: 'POST', url: `/topics/${topic}`, headers: { ...traced, 'content-type': BINARY }, payload: { records: [{ value: b64('v2') }, { value: b64('v2-own'), headers: [{ name: 'traceparent', value: b64(CLIENT_SET) }, { name: 'other', value: b64('x') }] }] } }),
    await app.inject({ method: 'POST', url: `${v3}/records`, headers: traced, payload: { value: { type: 'STRING', data: 'v3' } } }),
    await app.inject({ method: 'POST', url: `${v3}/records`, headers: { ...traced, 'content-type': 'application/x-ndjson' }, payload: `${JSON.stringify({ value: { type: 'STRING', data: 'v3-ndjson' } })}\n${JSON.stringify({ value: { type: 'STRING', data: 'v3-ndjson-own' }, headers: [{ name: 'traceparent', value: b64(CLIENT_SET) }] })}\n` }),
    await app.inject({ method: 'POST', url: `${v3}/records:batch`, headers: traced, payload: { entries: [{ id: '1', value: { type: 'STRING', data: 'v3-batch' } }] } }),
    await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}`, headers: { traceparent: '00-not-a-valid-traceparent-01' }, payload: { n: 'invalid' } }),
    await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}`, payload: { n: 'none' } })
  ]
  for (const res of sends) t.ok(res.statusCode === 200 || res.statusCode === 207, `${res.statusCode} ${res.body.slice(0, 200)}`)
  const records = await kcatConsume(topic, 9)
  const byValue = new Map(records.map((r) => [r.payload, r]))
  for (const value of ['{"n":"v1"}', 'v2', 'v3', 'v3-ndjson', 'v3-batch']) {
    t.same(headerValues(byValue.get(value), 'traceparent'), [TRACEPARENT], `${value}: exactly the request's traceparent`)
  }
  t.same(headerValues(byValue.get('v2-own'), 'traceparent'), [CLIENT_SET], 'v2: the record\'s own traceparent, and only it')
  t.same(headerValues(byValue.get('v2-own'), 'other'), ['x'], 'its other headers kept')
  t.same(headerValues(byValue.get('v3-ndjson-own'), 'traceparent'), [CLIENT_SET], 'v3: the record\'s own traceparent, and only it')
  t.same(byValue.get('{"n":"invalid"}')?.headers ?? [], [], 'an invalid traceparent is not passed on')
  t.same(byValue.get('{"n":"none"}')?.headers ?? [], [], 'no traceparent, no header')

  const fetched = await v2Fetch(t, app, topic)
  const v2 = fetched.find((r) => r.headers?.some((h) => h.name === 'traceparent' && h.value === b64(TRACEPARENT)))
  t.ok(v2, 'a v2 consumer gets the traceparent header back intact')
})

t.test('tracing on (OTLP/JSON): request span under the caller\'s, produce span under it, record carries it, consumers link to it', async (t) => {
  const received = await receiver(t, 29990)
  const app = await build(t, { env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:29990/v1/traces', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' } })
  const topic = uniqueName('traced')
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/create', payload: { topic } })).statusCode, 201)
  const produced = await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}`, headers: { traceparent: TRACEPARENT }, payload: { n: 1 } })
  t.equal(produced.statusCode, 200)
  const [record] = await kcatConsume(topic, 1)
  const [recordTraceparent] = headerValues(record, 'traceparent')
  t.match(recordTraceparent, new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`), 'the record carries the caller\'s trace')
  t.not(recordTraceparent, TRACEPARENT, 'with the service\'s own span in it')

  const fetched = await v2Fetch(t, app, topic)
  t.equal(fetched.length, 1)
  const read = await app.inject({ method: 'GET', url: `/api/v1/topics/${topic}/partitions/0/records` })
  t.equal(read.statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/healthz', headers: { traceparent: 'garbage' } })).statusCode, 200)
  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/delete/${topic}` })).statusCode, 200)
  // Closing the app exports the spans still waiting in the batch processor.
  await app.close()

  const exported = spansOf(received)
  t.ok(received.every((r) => String(r.headers['content-type']).startsWith('application/json')), 'sent as OTLP/JSON')
  t.equal(exported[0]?.resource['service.name'], 'kosha-kafka-connector', 'the default service name')
  const spans = exported.flatMap((e) => e.spans)
  const server = spans.find((s) => s.name === 'POST /api/v1/produce/:topic')
  t.ok(server, 'a server span named by method and route')
  t.equal(server?.traceId, TRACE_ID, 'in the caller\'s trace')
  t.equal(server?.parentSpanId, PARENT_ID, 'a child of the caller\'s span')
  t.equal(server?.kind, 2, 'kind SERVER')
  t.equal(attr(server, 'http.request.method'), 'POST')
  t.equal(attr(server, 'http.route'), '/api/v1/produce/:topic')
  t.equal(attr(server, 'url.path'), `/api/v1/produce/${topic}`)
  t.equal(attr(server, 'http.response.status_code'), 200)

  const send = spans.find((s) => s.name === `send ${topic}`)
  t.ok(send, 'a producer span')
  t.equal(send?.parentSpanId, server?.spanId, 'a child of the request\'s span')
  t.equal(send?.kind, 4, 'kind PRODUCER')
  t.equal(attr(send, 'messaging.system'), 'kafka')
  t.equal(attr(send, 'messaging.destination.name'), topic)
  t.equal(attr(send, 'messaging.batch.message_count'), 1)
  t.equal(recordTraceparent, `00-${TRACE_ID}-${send?.spanId ?? ''}-01`, 'the record carries the producer span\'s context')

  const linked = spans.filter((s) => s.links?.some((l) => l.traceId === TRACE_ID && l.spanId === send?.spanId))
  const v2Receive = linked.find((s) => spans.find((p) => p.spanId === s.parentSpanId)?.name === 'GET /consumers/:group_name/instances/:instance/records')
  t.ok(v2Receive, 'the v2 fetch\'s span links to the producer span')
  t.equal(v2Receive?.name, `receive ${topic}`)
  t.equal(attr(v2Receive, 'messaging.batch.message_count'), 1)
  t.ok(linked.some((s) => spans.find((p) => p.spanId === s.parentSpanId)?.name === 'GET /api/v1/topics/:topic/partitions/:partition/records'), 'so does the partition read\'s')
  for (const [admin, request] of [[`CreateTopics ${topic}`, 'POST /api/v1/create'], [`DeleteTopics ${topic}`, 'DELETE /api/v1/delete/:topic']]) {
    const span = spans.find((s) => s.name === admin)
    t.equal(spans.find((p) => p.spanId === span?.parentSpanId)?.name, request, `${admin}: a span under the request's`)
    t.equal(span?.kind, 3, 'kind CLIENT')
  }

  const health = spans.find((s) => s.name === 'GET /healthz')
  t.ok(health, 'the health check has its span')
  t.equal(health?.parentSpanId ?? '', '', 'an invalid traceparent starts a new trace')
  t.not(health?.traceId, TRACE_ID)
})

t.test('tracing on, default protocol: OTLP/protobuf with OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES', async (t) => {
  const received = await receiver(t, 29991)
  const app = await build(t, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:29991', OTEL_SERVICE_NAME: 'kosha-under-test', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=ci' } })
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
  await app.close()
  t.ok(received.length > 0, 'spans were exported at close')
  t.equal(received[0]?.url, '/v1/traces', 'to OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces')
  t.equal(received[0]?.headers['content-type'], 'application/x-protobuf')
  const body = Buffer.concat(received.map((r) => r.body))
  for (const text of ['kosha-under-test', 'deployment.environment', 'ci', 'GET /healthz']) t.ok(body.includes(text), `the export carries '${text}'`)
})
