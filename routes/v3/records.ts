// Confluent REST Proxy v3 produce: POST /v3/clusters/{cluster_id}/topics/{topic_name}/records (one record or a
// stream of them) and .../records:batch. Kafka work goes through kafka/produce.ts (`request.kafkaApi.produce`); this file
// turns Confluent's request shapes into records and the outcomes into Confluent's delivery reports.
//
// One record or a stream? The same thing here. Confluent's /records body is concatenated JSON: one ProduceRequest
// object, or several one after the other, sent at once (Content-Length) or for as long as the client keeps a chunked
// request open. The body is read incrementally and every complete object is one record; the answer is one delivery
// report per object, in order, each written once it and all before it are settled. A one-object body therefore gets
// exactly one JSON object back, and Transfer-Encoding plays no part in the decision.
//
// NDJSON (Content-Type: application/x-ndjson) is the same stream with one record per line, answered in
// application/x-ndjson: lines are told apart by NdjsonLines below, so a malformed line is reported and the stream
// goes on with the next line (in concatenated JSON, nothing after a syntax error can be told apart).
//
// The objects are told apart by ConcatenatedJson below, a byte scanner of about 40 lines: it only has to find where
// each top-level object ends (braces outside strings), JSON.parse does the rest. A streaming JSON package (jsonparse,
// stream-json) would parse every token in JavaScript and still need the same record-boundary bookkeeping, a
// per-record size limit and resynchronisation after a malformed record, so it would not make this shorter.
import { PassThrough, Readable } from 'node:stream'
import Ajv, { type ValidateFunction } from 'ajv'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Handlers } from '../../http/register'
import { routes, schemas, type RouteTypes } from '../../generated/routes'
import type { Delivery, OutgoingRecord, Outcome, Sending } from '../../kafka/produce'
import { BadRecordError, BodyTooLargeError, InternalError, InvalidPayloadError, KoshaError, rephrased } from '../../lib/errors'
import { v3Error } from '../../http/errors'
import { JsonPaths, rawOf, type Spans } from '../../http/raw-json'
import { jsonBodyProblem } from '../../http/json-body'
import { BASE64 } from '../v2/media-types'
import type { SchemaFormat, SchemaRef, Serdes } from '../../registry/serdes'

type ProduceRequest = RouteTypes['produceRecordV3']['Body']
type BatchRequest = RouteTypes['produceRecordsBatchV3']['Body']
type ProduceResponse = RouteTypes['produceRecordV3']['Reply'][200]
type BatchResponse = RouteTypes['produceRecordsBatchV3']['Reply'][207]
type Params = RouteTypes['produceRecordV3']['Params']
type RequestData = NonNullable<ProduceRequest['value']>
type ResponseData = ProduceResponse['value']

const SCHEMA_FIELDS = ['subject', 'subject_name_strategy', 'schema_id', 'schema_version', 'schema'] as const
const NO_REGISTRY = 'this service has no schema registry configured (SCHEMA_REGISTRY_URL): send type BINARY, JSON or STRING without subject or schema fields.'
const FORMAT_OF: Readonly<Record<string, SchemaFormat>> = { AVRO: 'avro', JSONSCHEMA: 'jsonschema', PROTOBUF: 'protobuf' }
const TYPE_OF: Readonly<Record<SchemaFormat, string>> = { avro: 'AVRO', jsonschema: 'JSONSCHEMA', protobuf: 'PROTOBUF' }

/** What a key or value is produced to: the topic, and the registry's serdes when there is one. */
interface Target { topic: string, serdes: Serdes | undefined }

function base64 (value: unknown, where: string): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new BadRecordError(`${where} is not base64 text.`)
  return Buffer.from(value, 'base64')
}

/** The bytes of a key or value and what the report says of them (null: no key / a null value). */
async function payload (d: RequestData | null | undefined, where: string, sent: Buffer | undefined, target: Target, which: 'key' | 'value'): Promise<{ bytes: Buffer | null, report: ResponseData }> {
  if (d === null || d === undefined) return { bytes: null, report: null }
  const { type, data } = d
  const schemaField = SCHEMA_FIELDS.find((f) => d[f] !== undefined && d[f] !== null)
  // AVRO, JSONSCHEMA, PROTOBUF, or no type with data (Confluent: the schema comes from the registry): through the registry.
  if (type === undefined || FORMAT_OF[type] !== undefined || schemaField !== undefined) {
    if (type !== undefined && FORMAT_OF[type] === undefined) throw new BadRecordError(`${where}/${schemaField ?? 'schema'}: schema fields go with type AVRO, JSONSCHEMA or PROTOBUF, not ${type}.`)
    if (type === undefined && schemaField === undefined && (data === undefined || data === null)) return { bytes: null, report: null }
    if (target.serdes === undefined) throw new BadRecordError(`${where}/${type === undefined ? (schemaField ?? 'type is required') : `type ${type}`}: ${NO_REGISTRY}`)
    if (data === undefined || data === null) return { bytes: null, report: null }
    return await schemaPayload(target.serdes, d, type === undefined ? undefined : FORMAT_OF[type], where, target.topic, which)
  }
  if (type !== 'BINARY' && type !== 'JSON' && type !== 'STRING') throw new BadRecordError(`${where}/type must be BINARY, JSON or STRING${target.serdes !== undefined ? ' (or AVRO, JSONSCHEMA, PROTOBUF)' : ''}, not '${type}'.`)
  if (data === undefined || data === null) return { bytes: null, report: null }
  let bytes: Buffer
  if (type === 'BINARY') bytes = base64(data, `${where}/data (type BINARY)`)
  // JSON data is produced as the text the client sent (exact numbers), when the body's bytes are at hand.
  else if (type === 'JSON') bytes = sent ?? Buffer.from(JSON.stringify(data))
  else if (typeof data === 'string') bytes = Buffer.from(data, 'utf8')
  else throw new BadRecordError(`${where}/data must be a string (type STRING).`)
  return { bytes, report: { type, size: bytes.length } }
}

/**
 * A key or value of a schema format, as Confluent's v3 takes it: `schema` (text, registered under the subject),
 * `schema_id`, `schema_version` of the subject, or else the subject's latest version; the subject is `subject`, or
 * named by `subject_name_strategy` (TOPIC_NAME, the default: <topic>-key or <topic>-value; RECORD_NAME: the
 * schema's full name; TOPIC_RECORD_NAME: <topic>-<full name>).
 */
async function schemaPayload (serdes: Serdes, d: RequestData, format: SchemaFormat | undefined, where: string, topic: string, which: 'key' | 'value'): Promise<{ bytes: Buffer, report: ResponseData }> {
  const subject = (): string => d.subject ?? subjectName(serdes, format, d.subject_name_strategy ?? 'TOPIC_NAME', topic, which, d.schema ?? undefined, where)
  const ref: SchemaRef = d.schema !== undefined && d.schema !== null
    ? { schema: d.schema, subject: subject() }
    : d.schema_id !== undefined && d.schema_id !== null ? { id: d.schema_id } : { subject: subject(), version: d.schema_version ?? 'latest' }
  const writer = await serdes.writer(format, ref)
  const bytes = writer.encode(d.data, `${where}/data`)
  return {
    bytes,
    report: {
      type: TYPE_OF[writer.format],
      size: bytes.length,
      schema_id: writer.id,
      ...(writer.subject !== undefined ? { subject: writer.subject } : {}),
      ...(writer.version !== undefined ? { schema_version: writer.version } : {})
    }
  }
}

function subjectName (serdes: Serdes, format: SchemaFormat | undefined, strategy: string, topic: string, which: 'key' | 'value', schema: string | undefined, where: string): string {
  if (strategy === 'TOPIC_NAME') return `${topic}-${which}`
  if (strategy !== 'RECORD_NAME' && strategy !== 'TOPIC_RECORD_NAME') throw new BadRecordError(`${where}/subject_name_strategy must be TOPIC_NAME, RECORD_NAME or TOPIC_RECORD_NAME, not '${strategy}'.`)
  const name = schema !== undefined && format !== undefined ? serdes.recordName(format, schema) : undefined
  if (name === undefined) throw new BadRecordError(`${where}/subject_name_strategy ${strategy} needs the record's name: send the schema and its type (an Avro record's name, a JSON Schema's title, a Protobuf file's first message) or the subject.`)
  return strategy === 'RECORD_NAME' ? name : `${topic}-${name}`
}

interface Prepared { record: OutgoingRecord, key: ResponseData, value: ResponseData }

/** Where a record's JSON key and value data lie in the bytes it came from (path 0: value, 1: key). */
const RECORD_DATA = new JsonPaths([['value', 'data'], ['key', 'data']])
const ENTRY_DATA = new JsonPaths([['entries', '*', 'value', 'data'], ['entries', '*', 'key', 'data']])

/**
 * A ProduceRequest (already schema-checked) as an outgoing record; BadRecordError when it cannot be one. `sent`: where
 * its JSON data lie in the bytes it came from, and its index there.
 */
async function prepare (r: ProduceRequest, where: string, target: Target, sent?: { spans: Spans, index: number }): Promise<Prepared> {
  const key = await payload(r.key, `${where}key`, sent?.spans.get(1, sent.index), target, 'key')
  const value = await payload(r.value, `${where}value`, sent?.spans.get(0, sent.index), target, 'value')
  const headers = (r.headers ?? []).map((h, i) => ({
    // Kafka allows a null header value; the producer's binding does not: null is sent as an empty value.
    [h.name]: h.value === null || h.value === undefined ? Buffer.alloc(0) : base64(h.value, `${where}headers/${i}/value`)
  }))
  if (r.timestamp !== undefined && r.timestamp !== null && Number.isNaN(Date.parse(r.timestamp))) {
    throw new BadRecordError(`${where}timestamp is not an ISO 8601 date-time.`)
  }
  return {
    record: {
      value: value.bytes,
      ...(key.bytes !== null ? { key: key.bytes } : {}),
      ...(r.partition_id !== undefined && r.partition_id !== null ? { partition: r.partition_id } : {}),
      ...(headers.length > 0 ? { headers } : {}),
      ...(r.timestamp !== undefined && r.timestamp !== null ? { timestamp: Date.parse(r.timestamp) } : {})
    },
    key: key.report,
    value: value.report
  }
}

function delivered (clusterId: string, topic: string, prepared: Prepared, d: Delivery): Omit<ProduceResponse, 'error_code'> {
  return {
    cluster_id: clusterId,
    topic_name: topic,
    partition_id: d.partition,
    offset: d.offset,
    timestamp: new Date(d.timestamp).toISOString(),
    key: prepared.key,
    value: prepared.value
  }
}

/** A failed record's report and its status: the error as Confluent's v3 envelope words it (an internal one names the
 * request id). The status is not the error_code: 40403 is answered 404, 50003 with 503 or 504. */
function failure (error: KoshaError, request: FastifyRequest): { status: number, body: { error_code: number, message: string } } {
  return v3Error(error, request.id)
}

/** A record's failure as a catalogue error. A report carries it, so no error handler logs it: an unclassified one is logged here. */
function classified (err: unknown, request: FastifyRequest): KoshaError {
  if (err instanceof KoshaError) return err
  request.log.error({ err }, 'unclassified error while producing')
  return new InternalError(err)
}

/** Ajv's first complaint as "where what", e.g. "records/3/partition_id must be integer,null". */
function ajvMessage (validate: ValidateFunction, where: string): string {
  const e = validate.errors?.[0]
  if (!e) return `${where} is not a valid record.`
  const field = e.keyword === 'required' ? `${e.instancePath}/${String(e.params.missingProperty)}` : e.instancePath
  return `${where}${field.replace(/^\//, '')}`.replace(/\/$/, '') + (e.keyword === 'required' ? ' is required.' : ` ${e.message ?? 'is invalid'}.`)
}

// ---- the concatenated-JSON reader ---------------------------------------------------------------------------------

export type Piece = { json: Buffer } | { tooLarge: true } | { syntax: string }

/** Splits a byte stream of concatenated JSON objects (whitespace between them allowed) into one piece per object.
 * Only the object boundaries are found here: braces and brackets outside strings (bytes, so UTF-8 is safe: no byte
 * of a multi-byte character is a quote, backslash, brace or bracket). An object over `limit` bytes is skipped and
 * reported as tooLarge; anything between objects other than whitespace is a syntax piece, after which nothing more
 * can be told apart. */
export class ConcatenatedJson {
  private depth = 0
  private inString = false
  private escape = false
  private parts: Buffer[] = []
  private size = 0
  private broken = false
  constructor (private readonly limit: number) {}

  * push (chunk: Buffer): Generator<Piece> {
    if (this.broken) return
    let start = this.depth > 0 ? 0 : -1
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]
      if (this.depth === 0) {
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue
        if (c !== 0x7b) {
          this.broken = true
          yield { syntax: `Expected a JSON object ('{') at byte '${String.fromCharCode(c ?? 0)}': the body must be JSON records, one after the other.` }
          return
        }
        this.depth = 1
        start = i
      } else if (this.inString) {
        if (this.escape) this.escape = false
        else if (c === 0x5c) this.escape = true
        else if (c === 0x22) this.inString = false
      } else if (c === 0x22) {
        this.inString = true
      } else if (c === 0x7b || c === 0x5b) {
        this.depth++
      } else if ((c === 0x7d || c === 0x5d) && --this.depth === 0) {
        this.keep(chunk.subarray(start, i + 1))
        yield this.size > this.limit ? { tooLarge: true } : { json: Buffer.concat(this.parts) }
        this.parts = []
        this.size = 0
        start = -1
      }
    }
    if (start >= 0) this.keep(chunk.subarray(start))
  }

  /** What is left when the body ends: a syntax piece if it ends inside an object. */
  * end (): Generator<Piece> {
    if (!this.broken && this.depth > 0) yield { syntax: 'The body ends inside a JSON object.' }
  }

  private keep (bytes: Buffer): void {
    this.size += bytes.length
    // Past the limit the bytes are only counted, so a huge object costs no memory.
    if (this.size <= this.limit) this.parts.push(bytes)
    else this.parts = []
  }
}

/** Splits an NDJSON byte stream into one piece per non-blank line (the last may lack its newline). A line over
 * `limit` bytes is skipped and reported as tooLarge; what a line holds is JSON.parse's to judge. */
export class NdjsonLines {
  private parts: Buffer[] = []
  private size = 0
  constructor (private readonly limit: number) {}

  * push (chunk: Buffer): Generator<Piece> {
    let start = 0
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      this.keep(chunk.subarray(start, nl))
      start = nl + 1
      yield * this.line()
    }
    this.keep(chunk.subarray(start))
  }

  * end (): Generator<Piece> { yield * this.line() }

  private * line (): Generator<Piece> {
    const size = this.size
    const bytes = this.parts.length === 1 ? this.parts[0] as Buffer : Buffer.concat(this.parts)
    this.parts = []
    this.size = 0
    if (size > this.limit) yield { tooLarge: true }
    else if (!isBlank(bytes)) yield { json: bytes }
  }

  private keep (bytes: Buffer): void {
    this.size += bytes.length
    // Past the limit the bytes are only counted, so a huge line costs no memory.
    if (this.size <= this.limit) { if (bytes.length > 0) this.parts.push(bytes) } else this.parts = []
  }
}

function isBlank (bytes: Buffer): boolean {
  for (const c of bytes) if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false
  return true
}

export const NDJSON = 'application/x-ndjson'

// ---- POST .../records: one record or a stream ---------------------------------------------------------------------

/** Resolves when the reports written so far were taken by the connection, or the connection is gone. */
async function drained (out: PassThrough, reply: FastifyReply): Promise<void> {
  if (reply.raw.destroyed) return
  await new Promise<void>((resolve) => {
    const done = (): void => { out.off('drain', done); reply.raw.off('close', done); resolve() }
    out.once('drain', done)
    reply.raw.once('close', done)
  })
}

// Records read ahead of their reports at most; beyond it the body is read only as reports are written.
const MAX_IN_FLIGHT = 1000

type Report = ProduceResponse
/** A record's report and the status it would give the answer. */
interface Reported { status: number, body: Report }

/** The records of a stream are sent through `sending`: the whole stream is one producer span (one traceparent). */
async function produceStream (fastify: FastifyInstance, validate: ValidateFunction, sending: Sending,
  request: FastifyRequest<{ Params: Params, Body: unknown }>, reply: FastifyReply): Promise<FastifyReply> {
  const { cluster_id: clusterId, topic_name: topic } = request.params
  await request.kafkaApi.cluster.assertCluster(clusterId)
  await request.kafkaApi.produce.assertTopic(topic)
  const input = request.body as unknown as Readable
  // NDJSON in, NDJSON out; anything else this route accepts is concatenated JSON.
  const ndjson = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() === NDJSON
  const type = ndjson ? NDJSON : 'application/json'

  // The status goes out with the first acknowledged record: until then, failed records' reports are held, so that a
  // body of which no record was acknowledged is answered with its first failure's status, not a 200.
  let out: PassThrough | undefined
  const held: Reported[] = []
  const emit = (reported: Reported): void => {
    if (out === undefined) {
      if (reported.status !== 200) { held.push(reported); return }
      out = new PassThrough()
      reply.code(200).type(type).send(out)
      for (const h of held) out.write(JSON.stringify(h.body) + '\n')
      held.length = 0
    }
    out.write(JSON.stringify(reported.body) + '\n')
  }
  let tail: Promise<void> = Promise.resolve()
  let inFlight = 0
  let count = 0
  const enqueue = (report: Promise<Reported>): void => {
    inFlight++
    count++
    tail = tail.then(async () => { const r = await report; inFlight--; emit(r) })
  }
  const fail = (error: KoshaError): Promise<Reported> => Promise.resolve(failure(error, request))

  const target: Target = { topic, serdes: fastify.serdes }
  const one = async (json: Buffer): Promise<Reported> => {
    const where = `records/${count}/`
    const refused = jsonBodyProblem(json)
    if (refused !== undefined) return fail(new BadRecordError(`records/${count} ${refused}.`))
    let body: unknown
    try { body = JSON.parse(json.toString('utf8')) } catch (err) {
      return fail(new BadRecordError(`${where} is not valid JSON: ${(err as Error).message}.`))
    }
    if (!validate(body)) return fail(new BadRecordError(ajvMessage(validate, where)))
    let prepared: Prepared
    try { prepared = await prepare(body as ProduceRequest, where, target, { spans: RECORD_DATA.find(json), index: 0 }) } catch (err) { return await fail(classified(err, request)) }
    // The stream is read record by record, so each is sent as it is read (librdkafka batches them anyway).
    return await sending.send([prepared.record]).then(
      ([outcome]): Reported => outcome?.ok === true
        ? { status: 200, body: { error_code: 200, ...delivered(clusterId, topic, prepared, outcome.delivery) } }
        : failure(classified(outcome?.error, request), request),
      (err: unknown): Reported => failure(classified(err, request), request))
  }

  const reader = ndjson ? new NdjsonLines(fastify.config.bodyLimit) : new ConcatenatedJson(fastify.config.bodyLimit)
  let stop = false
  const take = (pieces: Iterable<Piece>): void => {
    for (const piece of pieces) {
      if ('json' in piece) enqueue(one(piece.json))
      else if ('tooLarge' in piece) enqueue(fail(new BodyTooLargeError(fastify.config.bodyLimit, 'A record')))
      else { enqueue(fail(new BadRecordError(piece.syntax))); stop = true }
    }
  }
  try {
    for await (const chunk of input) {
      take(reader.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk as Buffer))
      if (stop) break
      if (inFlight >= MAX_IN_FLIGHT) await tail
      // A client that does not read its reports is not sent more: the body is read as fast as they are taken.
      if (out?.writableNeedDrain === true) await drained(out, reply)
    }
    if (!stop) take(reader.end())
  } catch (err) {
    // The client went away mid-body: what was read is still produced; nobody is left to read the reports.
    request.log.info({ err: (err as Error).message }, 'the produce stream ended early')
  }
  if (count === 0) throw new InvalidPayloadError('The body is empty: send one or more JSON records.')
  await tail
  if (out !== undefined) {
    out.end()
    return reply
  }
  // No record was acknowledged: the first failure's status, with every report (one, or a stream as above).
  reply.code(held[0]?.status ?? 500).type(type)
  // Concatenated JSON: one report alone is one JSON object, as one record's answer. NDJSON: always lines.
  if (held.length === 1 && !ndjson) return await reply.send(JSON.stringify(held[0]?.body))
  return await reply.send(Readable.from(held.map((h) => JSON.stringify(h.body) + '\n')))
}

// ---- POST .../records:batch ---------------------------------------------------------------------------------------

async function produceBatch (fastify: FastifyInstance, request: FastifyRequest<{ Params: Params, Body: BatchRequest }>,
  reply: FastifyReply): Promise<FastifyReply> {
  const { cluster_id: clusterId, topic_name: topic } = request.params
  const entries = request.body.entries
  const seen = new Set<string>()
  for (const e of entries) {
    if (seen.has(e.id)) throw new BadRecordError(`entries: the id '${e.id}' is used twice; each entry needs its own.`)
    seen.add(e.id)
  }
  await request.kafkaApi.cluster.assertCluster(clusterId)
  await request.kafkaApi.produce.assertTopic(topic)
  // Every entry that can be a record is sent in one call, so that the batch is one send in the metrics too.
  const raw = rawOf(request.body)
  const spans = raw !== undefined ? ENTRY_DATA.find(raw) : undefined
  const target: Target = { topic, serdes: fastify.serdes }
  const prepared = await Promise.all(entries.map(async (e, i): Promise<Prepared | KoshaError> => {
    try { return await prepare(e, `entries/${i}/`, target, spans !== undefined ? { spans, index: i } : undefined) } catch (err) { return classified(err, request) }
  }))
  const ready = prepared.filter((p): p is Prepared => !(p instanceof KoshaError))
  const outcomes: Outcome[] = ready.length === 0
    ? []
    : await request.kafkaApi.produce.send(topic, ready.map((p) => p.record), request.traceContext)
      // Nothing was sent (the connection is closing, say): every entry failed, for the same reason.
      .catch((err: unknown) => { const error = classified(err, request); return ready.map(() => ({ ok: false, error })) })
  type Settled = { id: string, ok: true, body: BatchResponse['successes'][number] } | { id: string, ok: false, error: KoshaError }
  let next = 0
  const settled = entries.map((e, i): Settled => {
    const p = prepared[i]
    if (p === undefined || p instanceof KoshaError) return { id: e.id, ok: false, error: p ?? new InternalError() }
    const outcome: Outcome | undefined = outcomes[next++]
    if (outcome?.ok !== true) return { id: e.id, ok: false, error: classified(outcome?.error, request) }
    return { id: e.id, ok: true, body: { id: e.id, ...delivered(clusterId, topic, p, outcome.delivery) } }
  })
  const failures = settled.filter((s) => !s.ok)
  if (failures.length === settled.length) {
    const first = failures[0] as { id: string, error: KoshaError }
    const more = failures.length > 1 ? ` (and ${failures.length - 1} more failed)` : ''
    // Answered by the v3 error handler, with the first failure's status where Confluent declares it (else 400).
    throw rephrased(first.error, `No entry was produced. Entry '${first.id}': ${first.error.message}${more}`)
  }
  const body: BatchResponse = {
    successes: settled.flatMap((s) => s.ok ? [s.body] : []),
    failures: settled.flatMap((s) => s.ok ? [] : [{ id: s.id, ...failure(s.error, request).body }])
  }
  return await reply.code(207).type('application/json').send(body)
}

// ---- the handlers and the stream's context ------------------------------------------------------------------------

// The record schema is checked per record (the body is a stream of them), with the shared components of openapi.json.
const { body: recordSchema, ...streamSchema } = routes.produceRecordV3.schema
const validateRecord = new Ajv({ allErrors: false, allowUnionTypes: true, coerceTypes: false, strict: false }).addSchema([...schemas]).compile(recordSchema)

export const records = {
  produceRecordV3: async (request, reply) => {
    const sending = request.kafkaApi.produce.open(request.params.topic_name, request.traceContext)
    try {
      return await produceStream(request.server, validateRecord, sending, request, reply)
    } finally {
      sending.end()
    }
  },
  produceRecordsBatchV3: async (request, reply) => await produceBatch(request.server, request, reply)
} satisfies Partial<Handlers<'confluent-v3'>>

/** What records:batch answers a body that is not JSON (the v3 error handler asks its route). */
export const BATCH_NOT_JSON = 'The body is not a JSON batch: send {"entries": [...]}.'

/**
 * The records route reads its body itself: its own context takes application/json and application/x-ndjson as the
 * raw stream (and nothing else, 415), and its route schema has no body schema.
 */
export async function recordStreamContext (stream: FastifyInstance): Promise<void> {
  stream.removeAllContentTypeParsers()
  stream.addContentTypeParser(['application/json', NDJSON], (_request, body, done) => { done(null, body) })
  stream.route<RouteTypes['produceRecordV3']>({ ...routes.produceRecordV3, schema: streamSchema, config: { streamedBody: true }, handler: records.produceRecordV3 })
}
