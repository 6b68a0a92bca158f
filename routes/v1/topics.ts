// Kosha v1 topics: POST /api/v1/create and DELETE /api/v1/delete/{topic}.
import type { Handlers } from '../../http/register'
import { ValidationError } from '../../lib/errors'

/** "3" and 3 are both accepted (the old connector took strings); the schema has checked the digits already. */
function count (value: string | number | undefined, field: string, max: number): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > max) throw new ValidationError(`body/${field} must be a whole number from 1 to ${max} (got ${JSON.stringify(value)}).`)
  return n
}

export const topics = {
  createTopic: async (request, reply) => {
    const { topic, numParts, replicationFactor } = request.body
    const partitions = count(numParts, 'numParts', 10000) ?? 1
    const rf = count(replicationFactor, 'replicationFactor', 32767)
    await request.kafkaApi.topics.create({ topic, partitions, ...(rf !== undefined ? { replicationFactor: rf } : {}) })
    return reply.code(201).send([{ topic, error: null }])
  },

  deleteTopic: async (request, reply) => {
    await request.kafkaApi.topics.delete(request.params.topic)
    return reply.code(200).send([{ topic: request.params.topic, error: null }])
  }
} satisfies Handlers<'topics'>
