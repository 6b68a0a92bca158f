// Confluent REST Proxy v2 produce: POST /topics/{topic} and /topics/{topic}/partitions/{partition}.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { type RouteTypes } from '../../generated/routes'
import type { Handlers } from '../../http/register'
import { JsonPaths, rawOf } from '../../http/raw-json'
import type { OutgoingRecord } from '../../kafka/produce'
import { InvalidPayloadError, SchemaMissingError, UnsupportedFormatError, type KoshaError } from '../../lib/errors'
import type { SchemaFormat, Serdes, Writer } from '../../registry/serdes'
import { BASE64, V2_JSON, embeddedFormat, type Format } from './media-types'

type ProduceRequest = RouteTypes['produceToTopicV2']['Body']
type ProduceResponse = RouteTypes['produceToTopicV2']['Reply'][200]

// Where each record's value (path 0) and key (path 1) lie in the body's bytes.
const RECORD_JSON = new JsonPaths([['records', '*', 'value'], ['records', '*', 'key']])

/** A key or value as bytes: JSON as the very text the client sent (`sent`, when the body's bytes are at hand). */
function bytes (value: unknown, format: Format, where: string, sent?: Buffer): Buffer | null {
  if (value === undefined || value === null) return null
  if (format === 'json') return sent ?? Buffer.from(JSON.stringify(value))
  if (typeof value !== 'string' || !BASE64.test(value)) throw new InvalidPayloadError(`${where} must be base64 text in the binary format.`)
  return Buffer.from(value, 'base64')
}

function toRecords (body: ProduceRequest, format: Format, partition: number | undefined): OutgoingRecord[] {
  if (body.key_schema !== undefined || body.value_schema !== undefined || body.key_schema_id !== undefined || body.value_schema_id !== undefined) {
    throw new UnsupportedFormatError(`Schemas go with the avro, jsonschema and protobuf formats (Content-Type application/vnd.kafka.avro.v2+json, application/vnd.kafka.jsonschema.v2+json or application/vnd.kafka.protobuf.v2+json), not with ${format}.`)
  }
  const raw = format === 'json' ? rawOf(body) : undefined
  const sent = raw !== undefined ? RECORD_JSON.find(raw) : undefined
  return body.records.map((r, i) => ({
    ...record(r, i, partition, format),
    value: bytes(r.value, format, `records/${i}/value`, sent?.get(0, i)),
    ...keyOf(bytes(r.key, format, `records/${i}/key`, sent?.get(1, i)))
  }))
}

/** A record's partition and headers (header values are base64 in binary, else text). */
function record (r: ProduceRequest['records'][number], i: number, partition: number | undefined, format: Format | SchemaFormat): Omit<OutgoingRecord, 'value'> {
  const headers = (r.headers ?? []).map((h, j) => ({
    [h.name]: format === 'binary' ? (bytes(h.value, 'binary', `records/${i}/headers/${j}/value`) ?? Buffer.alloc(0)) : (h.value ?? '')
  }))
  const target = partition ?? r.partition
  return { ...(target !== undefined ? { partition: target } : {}), ...(headers.length > 0 ? { headers } : {}) }
}

const keyOf = (key: Buffer | null): { key?: Buffer } => (key !== null ? { key } : {})

/** The writer for keys or values: the schema in the body (registered under the topic's subject) or its id. */
async function writerFor (serdes: Serdes, format: SchemaFormat, topic: string, which: 'key' | 'value', schema: string | undefined, id: number | undefined): Promise<Writer | undefined> {
  if (schema !== undefined) return await serdes.writer(format, { schema, subject: `${topic}-${which}` })
  if (id !== undefined) return await serdes.writer(format, { id })
  return undefined
}

/** Records of a schema format: each key and value checked against its schema and written in Confluent's wire format. */
async function toSchemaRecords (serdes: Serdes, topic: string, body: ProduceRequest, format: SchemaFormat, partition: number | undefined): Promise<{ records: OutgoingRecord[], keyId: number | null, valueId: number | null }> {
  const hasKeys = body.records.some((r) => r.key !== undefined && r.key !== null)
  const hasValues = body.records.some((r) => r.value !== undefined && r.value !== null)
  const keyWriter = await writerFor(serdes, format, topic, 'key', body.key_schema, body.key_schema_id)
  const valueWriter = await writerFor(serdes, format, topic, 'value', body.value_schema, body.value_schema_id)
  if (hasKeys && keyWriter === undefined) throw new SchemaMissingError('key', `The records have keys, but the request has neither key_schema nor key_schema_id (the ${format} format needs one).`)
  if (hasValues && valueWriter === undefined) throw new SchemaMissingError('value', `The records have values, but the request has neither value_schema nor value_schema_id (the ${format} format needs one).`)
  const encode = (writer: Writer | undefined, v: unknown, where: string): Buffer | null => (v === undefined || v === null || writer === undefined ? null : writer.encode(v, where))
  const records = body.records.map((r, i) => ({
    ...record(r, i, partition, format),
    value: encode(valueWriter, r.value, `records/${i}/value`),
    ...keyOf(encode(keyWriter, r.key, `records/${i}/key`))
  }))
  return { records, keyId: keyWriter?.id ?? null, valueId: valueWriter?.id ?? null }
}

async function produceRecords (request: FastifyRequest<{ Params: { topic_name: string, partition_id?: number }, Body: ProduceRequest }>, reply: FastifyReply): Promise<FastifyReply> {
  const serdes = request.server.serdes
  const format = embeddedFormat(request.headers['content-type'], serdes !== undefined)
  const plain = format === 'binary' || format === 'json'
  // A schema in the body is registered under the topic's subject: not for a topic that is not there.
  if (!plain) await request.kafkaApi.produce.assertTopic(request.params.topic_name)
  const { records, keyId, valueId } = plain
    ? { records: toRecords(request.body, format, request.params.partition_id), keyId: null, valueId: null }
    : await toSchemaRecords(serdes as Serdes, request.params.topic_name, request.body, format, request.params.partition_id)
  const outcomes = await request.kafkaApi.produce.send(request.params.topic_name, records, request.traceContext)
  // Confluent answers 200 with per-record errors; a request of which no record was acknowledged is not a success.
  const firstError = outcomes.find((o): o is { ok: false, error: KoshaError } => !o.ok)?.error
  if (firstError && outcomes.every((o) => !o.ok)) throw firstError
  const body: ProduceResponse = {
    offsets: outcomes.map((o) => o.ok
      ? { partition: o.delivery.partition, offset: o.delivery.offset, error_code: null, error: null }
      // Confluent's per-record codes: 2 when sending the record again may succeed, 1 when it will not.
      : { partition: null, offset: null, error_code: o.error.retriable ? 2 : 1, error: o.error.message }),
    key_schema_id: keyId,
    value_schema_id: valueId
  }
  return reply.type(V2_JSON).code(200).send(body)
}

export const produce = {
  produceToTopicV2: async (request, reply) => await produceRecords(request, reply),
  produceToPartitionV2: async (request, reply) => await produceRecords(request, reply)
} satisfies Partial<Handlers<'confluent-v2'>>
