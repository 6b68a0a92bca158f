// The operations routes: liveness (never touches Kafka) and readiness (Kafka answers the connector).
import type { Handlers } from '../http/register'
import { KoshaError, KafkaUnavailableError } from '../lib/errors'

export const operations = {
  getLiveness: async (_request, reply) => reply.code(200).send({ status: 'ok' }),

  getReadiness: async (request, reply) => {
    try {
      await request.server.kafka.checkReady()
    } catch (err) {
      const error = err instanceof KoshaError ? err : new KafkaUnavailableError('Kafka is not reachable: retry later.', err)
      request.log.warn({ code: error.code }, `not ready: ${error.message}`)
      throw error
    }
    return reply.code(200).send({ status: 'ready', kafka: 'reachable' })
  }
} satisfies Handlers<'operations'>
