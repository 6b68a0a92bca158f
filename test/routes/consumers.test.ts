// /api/v1/consumers against the real broker: creating, subscribing, consuming (with the encodings a user sees),
// concurrent consumes, commits, the at-least-once delivery guarantee, deleting and idle expiry.
// Records are written by independent clients (kcat, or the KafkaJS producer for raw bytes), never by the service.
import { connect, type AddressInfo, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { build } from '../helper'
import { createTopic, kafkaClient, uniqueName } from '../kafka'
import { kcatConsume, kcatProduce } from '../kcat'

const API = '/api/v1/consumers'
/** Long enough for a new consumer's first fetch, which waits for its group join. */
const WAIT_MS = 10_000

interface ErrorBody { status: number, code: string, message: string, requestId: string }
interface Header { key: string, value: string | null, valueEncoding: string }
interface ConsumedRecord {
  topic: string
  partition: number
  offset: number
  key: string | null
  keyEncoding: string | null
  value: unknown
  valueEncoding: string | null
  timestamp: number
  headers: Header[]
}

function createConsumer (app: FastifyInstance, body: Record<string, unknown>): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: API, payload: body })
}

function subscribe (app: FastifyInstance, name: string, topic: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: `${API}/${name}/subscribe`, payload: { name: topic } })
}

function consume (app: FastifyInstance, name: string, timeout: number | string = WAIT_MS): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url: `${API}/${name}/consume?timeout=${timeout}` })
}

function deleteConsumer (app: FastifyInstance, name: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'DELETE', url: `${API}/${name}` })
}

/** A consumer (offset earliest unless told) subscribed to `topic`, both steps checked. */
async function subscribedConsumer (t: Test, app: FastifyInstance, topic: string, options: { name?: string, groupId?: string } = {}): Promise<string> {
  const name = options.name ?? uniqueName('c')
  const created = await createConsumer(app, { name, offset: 'earliest', ...(options.groupId !== undefined ? { groupId: options.groupId } : {}) })
  t.equal(created.statusCode, 200, `consumer '${name}' created`)
  const subscribed = await subscribe(app, name, topic)
  t.equal(subscribed.statusCode, 200, `consumer '${name}' subscribed to '${topic}'`)
  return name
}

/** The status, and exactly the error shape of openapi.json: {status, code, message, requestId}. */
function assertError (t: Test, res: LightMyRequestResponse, status: number, code: string, message?: RegExp): void {
  t.equal(res.statusCode, status, `HTTP ${status}`)
  const body = res.json<ErrorBody>()
  t.same(Object.keys(body).sort(), ['code', 'message', 'requestId', 'status'], 'the body has exactly status, code, message, requestId')
  t.equal(body.status, status, 'status repeats the HTTP status')
  t.equal(body.code, code, `code ${code}`)
  t.type(body.message, 'string')
  t.ok(body.message.length > 0, 'a message in words')
  if (message) t.match(body.message, message, 'the message says what went wrong')
  t.equal(body.requestId, res.headers['x-request-id'], 'requestId is the X-Request-Id of the response')
}

/** The record a 200 carries; any other answer throws, which fails the test with what came instead. */
function record (res: LightMyRequestResponse): ConsumedRecord {
  if (res.statusCode !== 200) throw new Error(`expected a record, got HTTP ${res.statusCode} ${JSON.stringify(res.body)}`)
  return res.json<ConsumedRecord>()
}

t.test('POST /api/v1/consumers creates a consumer, refuses a duplicate and bad bodies', async (t) => {
  const app = await build(t)

  const name = uniqueName('c')
  const created = await createConsumer(app, { name })
  t.equal(created.statusCode, 200)
  t.same(created.json(), { result: 'success', name, groupId: `kosha-${name}` }, 'its group is kosha-<name> by default')

  const named = uniqueName('c')
  const groupId = uniqueName('group')
  const withGroup = await createConsumer(app, { name: named, groupId, offset: 'earliest' })
  t.equal(withGroup.statusCode, 200)
  t.same(withGroup.json(), { result: 'success', name: named, groupId }, 'a given groupId is used')

  const duplicate = await createConsumer(app, { name, offset: 'earliest' })
  assertError(t, duplicate, 409, 'KOSHA_CONSUMER_EXISTS', new RegExp(`'${name}' already exists`))

  assertError(t, await createConsumer(app, {}), 400, 'KOSHA_VALIDATION_FAILED', /body\/name is required/)
  const refused = uniqueName('c')
  assertError(t, await createConsumer(app, { name: refused, offset: 'middle' }), 400, 'KOSHA_VALIDATION_FAILED',
    /body\/offset must be one of: earliest, latest/)
  assertError(t, await createConsumer(app, { name: 'has a space' }), 400, 'KOSHA_VALIDATION_FAILED', /body\/name is not valid/)

  t.equal((await createConsumer(app, { name: refused })).statusCode, 200, 'a refused request reserved no name')
})

t.test('subscribe: unknown consumer and topic are 404; subscriptions accumulate', async (t) => {
  const app = await build(t)
  const first = await createTopic(t, { prefix: 'sub' })
  const second = await createTopic(t, { prefix: 'sub' })

  assertError(t, await subscribe(app, uniqueName('nobody'), first), 404, 'KOSHA_CONSUMER_NOT_FOUND')

  const name = uniqueName('c')
  t.equal((await createConsumer(app, { name })).statusCode, 200)
  const missing = uniqueName('no-such-topic')
  assertError(t, await subscribe(app, name, missing), 404, 'KOSHA_TOPIC_NOT_FOUND', new RegExp(`'${missing}' does not exist`))

  const one = await subscribe(app, name, first)
  t.equal(one.statusCode, 200)
  t.same(one.json(), { result: 'success', topics: [first] })

  const two = await subscribe(app, name, second)
  t.equal(two.statusCode, 200)
  t.same(two.json(), { result: 'success', topics: [first, second] }, 'a second subscribe adds to the list')
})

t.test('consume: errors, then records as kcat and a producer wrote them, then 204', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { prefix: 'consume' })

  assertError(t, await consume(app, uniqueName('nobody'), 300), 404, 'KOSHA_CONSUMER_NOT_FOUND')
  const lonely = uniqueName('c')
  t.equal((await createConsumer(app, { name: lonely })).statusCode, 200)
  assertError(t, await consume(app, lonely, 300), 409, 'KOSHA_CONSUMER_NOT_SUBSCRIBED')

  const json = { orderId: 42, items: ['a', 'b'], paid: true }
  await kcatProduce(topic, [
    { key: 'customer-7', value: JSON.stringify(json), headers: { trace: 'abc-123' } },
    { value: 'hello world' }
  ])
  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  const invalidUtf8 = Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0x00, 0x80])
  const [sent] = await producer.send({ topic, messages: [{ value: invalidUtf8 }] })
  const written = await kcatConsume(topic, 3)
  t.equal(written.length, 3, 'kcat sees the three records')

  const name = await subscribedConsumer(t, app, topic)
  const before = Date.now()

  const r0 = await consume(app, name)
  t.equal(r0.statusCode, 200, 'the JSON record')
  const j = record(r0)
  t.same(j, {
    topic,
    partition: written[0]?.partition,
    offset: written[0]?.offset,
    key: 'customer-7',
    keyEncoding: 'text',
    value: json,
    valueEncoding: 'json',
    timestamp: written[0]?.ts,
    headers: [{ key: 'trace', value: 'abc-123', valueEncoding: 'text' }]
  }, 'JSON comes parsed, with its key, header, and the partition, offset and timestamp kcat reads')
  t.type(j.timestamp, 'number')
  t.ok(j.timestamp > before - 10 * 60_000 && j.timestamp <= Date.now(), 'the timestamp is ms since the epoch, recent')

  const r1 = await consume(app, name)
  t.equal(r1.statusCode, 200, 'the text record')
  t.same(record(r1), {
    topic,
    partition: written[1]?.partition,
    offset: written[1]?.offset,
    key: null,
    keyEncoding: null,
    value: 'hello world',
    valueEncoding: 'text',
    timestamp: written[1]?.ts,
    headers: []
  }, 'text that is not JSON comes back as text; no key is null')

  const r2 = await consume(app, name)
  t.equal(r2.statusCode, 200, 'the binary record')
  const b = record(r2)
  t.equal(b.valueEncoding, 'base64', 'bytes that are not UTF-8 come base64')
  t.equal(b.value, invalidUtf8.toString('base64'))
  t.same(Buffer.from(String(b.value), 'base64'), invalidUtf8, 'and decode to the bytes the producer sent')
  t.equal(b.partition, sent?.partition, 'at the partition the producer was told')
  t.equal(String(b.offset), sent?.baseOffset, 'at the offset the producer was told')
  t.type(b.timestamp, 'number')

  const none = await consume(app, name, 300)
  t.equal(none.statusCode, 204, 'no record within ?timeout=300 is 204')
  t.equal(none.body, '', 'with an empty body')

  assertError(t, await consume(app, name, 99999), 400, 'KOSHA_VALIDATION_FAILED', /timeout/)
  assertError(t, await consume(app, name, 'soon'), 400, 'KOSHA_VALIDATION_FAILED', /timeout/)
})

t.test('50 concurrent consumes on one consumer: each of 40 records exactly once, no errors', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { prefix: 'concurrent', partitions: 3 })
  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  await producer.send({ topic, messages: Array.from({ length: 40 }, (_, i) => ({ key: `k${i % 7}`, value: JSON.stringify({ i }) })) })

  const name = await subscribedConsumer(t, app, topic)
  const responses = await Promise.all(Array.from({ length: 50 }, () => consume(app, name, WAIT_MS)))

  const statuses = responses.map((r) => r.statusCode)
  t.same(statuses.filter((s) => s !== 200 && s !== 204), [], 'no request errors: every status is 200 or 204')
  const records = responses.filter((r) => r.statusCode === 200).map(record)
  t.equal(records.length, 40, 'exactly 40 are 200')
  const positions = new Set(records.map((r) => `${r.partition}:${r.offset}`))
  t.equal(positions.size, 40, 'the 40 (partition, offset) pairs are distinct: nothing is delivered twice')
  const seen = records.map((r) => (r.value as { i: number }).i).sort((a, b) => a - b)
  t.same(seen, Array.from({ length: 40 }, (_, i) => i), 'every record produced came back: nothing is lost')
})

t.test('records returned are committed: a new consumer in the same group continues after them', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { prefix: 'commit' })
  await kcatProduce(topic, [{ value: 'first' }, { value: 'second' }, { value: 'third' }])
  const groupId = uniqueName('group')

  const name = await subscribedConsumer(t, app, topic, { groupId })
  const a = await consume(app, name)
  const b = await consume(app, name)
  t.same([a.statusCode, b.statusCode], [200, 200], 'two records consumed')
  t.same([record(a).value, record(b).value], ['first', 'second'])

  const deleted = await deleteConsumer(app, name)
  t.equal(deleted.statusCode, 200, 'the consumer is deleted')

  const next = await subscribedConsumer(t, app, topic, { groupId })
  const c = await consume(app, next)
  t.equal(c.statusCode, 200, 'the new consumer gets a record')
  t.equal(record(c).value, 'third', 'the third: the first two were committed, although offset is earliest')
  t.equal(record(c).offset, 2)
})

/** Sends a raw GET on its own TCP connection; every byte the server answers lands in `received`. */
async function rawGet (port: number, path: string, received: Buffer[]): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1' })
  socket.on('data', (chunk: Buffer) => received.push(chunk))
  socket.on('error', () => undefined)
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('error', reject)
  })
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)
  return socket
}

async function listen (app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as AddressInfo).port
}

t.test('delivery guarantee: a consume whose client went away takes no record', async (t) => {
  // A client asks for a record with a long wait, then hangs up before any record exists. Only then is a record
  // produced. The abandoned request must not take it (or, if it did, must give it back): the next consume gets it.
  // Were the abandoned request to keep polling and commit what it took, the record would be lost and the last
  // consume below would be a 204.
  const app = await build(t)
  const port = await listen(app)
  const topic = await createTopic(t, { prefix: 'abandoned' })
  const name = await subscribedConsumer(t, app, topic)

  const received: Buffer[] = []
  const socket = await rawGet(port, `${API}/${name}/consume?timeout=30000`, received)
  await sleep(50)
  socket.destroy()
  await sleep(1000) // the service notices the closed connection within one poll slice
  await kcatProduce(topic, [{ value: 'for whoever is still listening' }])

  const next = await consume(app, name)
  t.equal(next.statusCode, 200, 'the next consume gets a record')
  t.equal(record(next).value, 'for whoever is still listening', 'the one produced after the client left')
  t.equal(record(next).offset, 0)
  t.same(received, [], 'the client that left received nothing')
})

t.test('delivery guarantee: a record taken for a client that went away is returned again', async (t) => {
  // Consume A waits (nothing on the topic yet); consume B, on a raw connection, queues behind A, and its client
  // hangs up while it waits. Then two records are produced in one batch: A gets the first; when B's turn comes the
  // second is already fetched, so B takes it although its connection is gone. Its response cannot be written, so
  // the record must not be committed and must come back: consume C gets that same record. Were the guarantee
  // broken, C would get nothing (204), or hang behind B forever (C is bounded below, so that fails too).
  const logs: string[] = []
  const app = await build(t, { logs })
  const port = await listen(app)
  const topic = await createTopic(t, { prefix: 'redeliver' })
  const name = await subscribedConsumer(t, app, topic)

  const a = consume(app, name)
  await sleep(200)
  const received: Buffer[] = []
  const socket = await rawGet(port, `${API}/${name}/consume?timeout=30000`, received)
  await sleep(200)
  socket.destroy()
  await sleep(500)

  const producer = kafkaClient().producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())
  await producer.send({ topic, messages: [{ value: 'to A' }, { value: 'to B, then to C' }] })

  const first = await a
  t.equal(first.statusCode, 200, 'A gets a record')
  t.equal(record(first).value, 'to A')

  const c = await Promise.race([consume(app, name), sleep(WAIT_MS + 5000).then(() => undefined)])
  t.ok(c, 'consume C is answered: the abandoned request does not block the consumer')
  t.equal(c?.statusCode, 200, 'C gets a record')
  if (c) {
    t.equal(record(c).value, 'to B, then to C', 'the record taken for B, returned again')
    t.equal(record(c).offset, 1)
  }
  t.same(received, [], 'B\'s client received nothing')
  t.ok(logs.some((line) => line.includes('was not delivered: it will be returned again')), 'the service logged the redelivery')
})

t.test('DELETE /api/v1/consumers/{name}', async (t) => {
  const app = await build(t)
  assertError(t, await deleteConsumer(app, uniqueName('nobody')), 404, 'KOSHA_CONSUMER_NOT_FOUND')

  const topic = await createTopic(t, { prefix: 'delete' })
  const name = await subscribedConsumer(t, app, topic)
  const deleted = await deleteConsumer(app, name)
  t.equal(deleted.statusCode, 200)
  t.same(deleted.json(), { result: 'success', name })

  assertError(t, await consume(app, name, 300), 404, 'KOSHA_CONSUMER_NOT_FOUND', new RegExp(`'${name}' does not exist`))
  assertError(t, await deleteConsumer(app, name), 404, 'KOSHA_CONSUMER_NOT_FOUND', undefined)
  t.equal((await createConsumer(app, { name })).statusCode, 200, 'the name is free again')
})

t.test('an idle consumer expires after CONSUMER_IDLE_TIMEOUT_MS; one in a long poll does not', async (t) => {
  const app = await build(t, { env: { CONSUMER_IDLE_TIMEOUT_MS: '1500' } })
  const topic = await createTopic(t, { prefix: 'idle' })

  const idle = uniqueName('c')
  t.equal((await createConsumer(app, { name: idle })).statusCode, 200)
  const busy = await subscribedConsumer(t, app, topic)

  // The busy consumer waits longer than the idle timeout, in one request, while the idle one does nothing.
  const [longPoll] = await Promise.all([consume(app, busy, 2800), sleep(3000)])
  t.equal(longPoll.statusCode, 204, 'the long poll ends with 204')

  // Not subscribed, a live consumer would answer 409: 404 means it is gone.
  assertError(t, await consume(app, idle, 300), 404, 'KOSHA_CONSUMER_NOT_FOUND')
  t.equal((await consume(app, busy, 0)).statusCode, 204, 'the consumer that was busy is still there')

  const again = await createConsumer(app, { name: idle })
  t.equal(again.statusCode, 200, 'the expired name can be created again')
  t.same(again.json(), { result: 'success', name: idle, groupId: `kosha-${idle}` })
})
