import type { FastifyInstance } from 'fastify'
import { routes, type RouteTypes } from '../generated/routes'

export default async function metadataRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.route<RouteTypes['describeResource']>({
    ...routes.describeResource,
    handler: async (request, reply) => {
      const { resourceType, resourceName } = request.params
      return reply.code(200).send([await fastify.metadata.describe(request, resourceType, resourceName)])
    }
  })

  fastify.route<RouteTypes['getTopicMetadata']>({
    ...routes.getTopicMetadata,
    handler: async (request, reply) => reply.code(200).send(await fastify.metadata.topicMetadata(request, request.params.topic))
  })
}
