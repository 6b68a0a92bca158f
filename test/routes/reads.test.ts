// Stateless partition reads (routes/v1/reads.ts, kafka/reads.ts) against the real broker: pages, retries, a start
// by time, the limits, the wait for a record to come, and every way a request can be wrong.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../helper'
import { adminClient, createTopic, kafkaClient, uniqueName } from '../kafka'

interface Record { topic: string, partition: number, offset: number, key: string | null, keyEncoding: string | null, value: unknown, valueEncoding: string | null, timestamp: number, headers: Array<{ key: string, value: string | null, valueEncoding: string }> }
interface Page { topic: string, partition: number, records: Record[], next_offset: number, low_watermark: number, high_watermark: number }
interface Message { key?: string | Buffer, value: string | Buffer | null, partition?: number, timestamp?: string, headers?: { [name: string]: string } }

async function produce (t: Test, topic: string, messages: Message[]): Promise<void> {
  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  await producer.send({ topic, messages })
}

const url = (topic: string, partition: number, query = ''): string => `/api/v1/topics/${topic}/partitions/${partition}/records${query ? `?${query}` : ''}`

async function page (app: FastifyInstance, topic: string, partition: number, query = ''): Promise<Page> {
  const res = await app.inject({ method: 'GET', url: url(topic, partition, query) })
  if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`)
  return res.json<Page>()
}

t.test('pages through a partition by next_offset; the same request gives the same records', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { partitions: 2 })
  const messages: Message[] = Array.from({ length: 25 }, (_, i) => ({ partition: 0, key: `k${i}`, value: JSON.stringify({ i }) }))
  messages[3] = { partition: 0, key: 'text', value: 'plain text', headers: { trace: 'abc' } }
  messages[4] = { partition: 0, value: Buffer.from([0xff, 0x00, 0xfe]) }
  messages[5] = { partition: 0, key: 'gone', value: null }
  await produce(t, topic, [...messages, { partition: 1, value: 'other partition' }])

  const first = await page(app, topic, 0, 'max_records=10')
  t.same(first.records.map((r) => r.offset), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'the first 10 records, from the start by default')
  t.match(first, { topic, partition: 0, next_offset: 10, low_watermark: 0, high_watermark: 25 })
  t.match(first.records[0], { topic, partition: 0, key: 'k0', keyEncoding: 'text', value: { i: 0 }, valueEncoding: 'json', headers: [] })
  t.match(first.records[3], { key: 'text', value: 'plain text', valueEncoding: 'text', headers: [{ key: 'trace', value: 'abc', valueEncoding: 'text' }] })
  t.match(first.records[4], { key: null, keyEncoding: null, value: Buffer.from([0xff, 0x00, 0xfe]).toString('base64'), valueEncoding: 'base64' })
  t.match(first.records[5], { key: 'gone', value: null, valueEncoding: null }, 'a tombstone')
  t.ok(first.records.every((r) => r.timestamp > 0), 'every record has its timestamp')

  t.same(await page(app, topic, 0, 'max_records=10'), first, 'a retry returns exactly the same page')
  t.same(await page(app, topic, 0, 'offset=earliest&max_records=10'), first, 'offset=earliest is the default')

  const seen: number[] = []
  for (let offset = 0; offset < 25;) {
    const p = await page(app, topic, 0, `offset=${offset}&max_records=7`)
    seen.push(...p.records.map((r) => r.offset))
    offset = p.next_offset
  }
  t.same(seen, Array.from({ length: 25 }, (_, i) => i), 'the pages together hold every record once, in order')

  const end = await page(app, topic, 0, 'offset=25')
  t.same(end.records, [], 'at the end: no record')
  t.equal(end.next_offset, 25, 'and the next page starts where it was')
  const latest = await page(app, topic, 0, 'offset=latest')
  t.same([latest.records, latest.next_offset], [[], 25], 'latest is the end')
  const other = await page(app, topic, 1)
  t.same(other.records.map((r) => r.value), ['other partition'], 'another partition has its own records')
})

t.test('max_bytes keeps whole records and always the first; max_records bounds the count', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  await produce(t, topic, Array.from({ length: 6 }, (_, i) => ({ value: String(i).repeat(1000) })))
  t.same((await page(app, topic, 0, 'max_bytes=2500')).records.length, 2, '2 records of 1000 bytes fit in 2500 bytes')
  const one = await page(app, topic, 0, 'offset=2&max_bytes=1')
  t.same([one.records.length, one.records[0]?.offset, one.next_offset], [1, 2, 3], 'a record larger than max_bytes still comes, alone')
  t.same((await page(app, topic, 0, 'max_records=4')).records.map((r) => r.offset), [0, 1, 2, 3])
  t.same((await page(app, topic, 0, 'max_records=10000')).records.length, 6, 'no more than there are')
})

t.test('a start by time: the first record at or after it, in ms or ISO 8601', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  const base = Date.parse('2026-01-31T12:00:00Z')
  await produce(t, topic, Array.from({ length: 5 }, (_, i) => ({ value: `at ${i}`, timestamp: String(base + i * 60_000) })))
  const offsets = async (query: string): Promise<number[]> => (await page(app, topic, 0, query)).records.map((r) => r.offset)
  t.same(await offsets(`timestamp=${base + 2 * 60_000}`), [2, 3, 4], 'at a record\'s time: that record first')
  t.same(await offsets(`timestamp=${base + 2 * 60_000 - 1}`), [2, 3, 4], 'just before it: the same')
  t.same(await offsets('timestamp=2026-01-31T12:03:00Z'), [3, 4], 'ISO 8601')
  t.same(await offsets('timestamp=2026-01-31T13:03:00%2B01:00'), [3, 4], 'ISO 8601 with an offset from UTC')
  t.same(await offsets('timestamp=0'), [0, 1, 2, 3, 4], 'before every record: from the first')
  const after = await page(app, topic, 0, `timestamp=${base + 3_600_000}`)
  t.same([after.records, after.next_offset], [[], 5], 'after every record: the end, nothing')
  const p = await page(app, topic, 0, `timestamp=${base + 60_000}&max_records=2`)
  t.same([p.records.map((r) => r.value), p.next_offset], [['at 1', 'at 2'], 3], 'with the limits')
})

t.test('with timeout, a read at the end waits for the next record; several at once (more than the pool) all get it', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  await produce(t, topic, [{ value: 'before' }])
  const waiting = Array.from({ length: 6 }, async () => await page(app, topic, 0, 'offset=latest&timeout=20000'))
  const fromOffset = page(app, topic, 0, 'offset=1&timeout=20000')
  await new Promise((resolve) => setTimeout(resolve, 500))
  await produce(t, topic, [{ value: 'awaited' }])
  for (const p of [...await Promise.all(waiting), await fromOffset]) {
    t.same([p.records.map((r) => [r.offset, r.value]), p.next_offset], [[[1, 'awaited']], 2], 'the record that came')
  }
  const none = await page(app, topic, 0, 'offset=latest&timeout=300')
  t.same(none.records, [], 'none came within the wait: an empty page')
  t.equal(none.next_offset, 2)
})

t.test('offsets outside the partition: 416 with the valid range', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  await produce(t, topic, Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })))
  const past = await app.inject({ method: 'GET', url: url(topic, 0, 'offset=11') })
  t.equal(past.statusCode, 416)
  t.match(past.json(), { status: 416, code: 'KOSHA_OFFSET_OUT_OF_RANGE', message: /Offset 11 .* holds offsets 0 to 9; read from an offset from 0 to 10/, requestId: /.+/ })

  const admin = await adminClient(t)
  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '6' }] })
  const below = await app.inject({ method: 'GET', url: url(topic, 0, 'offset=2') })
  t.equal(below.statusCode, 416, 'below the first stored offset (records deleted)')
  t.match(below.json().message, /holds offsets 6 to 9/)
  const earliest = await page(app, topic, 0)
  t.same([earliest.low_watermark, earliest.records.map((r) => r.value)], [6, ['v6', 'v7', 'v8', 'v9']], 'earliest: from the first stored record')

  const empty = await createTopic(t)
  const nothing = await app.inject({ method: 'GET', url: url(empty, 0, 'offset=1') })
  t.equal(nothing.statusCode, 416)
  t.match(nothing.json().message, /holds no records; read from an offset from 0 to 0/)
  t.same((await page(app, empty, 0)).records, [], 'an empty partition: an empty page')
})

t.test('a missing topic or partition is 404; a malformed request 400, in the Kosha shape', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { partitions: 2 })
  const cases: Array<[string, string, number, string, RegExp]> = [
    ['unknown topic', url(uniqueName('none'), 0), 404, 'KOSHA_TOPIC_NOT_FOUND', /does not exist/],
    ['unknown partition', url(topic, 2), 404, 'KOSHA_PARTITION_NOT_FOUND', /Partition 2 of topic/],
    ['negative partition', url(topic, -1), 400, 'KOSHA_VALIDATION_FAILED', /params\/partition must be >= 0/],
    ['partition not a number', `/api/v1/topics/${topic}/partitions/x/records`, 400, 'KOSHA_VALIDATION_FAILED', /params\/partition must be integer/],
    ['offset a word', url(topic, 0, 'offset=first'), 400, 'KOSHA_VALIDATION_FAILED', /querystring\/offset is not valid: Where to start/],
    ['negative offset', url(topic, 0, 'offset=-1'), 400, 'KOSHA_VALIDATION_FAILED', /querystring\/offset/],
    ['huge offset', url(topic, 0, 'offset=99999999999999999'), 400, 'KOSHA_VALIDATION_FAILED', /offset is too large/],
    ['timestamp a word', url(topic, 0, 'timestamp=yesterday'), 400, 'KOSHA_VALIDATION_FAILED', /querystring\/timestamp is not valid/],
    ['timestamp not a date', url(topic, 0, 'timestamp=2026-13-45T99:99:99Z'), 400, 'KOSHA_VALIDATION_FAILED', /timestamp is not a time/],
    ['offset and timestamp', url(topic, 0, 'offset=0&timestamp=0'), 400, 'KOSHA_VALIDATION_FAILED', /offset or timestamp, not both/],
    ['max_records 0', url(topic, 0, 'max_records=0'), 400, 'KOSHA_VALIDATION_FAILED', /max_records must be >= 1/],
    ['max_records too many', url(topic, 0, 'max_records=10001'), 400, 'KOSHA_VALIDATION_FAILED', /max_records must be <= 10000/],
    ['max_bytes 0', url(topic, 0, 'max_bytes=0'), 400, 'KOSHA_VALIDATION_FAILED', /max_bytes must be >= 1/],
    ['timeout too long', url(topic, 0, 'timeout=30001'), 400, 'KOSHA_VALIDATION_FAILED', /timeout must be <= 30000/],
    ['timeout not a number', url(topic, 0, 'timeout=soon'), 400, 'KOSHA_VALIDATION_FAILED', /timeout must be integer/]
  ]
  for (const [what, target, status, code, message] of cases) {
    const res = await app.inject({ method: 'GET', url: target })
    t.equal(res.statusCode, status, `${what}: ${status}`)
    t.match(res.json(), { status, code, message, requestId: res.headers['x-request-id'] }, `${what}: ${code}`)
  }
})

t.test('a read while records are produced: contiguous pages, no gap, no duplicate; re-reads match', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  const total = 3000
  const producing = (async () => {
    for (let i = 0; i < total; i += 100) await produce(t, topic, Array.from({ length: 100 }, (_, j) => ({ value: JSON.stringify({ i: i + j }) })))
  })()
  const pages: Array<{ offset: number, page: Page }> = []
  const values: unknown[] = []
  for (let offset = 0; values.length < total;) {
    const p = await page(app, topic, 0, `offset=${offset}&max_records=250&timeout=5000`)
    pages.push({ offset, page: p })
    values.push(...p.records.map((r) => (r.value as { i: number }).i))
    t.ok(p.records.every((r, n) => r.offset === offset + n), `the page from ${offset} is contiguous`)
    offset = p.next_offset
  }
  await producing
  t.same(values, Array.from({ length: total }, (_, i) => i), 'every record once, in order')
  for (const { offset, page: p } of pages.filter((x) => x.page.records.length === 250)) {
    const again = await page(app, topic, 0, `offset=${offset}&max_records=250`)
    t.same(again.records, p.records, `a full page from ${offset} read again afterwards: the same records`)
  }
})

t.test('shutdown: a read waiting for a record answers, and the app closes', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t)
  const waiting = app.inject({ method: 'GET', url: url(topic, 0, 'offset=latest&timeout=30000') })
  await new Promise((resolve) => setTimeout(resolve, 500))
  await app.close()
  const res = await waiting
  t.equal(res.statusCode, 200, 'the waiting read answered')
  t.same(res.json().records, [])
})
