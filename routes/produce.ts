import type { FastifyInstance } from 'fastify'
import { routes, type RouteTypes } from '../generated/routes'

export default async function produceRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.route<RouteTypes['produceRecord']>({
    ...routes.produceRecord,
    handler: async (request, reply) => {
      const { topic } = request.params
      const value = Buffer.from(JSON.stringify(request.body))
      const key = request.query.key
      const delivery = await fastify.produce.send(request, { topic, value, ...(key !== undefined ? { key } : {}) })
      return reply.code(200).send({ result: 'success', topic, ...delivery })
    }
  })
}
