// NDJSON produce on the v3 records route (routes/v3/records.ts): application/x-ndjson in, one report per line out
// in application/x-ndjson, in order; a bad line is reported and the stream goes on; and a client that does not read
// its reports is not read from either (backpressure), so the service holds a bounded amount for it.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../../helper'
import { adminClient, clusterId, createTopic } from '../../kafka'
import { kcatConsume } from '../../kcat'

const NDJSON = { 'content-type': 'application/x-ndjson' }

interface Report { error_code: number, message?: string, partition_id?: number, offset?: number, value?: { type: string, size: number } | null }

const lines = (body: string): Report[] => body.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Report)

async function until (what: string, test: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!await test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

t.test('NDJSON in: one report per line, in order, as NDJSON; a bad line is reported and the next lines go on', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  const url = `/v3/clusters/${await clusterId(t)}/topics/${topic}/records`
  const body = [
    JSON.stringify({ value: { type: 'STRING', data: 'one' } }),
    '{"value": {"type": "STRING", "data": ',
    '',
    '[1, 2]',
    JSON.stringify({ value: { type: 'JSON', data: { two: 2 } } }),
    '   ',
    JSON.stringify({ value: { type: 'BINARY', data: 'not base64!' } }),
    JSON.stringify({ key: { type: 'STRING', data: 'k' }, value: { type: 'STRING', data: 'three' } }) + '\r',
    JSON.stringify({ value: { type: 'STRING', data: 'four, no newline at the end' } })
  ].join('\n')
  const res = await app.inject({ method: 'POST', url, headers: NDJSON, payload: body })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/x-ndjson/, 'NDJSON in, NDJSON out')
  t.ok(res.body.endsWith('\n'), 'every report is a line')
  const reports = lines(res.body)
  t.same(reports.map((r) => r.error_code), [200, 400, 400, 200, 400, 200, 200], 'one report per non-blank line, in order')
  t.match(reports[1]?.message, /records\/1\/ is not valid JSON/)
  t.match(reports[2]?.message, /records\/2 must be object/, 'a line that is JSON but not an object')
  t.match(reports[4]?.message, /not base64/)
  t.same(reports.filter((r) => r.error_code === 200).map((r) => r.offset), [0, 1, 2, 3])
  t.same((await kcatConsume(topic, 4)).map((r) => r.payload), ['one', '{"two":2}', 'three', 'four, no newline at the end'])

  const bad = await app.inject({ method: 'POST', url, headers: NDJSON, payload: '[1]\n' })
  t.equal(bad.statusCode, 400, 'nothing acknowledged: the first failure\'s status')
  t.match(bad.headers['content-type'], /^application\/x-ndjson/)
  t.same(lines(bad.body).map((r) => r.error_code), [400], 'and its report, as a line')

  const tooLong = await app.inject({ method: 'POST', url, headers: NDJSON, payload: `${JSON.stringify({ value: { type: 'STRING', data: 'x'.repeat(1_100_000) } })}\n${JSON.stringify({ value: { type: 'STRING', data: 'five' } })}\n` })
  t.same(lines(tooLong.body).map((r) => r.error_code), [413, 200], 'a line over BODY_LIMIT is reported; the next one is produced')

  const empty = await app.inject({ method: 'POST', url, headers: NDJSON, payload: '\n\n' })
  t.equal(empty.statusCode, 422, 'no line: the empty-body error')
  const text = await app.inject({ method: 'POST', url, headers: { 'content-type': 'text/plain' }, payload: 'x' })
  t.equal(text.statusCode, 415, 'another media type: 415')
})

/** Lines of a chunk count as they come in (a report is one line). */
function counter (): { add: (chunk: Buffer) => void, count: () => number } {
  let n = 0
  return { add: (chunk) => { for (const c of chunk) if (c === 0x0a) n++ }, count: () => n }
}

t.test('backpressure: a client that does not read its reports is not read from; once it reads, every record is produced and reported', async (t) => {
  const app: FastifyInstance = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const topic = await createTopic(t)
  const url = `/v3/clusters/${await clusterId(t)}/topics/${topic}/records`
  // More than the sockets between the two can hold (the kernel buffers a few MB each way: about 35,000 lines
  // written and 21,000 reports unread when this was measured), so only backpressure stops the writes.
  const total = 120_000
  const filler = 'x'.repeat(200)
  const line = (i: number): string => `{"value":{"type":"STRING","data":"${i} ${filler}"}}\n`

  let written = 0
  let reading = false
  const reports = counter()
  let response: http.IncomingMessage | undefined
  const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: url, headers: NDJSON })
  const answered = new Promise<{ status: number, type: string }>((resolve, reject) => {
    req.on('response', (res) => {
      response = res
      res.on('data', (chunk: Buffer) => reports.add(chunk))
      // The client reads nothing until told to.
      if (!reading) res.pause()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']) }))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
  const writing = (async () => {
    while (written < total) {
      const chunk = Array.from({ length: 100 }, (_, i) => line(written + i)).join('')
      written += 100
      if (!req.write(chunk)) await new Promise((resolve) => req.once('drain', resolve))
    }
    req.end()
  })()

  // While the client reads nothing, the writes stall: the service stopped reading the body, and producing. (Stalled:
  // neither the lines written nor the records produced moved for 4 s; a busy machine only delays this.)
  const admin = await adminClient(t)
  const produced = async (): Promise<number> => Number((await admin.fetchTopicOffsets(topic))[0]?.high ?? -1)
  let last = ''
  let still = 0
  await until('the client\'s writes to stall, or every line written', async () => {
    const now = `${written} ${await produced()}`
    if (now === last) still++
    else { still = 0; last = now }
    return still >= 40 || written >= total
  }, 120_000)
  const stalledAt = await produced()
  t.comment(`stalled at ${written} lines written, ${stalledAt} produced, ${reports.count()} reports read`)
  t.ok(written < total, `the client could not write everything while it read no report (${written} of ${total} lines written)`)
  t.ok(stalledAt <= written, `no more produced than sent (${stalledAt})`)
  t.ok(stalledAt < total / 2, `the service held a bounded amount for it: ${stalledAt} records produced of ${total}, and no more`)

  reading = true
  response?.resume()
  await writing
  const { status, type } = await answered
  t.equal(status, 200)
  t.match(type, /^application\/x-ndjson/)
  t.equal(reports.count(), total, 'once it reads, a report for every line')
  t.equal(await produced(), total, 'and every record produced')
})
