// Kosha v1 produce: POST /api/v1/produce/{topic}, the JSON body as the record's value, ?key= as its key.
import type { Handlers } from '../../http/register'
import { rawOf, trimmed } from '../../http/raw-json'

export const produce = {
  produceRecord: async (request, reply) => {
    const { topic } = request.params
    // The record's value is the body as the client sent it (exact numbers), when its bytes are at hand.
    const raw = rawOf(request.body)
    const value = raw !== undefined ? trimmed(raw) : Buffer.from(JSON.stringify(request.body))
    const key = request.query.key
    const [outcome] = await request.kafkaApi.produce.send(topic, [{ value, ...(key !== undefined ? { key } : {}) }], request.traceContext)
    // One record, one outcome: a 2xx only ever means the broker acknowledged it.
    if (!outcome?.ok) throw outcome?.error
    return reply.code(200).send({ result: 'success', topic, ...outcome.delivery })
  }
} satisfies Handlers<'produce'>
