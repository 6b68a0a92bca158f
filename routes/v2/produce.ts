// Confluent REST Proxy v2 produce: POST /topics/{topic} and /topics/{topic}/partitions/{partition}.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { type RouteTypes } from '../../generated/routes'
import type { Handlers } from '../../http/register'
import { JsonPaths, rawOf } from '../../http/raw-json'
import type { OutgoingRecord } from '../../kafka/produce'
import { InvalidPayloadError, UnsupportedFormatError, type KoshaError } from '../../lib/errors'
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
    throw new UnsupportedFormatError('Schemas need a schema registry, which this service does not have: send binary or json records without schemas.')
  }
  const raw = format === 'json' ? rawOf(body) : undefined
  const sent = raw !== undefined ? RECORD_JSON.find(raw) : undefined
  return body.records.map((r, i) => {
    const key = bytes(r.key, format, `records/${i}/key`, sent?.get(1, i))
    const headers = (r.headers ?? []).map((h, j) => ({
      [h.name]: format === 'binary' ? (bytes(h.value, 'binary', `records/${i}/headers/${j}/value`) ?? Buffer.alloc(0)) : (h.value ?? '')
    }))
    const target = partition ?? r.partition
    return {
      value: bytes(r.value, format, `records/${i}/value`, sent?.get(0, i)),
      ...(key !== null ? { key } : {}),
      ...(target !== undefined ? { partition: target } : {}),
      ...(headers.length > 0 ? { headers } : {})
    }
  })
}

async function produceRecords (request: FastifyRequest<{ Params: { topic_name: string, partition_id?: number }, Body: ProduceRequest }>, reply: FastifyReply): Promise<FastifyReply> {
  const format = embeddedFormat(request.headers['content-type'])
  const records = toRecords(request.body, format, request.params.partition_id)
  const outcomes = await request.kafkaApi.produce.send(request.params.topic_name, records, request.traceContext)
  // Confluent answers 200 with per-record errors; a request of which no record was acknowledged is not a success.
  const firstError = outcomes.find((o): o is { ok: false, error: KoshaError } => !o.ok)?.error
  if (firstError && outcomes.every((o) => !o.ok)) throw firstError
  const body: ProduceResponse = {
    offsets: outcomes.map((o) => o.ok
      ? { partition: o.delivery.partition, offset: o.delivery.offset, error_code: null, error: null }
      // Confluent's per-record codes: 2 when sending the record again may succeed, 1 when it will not.
      : { partition: null, offset: null, error_code: o.error.retriable ? 2 : 1, error: o.error.message }),
    key_schema_id: null,
    value_schema_id: null
  }
  return reply.type(V2_JSON).code(200).send(body)
}

export const produce = {
  produceToTopicV2: async (request, reply) => await produceRecords(request, reply),
  produceToPartitionV2: async (request, reply) => await produceRecords(request, reply)
} satisfies Partial<Handlers<'confluent-v2'>>
