// Kafka ACLs (kafka/acls.ts) as `fastify.acls`, behind the v3 ACL routes.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Acls } from '../kafka/acls'

declare module 'fastify' {
  interface FastifyInstance { acls: Acls }
}

async function acls (fastify: FastifyInstance): Promise<void> {
  fastify.decorate('acls', new Acls(fastify.kafka))
}

export default fp(acls, { name: 'acls', dependencies: ['kafka-connection'] })
