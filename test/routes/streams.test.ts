// /api/v1/streams/{group} against the real broker: Server-Sent Events and WebSocket streams balanced across a
// group, acknowledgements and what they commit (read back with Kafka's own admin API), resuming with Last-Event-ID,
// redelivery of what was never acknowledged, the limits (STREAM_MAX, the buffer bound with a client that stops
// reading), refusals before a stream starts, and shutdown.
import { request as httpRequest, type IncomingMessage, type ClientRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import v8 from 'node:v8'
import vm from 'node:vm'
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { build } from '../helper'
import { adminClient, createTopic, kafkaClient, uniqueName } from '../kafka'

const API = '/api/v1/streams'
const WAIT_MS = 20_000

interface ConsumedRecord { topic: string, partition: number, offset: number, key: string | null, value: unknown, valueEncoding: string | null }
interface SseEvent { event: string, id?: string, data: unknown }
interface Partitions { partitions: Array<{ topic: string, partition: number }> }

async function listen (app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as AddressInfo).port
}

/** Resolves once `check` answers true, polling; fails with `what` after WAIT_MS. */
async function until (what: string, check: () => boolean | Promise<boolean>, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** An SSE client on a real connection: every event parsed as it comes; heartbeats counted. */
class SseClient {
  readonly events: SseEvent[] = []
  heartbeats = 0
  status = 0
  headers: IncomingMessage['headers'] = {}
  ended = false
  private text = ''
  private constructor (private readonly req: ClientRequest, private res?: IncomingMessage) {}

  static async open (port: number, path: string, headers: Record<string, string> = {}, options: { reading?: boolean } = {}): Promise<SseClient> {
    return await new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, headers: { accept: 'text/event-stream', ...headers } })
      const client = new SseClient(req)
      req.on('error', () => undefined)
      req.on('response', (res) => {
        client.res = res
        client.status = res.statusCode ?? 0
        client.headers = res.headers
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => client.parse(chunk))
        res.on('end', () => { client.ended = true })
        res.on('error', () => undefined)
        if (options.reading === false) res.pause()
        resolve(client)
      })
      req.once('error', reject)
      req.end()
    })
  }

  private parse (chunk: string): void {
    this.text += chunk
    let cut: number
    while ((cut = this.text.indexOf('\n\n')) >= 0) {
      const block = this.text.slice(0, cut)
      this.text = this.text.slice(cut + 2)
      if (block.startsWith(': heartbeat')) { this.heartbeats++; continue }
      const e: Partial<SseEvent> & { raw?: string } = {}
      // As an EventSource does: the data lines of an event, joined by line breaks.
      const data: string[] = []
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) e.event = line.slice(7)
        else if (line.startsWith('id: ')) e.id = line.slice(4)
        else if (line.startsWith('data: ')) data.push(line.slice(6))
      }
      if (data.length > 0) e.data = JSON.parse(data.join('\n')) as unknown
      this.events.push({ event: e.event ?? 'message', data: e.data, ...(e.id !== undefined ? { id: e.id } : {}) })
    }
  }

  records (): Array<ConsumedRecord & { id: string }> {
    return this.events.filter((e) => e.event === 'record').map((e) => ({ ...(e.data as ConsumedRecord), id: e.id ?? '' }))
  }

  stream (): string { return (this.events.find((e) => e.event === 'open')?.data as { stream: string }).stream }

  /** The partitions held now: every assigned minus every revoked, in order. */
  held (): string[] {
    const held = new Set<string>()
    for (const e of this.events) {
      if (e.event !== 'assigned' && e.event !== 'revoked') continue
      for (const p of (e.data as Partitions).partitions) {
        if (e.event === 'assigned') held.add(`${p.topic}:${p.partition}`); else held.delete(`${p.topic}:${p.partition}`)
      }
    }
    return [...held].sort()
  }

  resume (): void { this.res?.resume() }
  close (): void { this.req.destroy() }
}

/** A WebSocket client: every frame parsed as it comes. */
class WsClient {
  readonly messages: Array<{ type: string, [k: string]: unknown }> = []
  closeCode?: number
  private constructor (readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => { this.messages.push(JSON.parse(data.toString('utf8')) as { type: string }) })
    ws.on('close', (code) => { this.closeCode = code })
  }

  static async open (port: number, path: string): Promise<WsClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`)
    const client = new WsClient(ws)
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    return client
  }

  records (): Array<ConsumedRecord & { id: string }> {
    return this.messages.filter((m) => m.type === 'record') as unknown as Array<ConsumedRecord & { id: string }>
  }

  errors (): string[] { return this.messages.filter((m) => m.type === 'error').map((m) => String(m.message)) }
  assignedCount (): number { return this.messages.filter((m) => m.type === 'assigned').reduce((n, m) => n + (m.partitions as unknown[]).length, 0) }
}

/** Produces `count` records, `perPartition` each to partitions 0..n-1 in turn: values {"i": n}. */
async function produce (t: Test, topic: string, count: number, partitions = 1, value: (i: number) => unknown = (i) => ({ i })): Promise<void> {
  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  for (let from = 0; from < count; from += 100) {
    const messages = Array.from({ length: Math.min(100, count - from) }, (_, n) => ({ partition: (from + n) % partitions, value: JSON.stringify(value(from + n)) }))
    await producer.send({ topic, messages })
  }
}

/** The group's committed offsets of the topic, by partition (-1 where none). */
async function committed (t: Test, group: string, topic: string): Promise<Record<number, number>> {
  const admin = await adminClient(t)
  const [result] = await admin.fetchOffsets({ groupId: group, topics: [topic] })
  return Object.fromEntries((result?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]))
}

function assertError (t: Test, res: LightMyRequestResponse, status: number, code: string, message?: RegExp): void {
  t.equal(res.statusCode, status, `HTTP ${status}`)
  const body = res.json<{ status: number, code: string, message: string, requestId: string }>()
  t.same(Object.keys(body).sort(), ['code', 'message', 'requestId', 'status'], 'the Kosha error shape')
  t.equal(body.code, code, `code ${code}`)
  if (message) t.match(body.message, message, 'the message says what went wrong')
}

/** Live streams, as /metrics tells them. */
async function liveStreams (app: FastifyInstance): Promise<number> {
  const body = (await app.inject({ method: 'GET', url: '/metrics' })).body
  return Number(/^kosha_streams (\d+)$/m.exec(body)?.[1] ?? NaN)
}

const valuesOf = (records: ConsumedRecord[]): number[] => records.map((r) => (r.value as { i: number }).i).sort((a, b) => a - b)
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i)

t.test('refusals before a stream starts: 400 for malformed requests, 404 for a missing topic', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { prefix: 'stream-refuse' })
  const get = (url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> => app.inject({ method: 'GET', url, headers })
  const group = uniqueName('g')
  assertError(t, await get(`${API}/${group}`), 400, 'KOSHA_VALIDATION_FAILED', /topics .*or pattern/)
  assertError(t, await get(`${API}/${group}?topics=${topic}&pattern=x.*`), 400, 'KOSHA_VALIDATION_FAILED', /one of them/)
  assertError(t, await get(`${API}/${group}?topics=a%20b`), 400, 'KOSHA_VALIDATION_FAILED', /'a b' is not a topic name/)
  assertError(t, await get(`${API}/${group}?topics=,,`), 400, 'KOSHA_VALIDATION_FAILED', /names no topic/)
  assertError(t, await get(`${API}/${group}?pattern=(unclosed`), 400, 'KOSHA_VALIDATION_FAILED', /not a regular expression/)
  // Valid in JavaScript, refused by librdkafka's POSIX regular expressions: still a 400, before anything is streamed.
  assertError(t, await get(`${API}/${group}?pattern=${encodeURIComponent('(?=a)b')}`), 400, 'KOSHA_VALIDATION_FAILED', /not a regular expression Kafka's client accepts/)
  assertError(t, await get(`${API}/has%20space?topics=${topic}`), 400, 'KOSHA_VALIDATION_FAILED', /params\/group/)
  assertError(t, await get(`${API}/${group}?topics=${topic}&offset=middle`), 400, 'KOSHA_VALIDATION_FAILED', /offset must be one of: earliest, latest/)
  assertError(t, await get(`${API}/${group}?topics=${topic}&commit=sometimes`), 400, 'KOSHA_VALIDATION_FAILED', /commit must be one of: manual, auto/)
  assertError(t, await get(`${API}/${group}?topics=${topic}`, { 'last-event-id': 'nonsense' }), 400, 'KOSHA_VALIDATION_FAILED', /Last-Event-ID 'nonsense' is not a record id/)
  assertError(t, await get(`${API}/${group}?topics=${topic}&lastEventId=${topic}:x:1`), 400, 'KOSHA_VALIDATION_FAILED', /lastEventId .* is not a record id/)
  const missing = uniqueName('no-such-topic')
  assertError(t, await get(`${API}/${group}?topics=${topic},${missing}`), 404, 'KOSHA_TOPIC_NOT_FOUND', new RegExp(`'${missing}' does not exist`))
  t.equal(await liveStreams(app), 0, 'no refused request left a stream behind')

  const commit = (stream: string, body: unknown): Promise<LightMyRequestResponse> => app.inject({ method: 'POST', url: `${API}/${group}/${stream}/commit`, payload: body as object })
  assertError(t, await commit('no-such-stream', { lastEventId: `${topic}:0:0` }), 404, 'KOSHA_STREAM_NOT_FOUND', /does not exist/)
  assertError(t, await commit('no-such-stream', {}), 400, 'KOSHA_VALIDATION_FAILED', /lastEventId is required/)
})

t.test('two SSE streams of one group split the partitions; closing one hands its partitions and unacknowledged records over', async (t) => {
  const app = await build(t)
  const port = await listen(app)
  const topic = await createTopic(t, { prefix: 'stream-split', partitions: 4 })
  const group = uniqueName('g')
  const path = `${API}/${group}?topics=${topic}&offset=earliest`

  const a = await SseClient.open(port, path)
  t.equal(a.status, 200)
  t.match(a.headers['content-type'], /^text\/event-stream/)
  await until('the first stream to hold every partition', () => a.held().length === 4)
  const b = await SseClient.open(port, path)
  await until('the two streams to split the partitions', () => a.held().length === 2 && b.held().length === 2)
  t.same([...a.held(), ...b.held()].sort(), [0, 1, 2, 3].map((p) => `${topic}:${p}`).sort(), 'together they hold the four partitions')
  t.match(a.events[0], { event: 'open', data: { group, commit: 'manual' } }, 'the first event is open')

  await produce(t, topic, 40, 4)
  await until('40 records between the two streams', () => a.records().length + b.records().length >= 40)
  const first = [...a.records(), ...b.records()]
  t.same(valuesOf(first), range(0, 40), 'every record exactly once while both live')
  t.ok(a.records().length > 0 && b.records().length > 0, 'both streams got records')
  for (const r of first) t.equal(r.id, `${r.topic}:${r.partition}:${r.offset}`, 'a record\'s id is topic:partition:offset')

  // A acknowledges all it got (the last record acknowledges every one before it); B acknowledges nothing.
  const lastOfA = a.records().at(-1)?.id ?? ''
  const commit = await app.inject({ method: 'POST', url: `${API}/${group}/${a.stream()}/commit`, payload: { lastEventId: lastOfA } })
  t.equal(commit.statusCode, 200)
  const expected = Object.fromEntries(a.held().map((key) => {
    const p = Number(key.split(':').at(-1))
    return [p, Math.max(...a.records().filter((r) => r.partition === p).map((r) => r.offset)) + 1]
  }))
  t.same(Object.fromEntries(commit.json<{ committed: Array<{ partition: number, offset: number }> }>().committed.map((c) => [c.partition, c.offset])), expected,
    'the commit call commits, per partition of A, the offset after its last record')
  const notSent = await app.inject({ method: 'POST', url: `${API}/${group}/${a.stream()}/commit`, payload: { lastEventId: `${topic}:0:999` } })
  assertError(t, notSent, 409, 'KOSHA_RECORD_NOT_DELIVERED', /never delivered/)
  assertError(t, await app.inject({ method: 'POST', url: `${API}/${group}/${a.stream()}/commit`, payload: { lastEventId: 'garbage' } }), 400, 'KOSHA_VALIDATION_FAILED', /not a record id/)
  assertError(t, await app.inject({ method: 'POST', url: `${API}/other-group/${a.stream()}/commit`, payload: { lastEventId: lastOfA } }), 404, 'KOSHA_STREAM_NOT_FOUND')

  const before = a.records().length
  const closedAt = Date.now()
  b.close()
  await until('A to hold every partition again', () => a.held().length === 4)
  // What a handover costs: the pause before the remaining stream holds the partitions (the group's rebalance).
  t.comment(`handover: A held B's partitions ${Date.now() - closedAt} ms after B closed`)
  await until('B\'s unacknowledged records to reach A', () => a.records().length - before >= b.records().length)
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.same(valuesOf(a.records().slice(before)), valuesOf(b.records()), 'A gets exactly what B received and never acknowledged: no record missing, A\'s acknowledged ones not again')
  await produce(t, topic, 8, 4, (i) => ({ i: 100 + i }))
  await until('the new records', () => a.records().length - before >= b.records().length + 8)
  t.same(valuesOf(a.records().slice(before + b.records().length)), range(100, 108), 'and then the records produced after the handover')
  a.close()
  await until('the streams to be closed', async () => await liveStreams(app) === 0)
})

t.test('offset=latest: a partition starts at its end as of the assigned event, so a record produced right after it arrives', async (t) => {
  const app = await build(t)
  const port = await listen(app)
  const topic = await createTopic(t, { prefix: 'stream-latest', partitions: 2 })
  const group = uniqueName('g')
  await produce(t, topic, 6, 2)
  const opened = Date.now()
  const s = await SseClient.open(port, `${API}/${group}?topics=${topic}`)
  await until('the assignment', () => s.held().length === 2)
  t.comment(`a new stream held its partitions ${Date.now() - opened} ms after it was opened`)
  t.same(await committed(t, group, topic), { 0: 3, 1: 3 }, 'the start was fixed and committed before the assigned event')
  await produce(t, topic, 2, 2, (i) => ({ i: 100 + i }))
  await until('the two new records', () => s.records().length >= 2)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.same(valuesOf(s.records()), [100, 101], 'the records produced right after the event, and none from before it')

  // A value produced as pretty-printed JSON spans several data lines; the client reads the same value.
  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  await producer.send({ topic, messages: [{ partition: 0, value: '{\n  "i": 200,\r\n  "big": 12345678901234567890123\n}' }] })
  await until('the pretty-printed record', () => s.records().some((r) => (r.value as { i?: number }).i === 200))
  t.match(s.records().find((r) => (r.value as { i?: number }).i === 200), { valueEncoding: 'json', value: { i: 200 } }, 'a multi-line JSON value arrives whole')
  s.close()
})

t.test('Last-Event-ID resumes right after that record; unacknowledged records come back after a reconnect', async (t) => {
  const app = await build(t)
  const port = await listen(app)
  const topic = await createTopic(t, { prefix: 'stream-resume' })
  const group = uniqueName('g')
  await produce(t, topic, 10)

  const first = await SseClient.open(port, `${API}/${group}?topics=${topic}&offset=earliest`)
  await until('10 records', () => first.records().length === 10)
  first.close()
  await until('the first stream to close', async () => await liveStreams(app) === 0)

  const again = await SseClient.open(port, `${API}/${group}?topics=${topic}&offset=earliest`)
  await until('the 10 unacknowledged records again', () => again.records().length === 10)
  t.same(valuesOf(again.records()), range(0, 10), 'nothing was acknowledged: all ten come again')
  const sixth = again.records()[5]?.id ?? ''
  again.close()
  await until('the second stream to close', async () => await liveStreams(app) === 0)

  // A reconnecting EventSource sends the id of the last event it received.
  const resumed = await SseClient.open(port, `${API}/${group}?topics=${topic}&offset=earliest`, { 'last-event-id': sixth })
  await until('the records after the sixth', () => resumed.records().length === 4)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.same(valuesOf(resumed.records()), range(6, 10), 'it starts right after the Last-Event-ID: no gap, no repeat')
  t.same(await committed(t, group, topic), { 0: 6 }, 'and the group committed past that record')
  resumed.close()

  // The query parameter does the same for clients that cannot send the header; a committed offset past it wins.
  await until('the third stream to close', async () => await liveStreams(app) === 0)
  const ws = await WsClient.open(port, `${API}/${group}?topics=${topic}&lastEventId=${topic}:0:2`)
  await until('the records after the committed offset', () => ws.records().length === 4)
  t.same(valuesOf(ws.records()), range(6, 10), 'an older lastEventId does not move the group back')
  ws.ws.close()
})

t.test('WebSocket: acks commit; garbage gets an error frame and the stream stays open; auto-commit over SSE', async (t) => {
  const app = await build(t)
  const port = await listen(app)
  const topic = await createTopic(t, { prefix: 'stream-ws' })
  const group = uniqueName('g')
  await produce(t, topic, 10)

  const ws = await WsClient.open(port, `${API}/${group}?topics=${topic}&offset=earliest`)
  await until('10 records', () => ws.records().length === 10)
  t.match(ws.messages[0], { type: 'open', group, commit: 'manual' }, 'the first frame is open')
  t.ok(ws.assignedCount() >= 1, 'an assigned frame came')
  t.match(ws.records()[3], { type: 'record', id: `${topic}:0:3`, topic, partition: 0, offset: 3, value: { i: 3 }, valueEncoding: 'json' }, 'a record frame is the id and the ConsumedRecord')

  for (const garbage of ['not json', '[1,2]', '{"type":"nack"}', '{"type":"ack"}', '{"type":"ack","id":"nope"}', `{"type":"ack","id":"${topic}:0:50"}`]) ws.ws.send(garbage)
  ws.ws.send(Buffer.from([1, 2, 3]), { binary: true })
  await until('an error frame for each malformed message', () => ws.errors().length === 7)
  t.match(ws.errors(), [/not JSON/, /JSON object/, /Unknown message type/, /needs "id"/, /not a record id/, /never delivered/, /Binary/], 'each says what is wrong')
  t.equal(ws.ws.readyState, WebSocket.OPEN, 'the stream stays open')

  ws.ws.send(JSON.stringify({ type: 'ack', id: `${topic}:0:5` }))
  await until('the ack to be committed', async () => (await committed(t, group, topic))[0] === 6)
  t.pass('acknowledging offset 5 committed 6 (it and every record before it)')
  ws.ws.close()
  await until('the stream to close', async () => await liveStreams(app) === 0)

  const next = await WsClient.open(port, `${API}/${group}?topics=${topic}&offset=earliest`)
  await until('the unacknowledged records', () => next.records().length === 4)
  t.same(valuesOf(next.records()), range(6, 10), 'a new stream of the group continues after the acknowledged records')
  next.ws.close()

  const autoGroup = uniqueName('g')
  const auto = await SseClient.open(port, `${API}/${autoGroup}?topics=${topic}&offset=earliest&commit=auto`)
  await until('10 records', () => auto.records().length === 10)
  t.match(auto.events[0], { event: 'open', data: { commit: 'auto' } })
  await until('auto-commit of every record written', async () => (await committed(t, autoGroup, topic))[0] === 10)
  t.pass('commit=auto committed every record written to the connection')
  auto.close()
})

t.test('STREAM_MAX: the next stream is refused with 429 before it starts, an upgrade too; heartbeats', async (t) => {
  const app = await build(t, { env: { STREAM_MAX: '1', STREAM_HEARTBEAT_MS: '200' } })
  const port = await listen(app)
  const topic = await createTopic(t, { prefix: 'stream-max' })
  const group = uniqueName('g')
  const one = await SseClient.open(port, `${API}/${group}?topics=${topic}`)
  t.equal(one.status, 200)
  const refused = await app.inject({ method: 'GET', url: `${API}/${group}?topics=${topic}` })
  assertError(t, refused, 429, 'KOSHA_TOO_MANY_STREAMS', /STREAM_MAX/)
  t.equal(refused.headers['retry-after'], '5', 'with Retry-After')
  const upgrade = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${API}/${group}?topics=${topic}`)
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate() })
    ws.on('open', () => { resolve(101); ws.close() })
    ws.on('error', () => undefined)
  })
  t.equal(upgrade, 429, 'the WebSocket upgrade is answered 429 over HTTP')
  const badUpgrade = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${API}/${group}`)
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate() })
    ws.on('open', () => { resolve(101); ws.close() })
    ws.on('error', () => undefined)
  })
  t.equal(badUpgrade, 400, 'a malformed upgrade is a 400 before the upgrade')
  await until('heartbeats', () => one.heartbeats >= 2)
  t.pass('an idle stream writes `: heartbeat` comments')
  one.close()
  await until('the stream to close', async () => await liveStreams(app) === 0)
  t.equal((await SseClient.open(port, `${API}/${group}?topics=${topic}`)).status, 200, 'a closed stream frees its place')
})

t.test('a client that stops reading: the stream pauses and the service\'s memory stays bounded', async (t) => {
  const app = await build(t)
  const port = await listen(app)
  const topic = await createTopic(t, { prefix: 'stream-slow', partitions: 4 })
  const group = uniqueName('g')
  const RECORDS = 3000
  const pad = 'x'.repeat(10_000)
  await produce(t, topic, RECORDS, 4, (i) => ({ i, pad }))
  const producedMb = RECORDS * 10_000 / 1e6

  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  const heap = (): number => { gc(); gc(); const m = process.memoryUsage(); return m.heapUsed + m.external + m.arrayBuffers }
  const heapBefore = heap()
  const rssBefore = process.memoryUsage().rss

  const slow = await SseClient.open(port, `${API}/${group}?topics=${topic}&offset=earliest&commit=auto`, {}, { reading: false })
  const metric = async (): Promise<string> => (await app.inject({ method: 'GET', url: '/metrics' })).body
  await until('the stream to pause', async () => /^kosha_streams_paused 1$/m.test(await metric()), 30_000)
  const heapGrowthMb = (heap() - heapBefore) / 2 ** 20
  const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20
  t.comment(`${producedMb} MB produced, client not reading: JS heap+buffers grew ${heapGrowthMb.toFixed(1)} MiB, RSS ${rssGrowthMb.toFixed(1)} MiB`)
  // The bound: STREAM_BUFFER_BYTES (1 MiB) and one poll's records (a poll asks for what fits in the buffer), the
  // chunk being written, this test's own client; generously 16 MiB of JS memory. Buffering all would take 30 MB.
  t.ok(heapGrowthMb < 16, `JS memory grew ${heapGrowthMb.toFixed(1)} MiB < 16 MiB with ${producedMb} MB waiting`)
  t.ok(rssGrowthMb < 96, `RSS grew ${rssGrowthMb.toFixed(1)} MiB < 96 MiB (librdkafka's fetch queue included)`)

  slow.resume()
  await until('every record once the client reads', () => slow.records().length >= RECORDS, 60_000)
  t.equal(new Set(slow.records().map((r) => r.id)).size, RECORDS, `all ${RECORDS} records arrive, none lost while paused`)
  await until('the stream to resume', async () => /^kosha_streams_paused 0$/m.test(await metric()))
  slow.close()
})

t.test('shutdown: streams commit what was acknowledged, SSE gets end, WebSocket closes with 1001', async (t) => {
  const app = await build(t)
  const port = await listen(app)
  const topic = await createTopic(t, { prefix: 'stream-shutdown', partitions: 2 })
  const sseGroup = uniqueName('g')
  const wsGroup = uniqueName('g')
  await produce(t, topic, 20, 2)
  const sse = await SseClient.open(port, `${API}/${sseGroup}?topics=${topic}&offset=earliest&commit=auto`)
  const ws = await WsClient.open(port, `${API}/${wsGroup}?topics=${topic}&offset=earliest`)
  await until('the records on both', () => sse.records().length === 20 && ws.records().length === 20)
  const acked = ws.records().find((r) => r.partition === 0 && r.offset === 4)
  ws.ws.send(JSON.stringify({ type: 'ack', id: acked?.id }))
  await new Promise((resolve) => setTimeout(resolve, 20))
  await app.close()
  t.match(sse.events.at(-1), { event: 'end', data: { reason: 'shutdown' } }, 'the SSE stream ends with an end event')
  await until('the SSE response to end', () => sse.ended)
  await until('the WebSocket to close', () => ws.closeCode !== undefined)
  t.equal(ws.closeCode, 1001, 'the WebSocket closes with 1001 (going away)')
  t.same(await committed(t, sseGroup, topic), { 0: 10, 1: 10 }, 'auto: every record written was committed')
  const before = ws.records().slice(0, ws.records().indexOf(acked as ConsumedRecord & { id: string }))
  const onOne = before.filter((r) => r.partition === 1).map((r) => r.offset + 1)
  const wsCommitted = await committed(t, wsGroup, topic)
  t.same([wsCommitted[0], wsCommitted[1] ?? -1], [5, onOne.length > 0 ? Math.max(...onOne) : -1],
    'manual: the acknowledged record and every record delivered before it were committed, nothing after')
})
