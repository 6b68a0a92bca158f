// Confluent REST Proxy v2 consumer instances: /consumers/{group_name}[/instances/{instance}/...].
import type { FastifyInstance } from 'fastify'
import { routes, type RouteTypes } from '../../generated/routes'
import { NotAcceptableError } from '../../lib/errors'
import { link } from '../../lib/links'
import type { Format } from '../../plugins/consumer-instances'
import { V2_JSON } from './metadata'

/** The format an Accept header asks for: a vendor type names one; application/json, * / * or none take the instance's. */
export function acceptedFormat (accept: string | undefined, instanceFormat: Format): Format {
  const types = (accept ?? '*/*').split(',').map((t) => t.split(';')[0]?.trim().toLowerCase() ?? '')
  for (const type of types) {
    const m = /^application\/vnd\.kafka\.(binary|json)\.v2\+json$/.exec(type)
    if (m?.[1] === instanceFormat) return instanceFormat
    if (['application/json', '*/*', 'application/*', 'application/vnd.kafka.v2+json', ''].includes(type)) return instanceFormat
  }
  throw new NotAcceptableError(`This consumer instance reads the ${instanceFormat} format: Accept application/vnd.kafka.${instanceFormat}.v2+json.`)
}

const number = (v: string | number | undefined): number | undefined => (v === undefined ? undefined : Number(v))

export default async function v2ConsumerRoutes (fastify: FastifyInstance): Promise<void> {
  const instances = fastify.consumerInstances

  fastify.route<RouteTypes['createConsumerInstanceV2']>({
    ...routes.createConsumerInstanceV2,
    handler: async (request, reply) => {
      const body = request.body
      const group = request.params.group_name
      const reset = body['auto.offset.reset'] ?? 'latest'
      const fetchMinBytes = number(body['fetch.min.bytes'])
      const { instanceId } = await instances.create(request, group, {
        ...(body.name !== undefined ? { name: body.name } : {}),
        format: body.format ?? 'binary',
        offsetReset: reset === 'earliest' || reset === 'smallest' ? 'earliest' : 'latest',
        autoCommit: String(body['auto.commit.enable'] ?? 'true') === 'true',
        requestTimeoutMs: Math.min(number(body['consumer.request.timeout.ms']) ?? 1000, 30_000),
        ...(fetchMinBytes !== undefined ? { fetchMinBytes } : {})
      })
      return reply.type(V2_JSON).code(200).send({ instance_id: instanceId, base_uri: link(request, `/consumers/${encodeURIComponent(group)}/instances/${encodeURIComponent(instanceId)}`) })
    }
  })

  fastify.route<RouteTypes['deleteConsumerInstanceV2']>({
    ...routes.deleteConsumerInstanceV2,
    handler: async (request, reply) => {
      await instances.delete(request.params.group_name, request.params.instance)
      return reply.code(204).send()
    }
  })

  fastify.route<RouteTypes['subscribeV2']>({
    ...routes.subscribeV2,
    handler: async (request, reply) => {
      const { topics, topic_pattern: pattern } = request.body
      await instances.subscribe(request, request.params.group_name, request.params.instance, {
        ...(topics !== undefined ? { topics } : {}), ...(pattern !== undefined ? { pattern } : {})
      })
      return reply.code(204).send()
    }
  })

  fastify.route<RouteTypes['getSubscriptionV2']>({
    ...routes.getSubscriptionV2,
    handler: async (request, reply) => reply.type(V2_JSON).code(200).send({ topics: await instances.subscription(request.params.group_name, request.params.instance) })
  })

  fastify.route<RouteTypes['unsubscribeV2']>({
    ...routes.unsubscribeV2,
    handler: async (request, reply) => {
      await instances.unsubscribe(request, request.params.group_name, request.params.instance)
      return reply.code(204).send()
    }
  })

  fastify.route<RouteTypes['assignPartitionsV2']>({
    ...routes.assignPartitionsV2,
    handler: async (request, reply) => {
      await instances.assign(request, request.params.group_name, request.params.instance, request.body.partitions ?? [])
      return reply.code(204).send()
    }
  })

  fastify.route<RouteTypes['getAssignmentsV2']>({
    ...routes.getAssignmentsV2,
    handler: async (request, reply) => reply.type(V2_JSON).code(200).send({ partitions: await instances.assignments(request.params.group_name, request.params.instance) })
  })

  fastify.route<RouteTypes['seekV2']>({
    ...routes.seekV2,
    handler: async (request, reply) => {
      const { offsets, timestamps } = request.body
      await instances.seek(request, request.params.group_name, request.params.instance, {
        ...(offsets !== undefined ? { offsets } : {}), ...(timestamps !== undefined ? { timestamps } : {})
      })
      return reply.code(204).send()
    }
  })

  for (const edge of ['beginning', 'end'] as const) {
    const route = edge === 'beginning' ? routes.seekToBeginningV2 : routes.seekToEndV2
    fastify.route<RouteTypes['seekToBeginningV2']>({
      ...route,
      handler: async (request, reply) => {
        await instances.seekToEdge(request, request.params.group_name, request.params.instance, request.body.partitions ?? [], edge)
        return reply.code(204).send()
      }
    })
  }

  fastify.route<RouteTypes['commitOffsetsV2']>({
    ...routes.commitOffsetsV2,
    handler: async (request, reply) => {
      const committed = await instances.commit(request, request.params.group_name, request.params.instance, request.body?.offsets)
      return reply.type(V2_JSON).code(200).send({ offsets: committed })
    }
  })

  fastify.route<RouteTypes['getCommittedOffsetsV2']>({
    ...routes.getCommittedOffsetsV2,
    handler: async (request, reply) => {
      const offsets = await instances.committed(request, request.params.group_name, request.params.instance)
      return reply.type(V2_JSON).code(200).send({ offsets })
    }
  })

  fastify.route<RouteTypes['getRecordsV2']>({
    ...routes.getRecordsV2,
    handler: async (request, reply) => {
      const { group_name: group, instance } = request.params
      const format = acceptedFormat(request.headers.accept, instances.format(group, instance))
      const records = await instances.records(request, reply, group, instance, {
        ...(request.query.timeout !== undefined ? { timeoutMs: request.query.timeout } : {}),
        ...(request.query.max_bytes !== undefined ? { maxBytes: request.query.max_bytes } : {})
      })
      return reply.type(`application/vnd.kafka.${format}.v2+json`).code(200).send(records)
    }
  })
}
