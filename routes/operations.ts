import type { FastifyInstance } from 'fastify'
import { routes, type RouteTypes } from '../generated/routes'
import { KoshaError, KafkaUnavailableError } from '../lib/errors'

export default async function operationRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.route<RouteTypes['getLiveness']>({
    ...routes.getLiveness,
    handler: async (_request, reply) => reply.code(200).send({ status: 'ok' })
  })

  fastify.route<RouteTypes['getReadiness']>({
    ...routes.getReadiness,
    handler: async (request, reply) => {
      try {
        await fastify.kafka.checkReady()
      } catch (err) {
        const error = err instanceof KoshaError ? err : new KafkaUnavailableError('Kafka is not reachable: retry later.', err)
        request.log.warn({ code: error.code }, `not ready: ${error.message}`)
        throw error
      }
      return reply.code(200).send({ status: 'ready', kafka: 'reachable' })
    }
  })
}
