// Confluent REST Proxy v3 ACLs: search (GET), create (POST, and POST acls:batch), delete matching (DELETE), in
// Confluent's shapes. Kafka work is in plugins/acls.ts (through @platformatic/kafka: librdkafka's binding has no ACLs).
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { routes, type RouteTypes } from '../../generated/routes'
import { link } from '../../lib/links'
import type { AclEntry } from '../../plugins/acls'

type Acl = RouteTypes['listAclsV3']['Reply'][200]['data'][number]

const aclsPath = (c: string): string => `/v3/clusters/${encodeURIComponent(c)}/acls`

/** Confluent's self link of an ACL: the search that finds exactly it. */
function acl (request: FastifyRequest, c: string, e: AclEntry): Acl {
  const query = new URLSearchParams({
    resource_type: e.resource_type,
    resource_name: e.resource_name,
    pattern_type: e.pattern_type,
    principal: e.principal,
    host: e.host,
    operation: e.operation,
    permission: e.permission
  })
  return { kind: 'KafkaAcl', metadata: { self: link(request, `${aclsPath(c)}?${query.toString()}`) }, cluster_id: c, ...e }
}

/** The ACL fields of a request body (and nothing else it may carry). */
function aclOf (b: AclEntry): AclEntry {
  return {
    resource_type: b.resource_type,
    resource_name: b.resource_name,
    pattern_type: b.pattern_type,
    principal: b.principal,
    host: b.host,
    operation: b.operation,
    permission: b.permission
  }
}

export default async function v3AclRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.route<RouteTypes['listAclsV3']>({
    ...routes.listAclsV3,
    handler: async (request, reply) => {
      const c = request.params.cluster_id
      const found = await fastify.acls.search(request, c, request.query)
      const query = new URLSearchParams(Object.entries(request.query).filter((kv): kv is [string, string] => typeof kv[1] === 'string'))
      const search = query.size > 0 ? `?${query.toString()}` : ''
      return reply.code(200).send({
        kind: 'KafkaAclList',
        metadata: { self: link(request, `${aclsPath(c)}${search}`), next: null },
        data: found.map((e) => acl(request, c, e))
      })
    }
  })

  fastify.route<RouteTypes['createAclV3']>({
    ...routes.createAclV3,
    handler: async (request, reply) => {
      await fastify.acls.create(request, request.params.cluster_id, [aclOf(request.body)])
      return reply.code(201).send()
    }
  })

  fastify.route<RouteTypes['createAclsBatchV3']>({
    ...routes.createAclsBatchV3,
    handler: async (request, reply) => {
      await fastify.acls.create(request, request.params.cluster_id, request.body.data.map(aclOf))
      return reply.code(201).send()
    }
  })

  fastify.route<RouteTypes['deleteAclsV3']>({
    ...routes.deleteAclsV3,
    handler: async (request, reply) => {
      const c = request.params.cluster_id
      const deleted = await fastify.acls.delete(request, c, request.query)
      return reply.code(200).send({ data: deleted.map((e) => acl(request, c, e)) })
    }
  })
}
