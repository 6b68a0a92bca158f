import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../../helper'
import { createTopic, uniqueName, clusterId } from '../../kafka'
import { kcatConsume, kcatValueAt } from '../../kcat'
import { specMissing, v3Mismatch } from '../../confluent-spec'
import { ConcatenatedJson } from '../../../routes/v3/records'

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64')
const JSON_TYPE = { 'content-type': 'application/json' }

interface Report {
  error_code: number
  message?: string
  cluster_id?: string
  topic_name?: string
  partition_id?: number
  offset?: number
  timestamp?: string | null
  key?: { type: string, size: number } | null
  value?: { type: string, size: number } | null
}

/** The cluster's id, asked of Kafka by a client of the test's own. */
/** Reports in a body of concatenated JSON, each checked against Confluent's ProduceResponse schema. */
function reportsOf (t: Test, url: string, status: number, body: Buffer): Report[] {
  const reader = new ConcatenatedJson(1 << 20)
  const reports: Report[] = []
  for (const piece of [...reader.push(body), ...reader.end()]) {
    if (!('json' in piece)) throw new Error(`not concatenated JSON: ${JSON.stringify(piece)}`)
    const text = piece.json.toString('utf8')
    const why = specMissing() === undefined ? v3Mismatch('POST', url, status, 'application/json', text) : undefined
    if (why) t.fail(why)
    reports.push(JSON.parse(text) as Report)
  }
  return reports
}

/** A chunked POST over a real socket: each step writes a chunk, or waits (e.g. for reports) before the next. */
async function chunked (app: FastifyInstance, url: string, steps: Array<string | ((reports: () => number) => Promise<void>)>): Promise<{ status: number, headers: http.IncomingHttpHeaders, body: Buffer }> {
  const { port } = app.server.address() as AddressInfo
  const received: Buffer[] = []
  let count = 0
  const counter = new ConcatenatedJson(1 << 20)
  const done = new Promise<{ status: number, headers: http.IncomingHttpHeaders, body: Buffer }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: url, headers: JSON_TYPE }, (res) => {
      res.on('data', (chunk: Buffer) => {
        received.push(chunk)
        for (const piece of counter.push(chunk)) if ('json' in piece) count++
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(received) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    ;(async () => {
      for (const step of steps) {
        if (typeof step === 'string') req.write(step)
        else await step(() => count)
      }
      req.end()
    })().catch(reject)
  })
  return await done
}

async function until (what: string, test: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

t.test('JSON data is produced as the text the client sent, one record or a batch', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { partitions: 1 })
  const cluster = await clusterId(t)
  const data = ['{"id": 12345678901234567890123}', '[1.10, {"data": 2}]']
  const one = await app.inject({ method: 'POST', url: `/v3/clusters/${cluster}/topics/${topic}/records`, headers: JSON_TYPE, payload: `{"value": {"type": "JSON", "data": ${data[0]!}}}` })
  t.equal(one.statusCode, 200)
  const batch = await app.inject({
    method: 'POST',
    url: `/v3/clusters/${cluster}/topics/${topic}/records:batch`,
    headers: JSON_TYPE,
    payload: `{"entries": [{"id": "a", "key": {"type": "JSON", "data": 9007199254740993}, "value": {"type": "JSON", "data": ${data[1]!}}}]}`
  })
  t.equal(batch.statusCode, 207)
  const records = await kcatConsume(topic, 2)
  t.same(records.map((r) => r.payload), data, 'the data as sent, byte for byte')
  t.equal(records[1]?.key, '9007199254740993', 'a JSON key as sent')
})

t.test('one record of each type lands byte-exact where the report says', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { partitions: 3 })
  const cluster = await clusterId(t)
  const url = `/v3/clusters/${cluster}/topics/${topic}/records`
  const raw = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x1e, 0x0a])
  const cases: Array<[string, object, Buffer, { type: string, size: number } | null]> = [
    ['BINARY', { key: { type: 'BINARY', data: b64('k-bin') }, value: { type: 'BINARY', data: b64(raw) } }, raw, { type: 'BINARY', size: 5 }],
    ['JSON', { key: { type: 'JSON', data: { id: 7 } }, value: { type: 'JSON', data: { a: [1, 'ü', null], b: true } } },
      Buffer.from(JSON.stringify({ a: [1, 'ü', null], b: true })), { type: 'JSON', size: 8 }],
    ['STRING', { key: { type: 'STRING', data: 'k-str' }, value: { type: 'STRING', data: 'héllo wörld ✓' } }, Buffer.from('héllo wörld ✓', 'utf8'), { type: 'STRING', size: 5 }],
    ['no key', { value: { type: 'STRING', data: 'no key' } }, Buffer.from('no key'), null]
  ]
  for (const [what, payload, bytes, key] of cases) {
    const res = await app.inject({ method: 'POST', url, headers: JSON_TYPE, payload })
    t.equal(res.statusCode, 200, what)
    t.match(res.headers['content-type'], 'application/json')
    const report = res.json() as Report
    t.equal(report.error_code, 200, `${what}: error_code 200`)
    t.equal(report.cluster_id, cluster)
    t.equal(report.topic_name, topic)
    t.same(report.key, key, `${what}: key type and size`)
    t.same(report.value, { type: (payload as { value: { type: string } }).value.type, size: bytes.length }, `${what}: value type and size`)
    t.ok(report.timestamp && Math.abs(Date.parse(report.timestamp) - Date.now()) < 60_000, `${what}: a timestamp`)
    t.same(await kcatValueAt(topic, report.partition_id ?? -1, report.offset ?? -1), bytes, `${what}: kcat reads the exact bytes`)
  }
  const keys = (await kcatConsume(topic, 4)).map((r) => r.key).sort()
  t.same(keys, ['k-bin', 'k-str', '{"id":7}', null].sort(), 'keys as sent (JSON keys as their JSON text)')
})

t.test('a given partition_id and headers are honoured; a null value is a tombstone', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { partitions: 3 })
  const url = `/v3/clusters/${await clusterId(t)}/topics/${topic}/records`
  const res = await app.inject({
    method: 'POST',
    url,
    headers: JSON_TYPE,
    payload: { partition_id: 2, headers: [{ name: 'trace', value: b64('abc') }, { name: 'bin', value: b64('x\u0001y') }], value: { type: 'STRING', data: 'to p2' }, timestamp: '2021-02-05T19:14:42Z' }
  })
  t.equal(res.statusCode, 200)
  t.equal(res.json().partition_id, 2)
  t.equal(res.json().timestamp, '2021-02-05T19:14:42.000Z', 'the given timestamp is the record\'s')
  const tomb = await app.inject({ method: 'POST', url, headers: JSON_TYPE, payload: { partition_id: 1, key: { type: 'STRING', data: 'gone' } } })
  t.equal(tomb.statusCode, 200)
  t.equal(tomb.json().value, null, 'no value: reported as null')
  const records = await kcatConsume(topic, 2)
  const p2 = records.find((r) => r.partition === 2)
  t.same(p2?.headers, ['trace', 'abc', 'bin', 'x\u0001y'])
  t.equal(p2?.payload, 'to p2')
  t.equal(p2?.ts, Date.parse('2021-02-05T19:14:42Z'), 'kcat sees the given timestamp')
  const p1 = records.find((r) => r.partition === 1)
  t.equal(p1?.key, 'gone')
  t.equal(p1?.payload, null, 'a tombstone')
})

t.test('a stream of 50 records over a chunked request: 50 reports in order, streamed back, offsets as kcat reads', async (t) => {
  const app = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const topic = await createTopic(t, { partitions: 2 })
  const url = `/v3/clusters/${await clusterId(t)}/topics/${topic}/records`
  const record = (i: number): string => JSON.stringify({ key: { type: 'STRING', data: `k${i % 5}` }, value: { type: 'JSON', data: { i } } })
  // Records 0-24 in uneven chunks (one split mid-object); the rest only after their 25 reports came back.
  const first = Array.from({ length: 25 }, (_, i) => record(i)).join('\n')
  const rest = Array.from({ length: 25 }, (_, i) => record(25 + i)).join('')
  const res = await chunked(app, url, [
    first.slice(0, 100), first.slice(100, 1000), first.slice(1000),
    async (reports) => { await until('the first 25 reports while the request is still open', () => reports() === 25) },
    rest
  ])
  t.equal(res.status, 200)
  t.equal(res.headers['transfer-encoding'], 'chunked', 'the answer is streamed')
  const reports = reportsOf(t, url, 200, res.body)
  t.equal(reports.length, 50)
  t.ok(reports.every((r) => r.error_code === 200), 'every record acknowledged')
  const consumed = await kcatConsume(topic, 50)
  t.equal(consumed.length, 50)
  for (const c of consumed) {
    const i = (JSON.parse(c.payload ?? '{}') as { i: number }).i
    t.same([reports[i]?.partition_id, reports[i]?.offset], [c.partition, c.offset], `record ${i} where its report says`)
  }
  // In one partition, the reports' offsets rise in the order the records were sent.
  for (const p of [0, 1]) {
    const offsets = reports.filter((r) => r.partition_id === p).map((r) => r.offset ?? -1)
    t.same(offsets, [...offsets].sort((a, b) => a - b), `partition ${p}: offsets in order`)
  }
})

t.test('a stream with bad records in the middle: their own error reports, the rest succeed', async (t) => {
  const app = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const topic = await createTopic(t)
  const url = `/v3/clusters/${await clusterId(t)}/topics/${topic}/records`
  const bodies = Array.from({ length: 20 }, (_, i) => JSON.stringify({ value: { type: 'STRING', data: `v${i}` } }))
  bodies[7] = JSON.stringify({ value: { type: 'BINARY', data: 'not base64!' } })
  bodies[12] = '{"value": {"type": "STRING", "data": }}'
  bodies[15] = JSON.stringify({ partition_id: 5, value: { type: 'STRING', data: 'no such partition' } })
  const res = await chunked(app, url, bodies)
  t.equal(res.status, 200)
  const reports = reportsOf(t, url, 200, res.body)
  t.equal(reports.length, 20)
  t.match(reports[7], { error_code: 400, message: /records\/7\/value\/data \(type BINARY\) is not base64/ })
  t.match(reports[12], { error_code: 400, message: /records\/12\/ is not valid JSON/ })
  t.match(reports[15], { error_code: 40403, message: /Partition 5/ }, 'an unknown partition: Confluent\'s 40403')
  t.same(reports.map((r, i) => [7, 12, 15].includes(i) ? 'failed' : r.error_code), bodies.map((_, i) => [7, 12, 15].includes(i) ? 'failed' : 200))
  const values = (await kcatConsume(topic, 17)).map((r) => r.payload)
  t.same(values, bodies.map((_, i) => `v${i}`).filter((_, i) => ![7, 12, 15].includes(i)), 'the good ones, in order')
})

t.test('a stream of which nothing is acknowledged is not a 200; leading failures wait for the first success', async (t) => {
  const app = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const topic = await createTopic(t)
  const url = `/v3/clusters/${await clusterId(t)}/topics/${topic}/records`
  const bad = JSON.stringify({ value: { type: 'AVRO', data: 'x' } })
  const allBad = await chunked(app, url, [bad, bad, bad])
  t.equal(allBad.status, 400)
  const reports = reportsOf(t, url, 400, allBad.body)
  t.equal(reports.length, 3)
  t.ok(reports.every((r) => r.error_code === 400 && /schema registry/.test(r.message ?? '')))
  const late = await chunked(app, url, [bad, JSON.stringify({ value: { type: 'STRING', data: 'ok' } }), bad])
  t.equal(late.status, 200)
  t.same(reportsOf(t, url, 200, late.body).map((r) => r.error_code), [400, 200, 400])
  const broken = await chunked(app, url, [JSON.stringify({ value: { type: 'STRING', data: 'ok' } }), ' [1, 2] ', JSON.stringify({ value: { type: 'STRING', data: 'never read' } })])
  t.equal(broken.status, 200)
  const brokenReports = reportsOf(t, url, 200, broken.body)
  t.same(brokenReports.map((r) => r.error_code), [200, 400], 'what is not a JSON object ends the stream with a report')
  t.match(brokenReports[1]?.message, /Expected a JSON object/)
})

t.test('records:batch: successes and failures by id', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { partitions: 2 })
  const url = `/v3/clusters/${await clusterId(t)}/topics/${topic}/records:batch`
  const res = await app.inject({
    method: 'POST',
    url,
    headers: JSON_TYPE,
    payload: {
      entries: [
        { id: 'a', key: { type: 'BINARY', data: b64('ka') }, value: { type: 'BINARY', data: b64(Buffer.from([0, 0xff])) } },
        { id: 'b', value: { type: 'BINARY', data: '***' } },
        { id: 'c', partition_id: 1, headers: [{ name: 'h', value: b64('v') }], value: { type: 'JSON', data: [1, 2] } },
        { id: 'd', value: { type: 'PROTOBUF', data: {} } },
        { id: 'e', partition_id: 7, value: { type: 'STRING', data: 'x' } },
        { id: 'f', value: { type: 'STRING', data: 'last' } }
      ]
    }
  })
  t.equal(res.statusCode, 207)
  const body = res.json() as { successes: Array<Report & { id: string }>, failures: Array<{ id: string, error_code: number, message: string }> }
  t.same(body.successes.map((s) => s.id), ['a', 'c', 'f'])
  t.same(body.failures.map((f) => [f.id, f.error_code]), [['b', 400], ['d', 400], ['e', 40403]])
  t.match(body.failures[0]?.message, /entries\/1\/value\/data \(type BINARY\) is not base64/)
  const a = body.successes[0]
  t.same(a?.value, { type: 'BINARY', size: 2 })
  t.same(await kcatValueAt(topic, a?.partition_id ?? -1, a?.offset ?? -1), Buffer.from([0, 0xff]))
  const c = body.successes[1]
  t.equal(c?.partition_id, 1)
  t.same(await kcatValueAt(topic, 1, c?.offset ?? -1), Buffer.from('[1,2]'))
})

t.test('failures', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  const cluster = await clusterId(t)
  const records = `/v3/clusters/${cluster}/topics/${topic}/records`
  const batch = `${records}:batch`
  const post = (url: string, payload: string | object, headers: Record<string, string> = JSON_TYPE) =>
    app.inject({ method: 'POST', url, headers, payload })
  // [what, url, body, status, message, headers, error_code: the status unless Confluent has a sub-code for it]
  const cases: Array<[string, string, string | object, number, RegExp, Record<string, string>?, number?]> = [
    ['unknown cluster', `/v3/clusters/no-such-cluster/topics/${topic}/records`, { value: { type: 'STRING', data: 'x' } }, 404, /Cluster no-such-cluster cannot be found/],
    ['unknown topic', `/v3/clusters/${cluster}/topics/${uniqueName('none')}/records`, { value: { type: 'STRING', data: 'x' } }, 404, /does not exist/, JSON_TYPE, 40403],
    ['not base64', records, { value: { type: 'BINARY', data: 'a' } }, 400, /not base64/],
    ['header not base64', records, { headers: [{ name: 'h', value: '%%' }], value: { type: 'STRING', data: 'x' } }, 400, /headers\/0\/value is not base64/],
    ['bad type', records, { value: { type: 'XML', data: '<a/>' } }, 400, /must be BINARY, JSON or STRING/],
    ['AVRO', records, { value: { type: 'AVRO', data: 'x' } }, 400, /schema registry/],
    ['schema_id', records, { value: { schema_id: 1, data: 'x' } }, 400, /schema_id: this service has no schema registry/],
    ['no type', records, { value: { data: 'x' } }, 400, /type is required/],
    ['STRING not a string', records, { value: { type: 'STRING', data: 5 } }, 400, /must be a string/],
    ['partition_id not an integer', records, { partition_id: 'one', value: { type: 'STRING', data: 'x' } }, 400, /partition_id must be integer/],
    ['missing partition', records, { partition_id: 3, value: { type: 'STRING', data: 'x' } }, 404, /Partition 3/, JSON_TYPE, 40403],
    ['bad timestamp', records, { timestamp: 'yesterday', value: { type: 'STRING', data: 'x' } }, 400, /timestamp/],
    ['not JSON', records, '{"value": ', 400, /ends inside a JSON object/],
    ['empty body', records, '', 422, /empty/],
    ['not application/json', records, 'x', 415, /Content-Type/, { 'content-type': 'text/plain' }],
    ['batch: unknown topic', `/v3/clusters/${cluster}/topics/${uniqueName('none')}/records:batch`, { entries: [{ id: '1', value: { type: 'STRING', data: 'x' } }] }, 404, /does not exist/, JSON_TYPE, 40403],
    ['batch: not application/json', batch, 'x', 415, /Content-Type 'text\/plain': send application\/json/, { 'content-type': 'text/plain' }],
    ['batch: unknown cluster', `/v3/clusters/nope/topics/${topic}/records:batch`, { entries: [{ id: '1', value: { type: 'STRING', data: 'x' } }] }, 404, /Cluster nope/],
    ['batch: nothing produced', batch, { entries: [{ id: 'x', value: { type: 'AVRO', data: 1 } }, { id: 'y', value: { type: 'BINARY', data: '!' } }] }, 400, /No entry was produced. Entry 'x': .*schema registry.*1 more failed/],
    ['batch: no entries', batch, { entries: [] }, 400, /entries must NOT have fewer than 1 items/],
    ['batch: entry without id', batch, { entries: [{ value: { type: 'STRING', data: 'x' } }] }, 400, /entries\/0\/id is required/],
    ['batch: duplicate id', batch, { entries: [{ id: '1' }, { id: '1' }] }, 400, /used twice/],
    ['batch: not JSON', batch, '{"entries": [', 400, /not a JSON batch/]
  ]
  for (const [what, url, payload, status, message, headers, code = status] of cases) {
    const res = await post(url, payload, headers)
    t.equal(res.statusCode, status, `${what}: ${status}`)
    const body = res.json() as { error_code: number, message: string }
    t.equal(body.error_code, code, `${what}: error_code ${code}`)
    t.match(body.message, message, `${what}: message`)
  }
  t.same(await kcatConsume(topic, 1, { timeoutMs: 5000 }).catch(() => []), [], 'nothing was produced')
})

t.test('a client that leaves mid-stream: what it sent is produced, the service carries on', async (t) => {
  const app = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const topic = await createTopic(t)
  const url = `/v3/clusters/${await clusterId(t)}/topics/${topic}/records`
  const { port } = app.server.address() as AddressInfo
  let reports = 0
  const counter = new ConcatenatedJson(1 << 20)
  const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: url, headers: JSON_TYPE }, (res) => {
    res.on('data', (chunk: Buffer) => { for (const piece of counter.push(chunk)) if ('json' in piece) reports++ })
    res.on('error', () => undefined)
  })
  req.on('error', () => undefined)
  for (let i = 0; i < 5; i++) req.write(JSON.stringify({ value: { type: 'STRING', data: `v${i}` } }))
  req.write('{"value": {"type": "STRING", "da')
  await until('5 reports', () => reports === 5)
  req.destroy()
  const after = await app.inject({ method: 'POST', url, headers: JSON_TYPE, payload: { value: { type: 'STRING', data: 'after' } } })
  t.equal(after.statusCode, 200)
  t.equal(after.json().offset, 5, 'the five records before it, and nothing of the half-sent one')
  t.same((await kcatConsume(topic, 6)).map((r) => r.payload), ['v0', 'v1', 'v2', 'v3', 'v4', 'after'])
})
