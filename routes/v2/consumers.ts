// Confluent REST Proxy v2 consumer instances: /consumers/{group_name}[/instances/{instance}/...], each a session of
// the consumer engine (kafka/consumers/) in the named group; a fetch fills its answer up to max_bytes.
import { randomUUID } from 'node:crypto'
import type { Message } from '@confluentinc/kafka-javascript'
import { type RouteTypes } from '../../generated/routes'
import type { Handlers } from '../../http/register'
import { IllegalStateError, UnsupportedFormatError } from '../../lib/errors'
import { link } from '../../http/links'
import { headersOf, inFormatJson, type Format, type PlainFormat } from '../../kafka/consumers/decode'
import type { SchemaFormat, Serdes } from '../../registry/serdes'
import type { ConsumerId } from '../../kafka/consumers/session'
import { settleWhenWritten } from '../../http/deliver-once'
import { sendJsonText, type JsonText } from '../../http/json-text'
import { V2_JSON, acceptedFormat, schemaFormatRefusal } from './media-types'

const number = (v: string | number | undefined): number | undefined => (v === undefined ? undefined : Number(v))
/** The instance a request names, as its caller's (KAFKA_IDENTITY=caller: another caller's instance is a 404). */
const idOf = (request: { params: { group_name: string, instance: string }, kafkaCaller: { principal: string } | null }): ConsumerId => ({
  name: request.params.instance,
  group: request.params.group_name,
  ...(request.kafkaCaller ? { owner: request.kafkaCaller.principal } : {})
})

type V2Records = RouteTypes['getRecordsV2']['Reply'][200]

/**
 * The most records one fetch answers, whatever max_bytes allows. Measured with the drain benchmark (200,000 records
 * of 100 B, max_bytes 16 MiB): 500, 2,000 and 5,000 a fetch drain alike (about 120k records/s on loopback, fewer
 * round trips the larger), 20,000 and 100,000 lose a fifth to a third of that to garbage collection and double the
 * service's RSS (230 → 500-800 MiB).
 */
const FETCH_MAX_RECORDS = 5000
/** max_bytes when a fetch names none (Confluent's consumer.request.max.bytes is 64 MiB: this bounds memory more). */
export const FETCH_DEFAULT_MAX_BYTES = 8 * 1024 * 1024

/**
 * A fetch's answer, openapi.json's V2ConsumerRecord array, as JSON text written record by record: no object per
 * record, and values that are JSON spliced in as they were produced (kafka/consumers/decode.ts inFormatJson).
 */
function v2RecordsJson (messages: readonly Message[], format: Format, decoded?: Decoded): JsonText<V2Records> {
  let out = '['
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Message
    const key = decoded !== undefined ? decoded.keys[i] : inFormatJson(m.key, format as PlainFormat)
    const value = decoded !== undefined ? decoded.values[i] : inFormatJson(m.value, format as PlainFormat)
    let headers = ''
    for (const h of headersOf(m)) {
      const value = format === 'binary' ? `"${h.value.toString('base64')}"` : JSON.stringify(h.value.toString('utf8'))
      headers += `${headers === '' ? '' : ','}{"name":${JSON.stringify(h.name)},"value":${value}}`
    }
    out += `${i === 0 ? '' : ','}{"topic":${JSON.stringify(m.topic)},"key":${key ?? 'null'},"value":${value ?? 'null'},` +
      `"partition":${m.partition},"offset":${m.offset},"timestamp":${m.timestamp ?? 0},"headers":[${headers}]}`
  }
  return out + ']'
}

/** Keys and values of a schema format, decoded (registry/serdes.ts), as JSON text, in the order of the records. */
interface Decoded { keys: string[], values: string[] }

async function decode (serdes: Serdes, messages: readonly Message[], format: SchemaFormat): Promise<Decoded> {
  const where = (part: 'key' | 'value') => (i: number): string => {
    const m = messages[i] as Message
    return `The ${part} of the record at ${m.topic}/${m.partition}/${m.offset}`
  }
  const bytesOf = (b: Buffer | string | null | undefined): Buffer | null => (b === null || b === undefined ? null : typeof b === 'string' ? Buffer.from(b) : b)
  return {
    keys: await serdes.readAll(messages.map((m) => bytesOf(m.key)), format, where('key')),
    values: await serdes.readAll(messages.map((m) => bytesOf(m.value)), format, where('value'))
  }
}

export const consumers = {
  createConsumerInstanceV2: async (request, reply) => {
    const body = request.body
    const group = request.params.group_name
    const requested = body.format ?? 'binary'
    const refusal = schemaFormatRefusal(requested, request.server.serdes !== undefined)
    if (refusal !== undefined) throw new UnsupportedFormatError(refusal)
    const format = requested as Format
    const reset = body['auto.offset.reset'] ?? 'latest'
    // librdkafka takes 1 to 100000000 (the schema's range is 0 to that, as Kafka's): 0 and 1 are the same wait.
    const fetchMinBytes = number(body['fetch.min.bytes'])
    const name = body.name ?? `kosha-${randomUUID()}`
    await request.server.consumers.create({
      id: { name, group, ...(request.kafkaCaller ? { owner: request.kafkaCaller.principal } : {}) },
      groupId: group,
      format,
      offsetReset: reset === 'earliest' || reset === 'smallest' ? 'earliest' : 'latest',
      autoCommit: String(body['auto.commit.enable'] ?? 'true') === 'true',
      requestTimeoutMs: Math.min(number(body['consumer.request.timeout.ms']) ?? 1000, 30_000),
      ...(fetchMinBytes !== undefined ? { fetchMinBytes: Math.max(1, fetchMinBytes) } : {})
    }, request.kafkaCaller?.sasl)
    return reply.type(V2_JSON).code(200).send({ instance_id: name, base_uri: link(request, `/consumers/${encodeURIComponent(group)}/instances/${encodeURIComponent(name)}`) })
  },

  deleteConsumerInstanceV2: async (request, reply) => {
    await request.server.consumers.delete(idOf(request))
    return reply.code(204).send()
  },

  subscribeV2: async (request, reply) => {
    const { topics, topic_pattern: pattern } = request.body
    if (topics !== undefined && pattern !== undefined) throw new IllegalStateError('Give topics or topic_pattern, not both.')
    const session = request.server.consumers.get(idOf(request))
    if (pattern !== undefined) await session.subscribe({ pattern })
    else if (topics !== undefined) await session.subscribe({ topics })
    else throw new IllegalStateError('Give topics or topic_pattern.')
    return reply.code(204).send()
  },

  getSubscriptionV2: async (request, reply) => reply.type(V2_JSON).code(200).send({ topics: [...request.server.consumers.get(idOf(request)).topics] }),

  unsubscribeV2: async (request, reply) => {
    await request.server.consumers.get(idOf(request)).unsubscribe()
    return reply.code(204).send()
  },

  assignPartitionsV2: async (request, reply) => {
    await request.server.consumers.get(idOf(request)).assign(request.body.partitions ?? [])
    return reply.code(204).send()
  },

  getAssignmentsV2: async (request, reply) => reply.type(V2_JSON).code(200).send({ partitions: request.server.consumers.get(idOf(request)).assignments() }),

  seekV2: async (request, reply) => {
    const { offsets, timestamps } = request.body
    await request.server.consumers.get(idOf(request)).seek({ ...(offsets !== undefined ? { offsets } : {}), ...(timestamps !== undefined ? { timestamps } : {}) })
    return reply.code(204).send()
  },

  seekToBeginningV2: async (request, reply) => {
    await request.server.consumers.get(idOf(request)).seekToEdge(request.body.partitions ?? [], 'beginning')
    return reply.code(204).send()
  },

  seekToEndV2: async (request, reply) => {
    await request.server.consumers.get(idOf(request)).seekToEdge(request.body.partitions ?? [], 'end')
    return reply.code(204).send()
  },

  commitOffsetsV2: async (request, reply) => {
    const committed = await request.server.consumers.get(idOf(request)).commit(request.body?.offsets)
    return reply.type(V2_JSON).code(200).send({ offsets: committed.map((c) => ({ ...c, metadata: null })) })
  },

  getCommittedOffsetsV2: async (request, reply) => {
    const committed = await request.server.consumers.get(idOf(request)).committed()
    return reply.type(V2_JSON).code(200).send({ offsets: committed.map((c) => ({ ...c, metadata: null })) })
  },

  getRecordsV2: async (request, reply) => {
    const session = request.server.consumers.get(idOf(request))
    const format = acceptedFormat(request.headers.accept, session.format)
    if (session.mode === 'none') throw new IllegalStateError('This instance has neither a subscription nor an assignment: subscribe or assign first.')
    // The answer fills up to max_bytes of keys and values with what has arrived within the timeout, as Confluent's.
    const fetched = await session.fetch({
      max: FETCH_MAX_RECORDS,
      maxBytes: request.query.max_bytes ?? FETCH_DEFAULT_MAX_BYTES,
      ...(request.query.timeout !== undefined ? { timeoutMs: request.query.timeout } : {}),
      abandoned: () => request.raw.destroyed
    })
    let decoded: Decoded | undefined
    if (format === 'avro' || format === 'jsonschema' || format === 'protobuf') {
      // A record not in the format, or whose schema cannot be had, fails the fetch: the records are given back, so
      // none is skipped (seek past a bad one with positions).
      try {
        decoded = await decode(request.server.serdes as Serdes, fetched.messages, format)
      } catch (err) {
        fetched.lost()
        throw err
      }
    }
    settleWhenWritten(reply, fetched)
    return sendJsonText(reply.type(`application/vnd.kafka.${format}.v2+json`).code(200), v2RecordsJson(fetched.messages, format, decoded))
  }
} satisfies Partial<Handlers<'confluent-v2'>>
