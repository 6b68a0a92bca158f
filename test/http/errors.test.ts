import t from 'tap'
import Fastify from 'fastify'
import { Writable } from 'node:stream'
import { CONFLUENT_PATHS, errorHandler, familyOfPath, v3Error } from '../../http/errors'
import { CONFLUENT_SERVER_PREFIX } from '../../routes'
import {
  ConsumerExistsError, InternalError, KafkaInvalidRequestError, KafkaTimeoutError, KafkaUnavailableError, OffsetOutOfRangeError,
  TopicExistsError, TopicNotFoundError, KafkaNotAuthorizedError, UnauthorizedError, ValidationError
} from '../../lib/errors'
import { fromKafkaError } from '../../kafka/errors'
import { build } from '../helper'

t.test('an unclassified error is a 500 with a generic message, logged in full under the request id', async (t) => {
  const logs: string[] = []
  const app = Fastify({ logger: { level: 'info', stream: new Writable({ write (c: Buffer, _e, done) { logs.push(c.toString()); done() } }) } })
  app.setErrorHandler(errorHandler('kosha'))
  app.get('/boom', async () => { throw new Error('internal detail 7f3a') })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'GET', url: '/boom' })
  t.equal(res.statusCode, 500)
  const body = res.json()
  t.match(body, { status: 500, code: 'KOSHA_INTERNAL_ERROR', requestId: String })
  t.notMatch(body.message, /7f3a/, 'the detail stays out of the answer')
  t.match(body.message, body.requestId, 'the message names the request id')
  const logged = logs.find((l) => l.includes('internal detail 7f3a'))
  t.ok(logged, 'the detail is in the log')
  t.match(logged, `"reqId":"${body.requestId}"`, 'under the request id')
  const errorLines = logs.filter((l) => l.includes(`"reqId":"${body.requestId}"`) && l.includes('"level":50'))
  t.equal(errorLines.length, 1, 'logged once, not twice')
})

t.test('each API family answers in its own envelope, chosen by the route\'s context, not by its URL', async (t) => {
  const app = Fastify()
  for (const family of ['kosha', 'v2', 'v3'] as const) {
    await app.register(async (scope) => {
      scope.setErrorHandler(errorHandler(family))
      scope.get(`/${family}`, async () => { throw new TopicNotFoundError('orders') })
      scope.post(`/${family}/validated`, { schema: { body: { type: 'object', required: ['a'] } } }, async () => 'never')
    })
  }
  t.teardown(() => app.close())
  const kosha = await app.inject({ method: 'GET', url: '/kosha' })
  t.equal(kosha.statusCode, 404)
  t.match(kosha.json(), { status: 404, code: 'KOSHA_TOPIC_NOT_FOUND', message: "Topic 'orders' does not exist.", requestId: String })
  const v2 = await app.inject({ method: 'GET', url: '/v2' })
  t.equal(v2.statusCode, 404)
  t.same(v2.json(), { error_code: 40401, message: "Topic 'orders' does not exist." })
  t.match(v2.headers['content-type'], 'application/vnd.kafka.v2+json')
  const v3 = await app.inject({ method: 'GET', url: '/v3' })
  t.same(v3.json(), { error_code: 40403, message: "Topic 'orders' does not exist." })
  const malformed = async (family: string): Promise<number> => (await app.inject({ method: 'POST', url: `/${family}/validated`, payload: {} })).statusCode
  t.equal(await malformed('kosha'), 400, 'a malformed body is 400 on the Kosha API')
  t.equal(await malformed('v2'), 422, '422 on v2, as Confluent answers it')
  t.equal(await malformed('v3'), 400, '400 on v3, as Confluent\'s v3 spec declares it')
})

t.test('v3: the error_code is Confluent\'s, and a 4xx is answered with the status its code names', async (t) => {
  const v3 = (error: Parameters<typeof v3Error>[0], declared?: string[]): [number, number] => {
    const { status, body } = v3Error(error, 'req-1', declared)
    return [status, body.error_code]
  }
  const declared = ['200', '400', '401', '403', '404', '500', '503', '504']
  t.same(v3(new TopicExistsError('orders'), declared), [400, 40002], 'an existing topic: 400 with 40002, as Confluent answers it')
  t.same(v3(new TopicExistsError('orders'), [...declared, '409']), [400, 40002], 'even where 409 is declared: 40002 names 400')
  t.same(v3(new KafkaInvalidRequestError('Kafka refused the replication factor'), declared), [400, 40002])
  t.same(v3(new TopicNotFoundError('orders'), declared), [404, 40403], 'an unknown topic: 40403')
  t.same(v3(new TopicNotFoundError('orders'), ['200', '400']), [404, 40403], 'a 404 is kept where the operation omits it')
  t.same(v3(new UnauthorizedError('Bearer'), declared), [401, 40101])
  t.same(v3(new KafkaNotAuthorizedError('denied'), declared), [403, 40301])
  t.same(v3(new ValidationError('body/x must be integer.'), declared), [400, 400], 'a malformed body: the plain 400')
  t.same(v3(new ConsumerExistsError('c', 'g'), declared), [400, 400], 'an undeclared 409: the catch-all 400, and its plain code')
  t.same(v3(new OffsetOutOfRangeError('t', 0, 9, { low: 0, high: 1 }), declared), [400, 400], 'an undeclared 416 too')
  t.same(v3(new ConsumerExistsError('c', 'g'), [...declared, '409']), [409, 409], 'a declared 409 stays')
  t.same(v3(new KafkaUnavailableError('down'), declared), [503, 50003], 'retriable: our 503 with Confluent\'s 50003')
  t.same(v3(new KafkaTimeoutError('slow'), declared), [504, 50003], 'a timeout is retriable too: 504 with 50003')
  const internal = v3Error(new InternalError(new Error('detail')), 'req-1', declared)
  t.same([internal.status, internal.body.error_code], [500, 500], 'an internal error: the plain 500')
  t.match(internal.body.message, /req-1/, 'naming the request id')
  for (const [status, code] of [v3(new TopicNotFoundError('x'), declared), v3(new TopicExistsError('x'), declared), v3(new UnauthorizedError('Bearer'), declared)]) {
    t.equal(Math.floor(code / 100), status, `4xx: ${code}'s first three digits are the status ${status}`)
  }
})

t.test('a wrong Content-Type is told what to send in the media types of its API', async (t) => {
  const app = Fastify()
  // As http/layer.ts does: JSON bodies only.
  app.removeContentTypeParser('text/plain')
  for (const family of ['kosha', 'v2', 'v3'] as const) {
    await app.register(async (scope) => {
      scope.setErrorHandler(errorHandler(family))
      scope.post(`/${family}`, async () => 'never')
    })
  }
  t.teardown(() => app.close())
  const send = async (family: string): Promise<{ statusCode: number, body: { error_code?: number, message: string } }> => {
    const res = await app.inject({ method: 'POST', url: `/${family}`, headers: { 'content-type': 'text/plain' }, payload: 'x' })
    return { statusCode: res.statusCode, body: res.json() }
  }
  const kosha = await send('kosha')
  t.equal(kosha.statusCode, 415)
  t.match(kosha.body.message, /send application\/json\.$/, 'Kosha: application/json')
  const v2 = await send('v2')
  t.same([v2.statusCode, v2.body.error_code], [415, 41501])
  for (const type of ['application/vnd.kafka.json.v2+json', 'application/vnd.kafka.binary.v2+json', 'application/vnd.kafka.v2+json']) {
    t.ok(v2.body.message.includes(type), `v2 names ${type}`)
  }
  const v3 = await send('v3')
  t.same([v3.statusCode, v3.body.error_code], [415, 415], 'v3: 415 with the plain 415, as Confluent\'s spec shows it')
  t.match(v3.body.message, /send application\/json\.$/)
})

t.test('Kafka errors are classified by their numeric code', async (t) => {
  t.type(fromKafkaError({ code: 3, message: 'x' }, { topic: 'a' }), TopicNotFoundError)
  t.type(fromKafkaError({ code: 29 }, {}), KafkaNotAuthorizedError)
  t.type(fromKafkaError({ code: 7 }, {}), KafkaTimeoutError)
  t.type(fromKafkaError({ apiCode: 3 }, { topic: 'a' }), TopicNotFoundError, '@platformatic/kafka errors too')
  // What Kafka refuses as invalid is the caller's to fix (Confluent's 40002), whichever call met it.
  t.type(fromKafkaError({ code: 36 }, { topic: 'a' }), TopicExistsError, 'TOPIC_ALREADY_EXISTS')
  for (const [code, name] of [[37, 'INVALID_PARTITIONS'], [38, 'INVALID_REPLICATION_FACTOR'], [40, 'INVALID_CONFIG'], [44, 'POLICY_VIOLATION'],
    [17, 'INVALID_TOPIC_EXCEPTION'], [42, 'INVALID_REQUEST'], [73, 'TOPIC_DELETION_DISABLED'], [54, 'SECURITY_DISABLED'], [35, 'UNSUPPORTED_VERSION']] as const) {
    const error = fromKafkaError({ apiCode: code, message: 'x' }, { topic: 'a' })
    t.type(error, KafkaInvalidRequestError, `${name} (${code})`)
    t.equal(error.v3Code, 40002, `${name}: 40002 on v3`)
  }
  t.type(fromKafkaError({ code: 99999 }, {}), InternalError, 'an unknown code is internal')
  t.type(fromKafkaError(new Error('no code'), {}), InternalError)
})

t.test('a path no route serves is a 404 in the envelope of the API whose paths it is under', async (t) => {
  // Unknown v3 paths are not operations of Confluent's spec: collected here rather than failing the check.
  const mismatches: string[] = []
  const app = await build(t, { mismatches })
  const v3 = await app.inject({ method: 'GET', url: '/v3/clusters/any/no-such-resource' })
  t.equal(v3.statusCode, 404)
  t.same(v3.json(), { error_code: 404, message: 'No route GET /v3/clusters/any/no-such-resource: see /docs for the API.' })
  for (const url of ['/topics/x/no-such-thing', '/brokers/1/nothing', '/consumers/g/instances/i/nothing']) {
    const v2 = await app.inject({ method: 'GET', url })
    t.equal(v2.statusCode, 404, `${url}: 404`)
    t.same(Object.keys(v2.json()).sort(), ['error_code', 'message'], `${url}: Confluent's v2 envelope`)
    t.match(v2.headers['content-type'], 'application/vnd.kafka.v2+json')
  }
  const kosha = await app.inject({ method: 'GET', url: '/api/v2/anything' })
  t.match(kosha.json(), { status: 404, code: 'KOSHA_ROUTE_NOT_FOUND', requestId: String }, 'elsewhere, the Kosha shape')
  t.equal((await app.inject({ method: 'GET', url: '/topics' })).statusCode, 200, 'the routes under those paths still answer')
})

t.test('with HTTP authentication on, a 401 under a Confluent API\'s paths is in that API\'s envelope, routed or not', async (t) => {
  // Unknown v3 paths are not operations of Confluent's spec: collected here rather than failing the check.
  const mismatches: string[] = []
  const app = await build(t, { env: { API_KEYS: 'k1' }, mismatches })
  for (const url of ['/v3/clusters', '/v3/clusters/any/no-such-resource']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 401, `${url}: 401`)
    t.same(res.json(), { error_code: 40101, message: String(res.json().message) }, `${url}: Confluent's envelope with 40101`)
  }
  const v2 = await app.inject({ method: 'GET', url: '/topics/x/no-such-thing' })
  t.same([v2.statusCode, v2.json().error_code], [401, 40101], 'v2 too')
  t.match(v2.headers['content-type'], 'application/vnd.kafka.v2+json')
  t.match((await app.inject({ method: 'GET', url: '/api/v2/anything' })).json(), { status: 401, code: 'KOSHA_UNAUTHORIZED' }, 'elsewhere, the Kosha shape')
})

t.test('a path names its API family, for answers given before any route (the parser\'s 431, the router\'s 414)', async (t) => {
  t.ok(CONFLUENT_PATHS.some(([prefix, family]) => prefix === `${CONFLUENT_SERVER_PREFIX}/v3` && family === 'v3'), 'the v3 API under Confluent Server\'s base path too')
  const cases: Array<[string, string]> = [
    ['/v3/clusters', 'v3'], ['/kafka/v3/clusters/c/topics', 'v3'], ['/v3', 'v3'], ['/topics/orders', 'v2'], ['/topics?x=1', 'v2'],
    ['/brokers', 'v2'], ['/consumers/g/instances/i', 'v2'], ['/api/v1/consumers', 'kosha'], ['/topicsx', 'kosha'], ['/v3x', 'kosha'],
    ['/kafka/v2', 'kosha'], ['/healthz', 'kosha'], ['', 'kosha']
  ]
  for (const [path, family] of cases) t.equal(familyOfPath(path), family, `${path || '(none)'}: ${family}`)
})

t.test('what the router refuses before any route is answered in the shape of the API the URL is under', async (t) => {
  const app = await build(t, { mismatches: [] })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const long = 'a'.repeat(600)
  for (const [url, shape] of [
    [`/api/v1/getMetadata/${long}`, { status: 414, code: 'KOSHA_URL_TOO_LONG', requestId: String }],
    [`/topics/${long}`, { error_code: 414 }],
    [`/v3/clusters/${long}`, { error_code: 414 }],
    [`/kafka/v3/clusters/${long}/topics`, { error_code: 414 }]
  ] as const) {
    const res = await fetch(`http://127.0.0.1:${port}${url}`)
    t.equal(res.status, 414, `${url.slice(0, 30)}...: 414`)
    t.match(await res.json(), { ...shape, message: 'A segment of the URL\'s path is longer than 512 characters: no name this API takes is that long.' }, 'in the family\'s shape')
  }
  const badEncoding = await fetch(`http://127.0.0.1:${port}/topics/%E0%A4%A`)
  t.equal(badEncoding.status, 400, 'a malformed percent-encoding: 400')
  t.match(await badEncoding.json(), { error_code: 400 }, 'in v2\'s envelope')
  // A URL over Node's default 16 KiB of headers (MAX_HEADER_SIZE is 64 KiB) (a 4097-character key, percent-encoded) is validated, not a 431.
  const key = encodeURIComponent('é'.repeat(4097))
  const tooLongKey = await fetch(`http://127.0.0.1:${port}/api/v1/produce/orders?key=${key}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  t.equal(tooLongKey.status, 400, 'a key over its maxLength: 400')
  t.match(await tooLongKey.json(), { code: 'KOSHA_VALIDATION_FAILED', message: /key/ })
})
