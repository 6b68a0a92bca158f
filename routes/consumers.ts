import type { FastifyInstance } from 'fastify'
import { routes, type RouteTypes } from '../generated/routes'

export default async function consumerRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.route<RouteTypes['createConsumer']>({
    ...routes.createConsumer,
    handler: async (request, reply) => {
      const { name, groupId, offset } = request.body
      const created = await fastify.consumers.create(request, { name, offset: offset ?? 'latest', ...(groupId !== undefined ? { groupId } : {}) })
      return reply.code(200).send({ result: 'success', name: created.name, groupId: created.groupId })
    }
  })

  fastify.route<RouteTypes['subscribeConsumer']>({
    ...routes.subscribeConsumer,
    handler: async (request, reply) => {
      const subscribed = await fastify.consumers.subscribe(request, request.params.name, request.body.name)
      return reply.code(200).send({ result: 'success', topics: subscribed.topics })
    }
  })

  fastify.route<RouteTypes['consumeRecord']>({
    ...routes.consumeRecord,
    handler: async (request, reply) => {
      const record = await fastify.consumers.consume(request, reply, request.params.name, request.query.timeout ?? 10_000)
      if (record === null) return reply.code(204).send()
      return reply.code(200).send(record)
    }
  })

  fastify.route<RouteTypes['deleteConsumer']>({
    ...routes.deleteConsumer,
    handler: async (request, reply) => {
      await fastify.consumers.delete(request.params.name)
      return reply.code(200).send({ result: 'success', name: request.params.name })
    }
  })
}
