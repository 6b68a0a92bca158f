// Stateless partition reads: GET /api/v1/topics/{topic}/partitions/{partition}/records (kafka/reads.ts), the query
// turned into a start and limits, the records shaped as the v1 consumers shape them.
import type { Handlers } from '../../http/register'
import type { ReadStart } from '../../kafka/reads'
import { ValidationError } from '../../lib/errors'
import { consumedRecord } from './records'

/** The query's start: an offset, or a timestamp (ms or ISO 8601; the schema has checked the form), not both. */
function startOf (query: { offset?: string, timestamp?: string }): ReadStart {
  if (query.offset !== undefined && query.timestamp !== undefined) throw new ValidationError('Give offset or timestamp, not both.')
  if (query.timestamp !== undefined) {
    const ms = /^\d+$/.test(query.timestamp) ? Number(query.timestamp) : Date.parse(query.timestamp)
    if (!Number.isFinite(ms)) throw new ValidationError(`querystring/timestamp is not a time: send ms since the epoch or an ISO 8601 date-time (got '${query.timestamp}').`)
    return { timestamp: ms }
  }
  const offset = query.offset ?? 'earliest'
  if (offset === 'earliest' || offset === 'latest') return { offset }
  const n = Number(offset)
  if (!Number.isSafeInteger(n)) throw new ValidationError(`querystring/offset is too large (got '${offset}').`)
  return { offset: n }
}

export const reads = {
  readPartitionRecords: async (request, reply) => {
    const { topic, partition } = request.params
    const { max_records: maxRecords = 100, max_bytes: maxBytes = 1_048_576, timeout = 0 } = request.query
    const result = await request.kafkaApi.reads.read({
      topic, partition, start: startOf(request.query), maxRecords, maxBytes, timeoutMs: timeout, abandoned: () => request.raw.destroyed
    })
    return reply.code(200).send({
      topic,
      partition,
      records: result.messages.map(consumedRecord),
      next_offset: result.nextOffset,
      low_watermark: result.watermarks.low,
      high_watermark: result.watermarks.high
    })
  }
} satisfies Handlers<'reads'>
