// Confluent REST Proxy v3 consumer groups: groups, their consumers and assignments, lags and the lag summary, in
// Confluent's resource shapes; and, beyond Confluent, DELETE of a group and POST .../offsets:reset. Kafka work is in
// plugins/consumer-groups.ts.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { routes, type RouteTypes } from '../../generated/routes'
import { link } from '../../lib/links'
import { ResourceNotFoundError } from '../../lib/errors'
import type { GroupInfo, GroupMember, PartitionLag } from '../../plugins/consumer-groups'

type Group = RouteTypes['getConsumerGroupV3']['Reply'][200]
type Consumer = RouteTypes['getConsumerV3']['Reply'][200]
type Assignment = RouteTypes['getConsumerAssignmentV3']['Reply'][200]
type Lag = RouteTypes['getConsumerLagV3']['Reply'][200]

const enc = encodeURIComponent
const clusterPath = (c: string): string => `/v3/clusters/${enc(c)}`
const groupPath = (c: string, g: string): string => `${clusterPath(c)}/consumer-groups/${enc(g)}`
const consumerPath = (c: string, g: string, m: string): string => `${groupPath(c, g)}/consumers/${enc(m)}`
const partitionPath = (c: string, t: string, p: number): string => `${clusterPath(c)}/topics/${enc(t)}/partitions/${p}`
const lagPath = (c: string, g: string, t: string, p: number): string => `${groupPath(c, g)}/lags/${enc(t)}/partitions/${p}`

function group (request: FastifyRequest, c: string, g: GroupInfo): Group {
  return {
    kind: 'KafkaConsumerGroup',
    metadata: { self: link(request, groupPath(c, g.groupId)), resource_name: `crn:///kafka=${c}/consumer-group=${g.groupId}` },
    cluster_id: c,
    consumer_group_id: g.groupId,
    is_simple: g.isSimple,
    partition_assignor: g.partitionAssignor,
    state: g.state,
    type: g.type,
    is_mixed_consumer_group: false,
    coordinator: { related: link(request, `${clusterPath(c)}/brokers/${g.coordinatorId}`) },
    consumers: { related: link(request, `${groupPath(c, g.groupId)}/consumers`) },
    lag_summary: { related: link(request, `${groupPath(c, g.groupId)}/lag-summary`) }
  }
}

function consumer (request: FastifyRequest, c: string, g: string, m: GroupMember): Consumer {
  return {
    kind: 'KafkaConsumer',
    metadata: { self: link(request, consumerPath(c, g, m.consumerId)), resource_name: `crn:///kafka=${c}/consumer-group=${g}/consumer=${m.consumerId}` },
    cluster_id: c,
    consumer_group_id: g,
    consumer_id: m.consumerId,
    instance_id: m.instanceId,
    client_id: m.clientId,
    assignments: { related: link(request, `${consumerPath(c, g, m.consumerId)}/assignments`) }
  }
}

function assignment (request: FastifyRequest, c: string, g: string, m: string, a: { topic: string, partition: number }): Assignment {
  return {
    kind: 'KafkaConsumerAssignment',
    metadata: {
      self: link(request, `${consumerPath(c, g, m)}/assignments/${enc(a.topic)}/partitions/${a.partition}`),
      resource_name: `crn:///kafka=${c}/consumer-group=${g}/consumer=${m}/assignment=${a.topic}/partition=${a.partition}`
    },
    cluster_id: c,
    consumer_group_id: g,
    consumer_id: m,
    topic_name: a.topic,
    partition_id: a.partition,
    partition: { related: link(request, partitionPath(c, a.topic, a.partition)) },
    lag: { related: link(request, lagPath(c, g, a.topic, a.partition)) }
  }
}

function lag (request: FastifyRequest, c: string, g: string, l: PartitionLag): Lag {
  return {
    kind: 'KafkaConsumerLag',
    metadata: { self: link(request, lagPath(c, g, l.topic, l.partition)), resource_name: `crn:///kafka=${c}/consumer-group=${g}/lag=${l.topic}/partition=${l.partition}` },
    cluster_id: c,
    consumer_group_id: g,
    topic_name: l.topic,
    partition_id: l.partition,
    current_offset: l.currentOffset,
    log_end_offset: l.logEndOffset,
    lag: l.lag,
    consumer_id: l.consumerId,
    instance_id: l.instanceId,
    client_id: l.clientId
  }
}

function member (g: GroupInfo, consumerId: string): GroupMember {
  const found = g.members.find((m) => m.consumerId === consumerId)
  if (!found) throw new ResourceNotFoundError(`Consumer ${consumerId} of consumer group ${g.groupId} cannot be found.`)
  return found
}

export default async function v3ConsumerGroupRoutes (fastify: FastifyInstance): Promise<void> {
  const groups = fastify.consumerGroups

  fastify.route<RouteTypes['listConsumerGroupsV3']>({
    ...routes.listConsumerGroupsV3,
    handler: async (request, reply) => {
      const c = request.params.cluster_id
      const all = await groups.list(request, c)
      return reply.code(200).send({
        kind: 'KafkaConsumerGroupList',
        metadata: { self: link(request, `${clusterPath(c)}/consumer-groups`), next: null },
        data: all.map((g) => group(request, c, g))
      })
    }
  })

  fastify.route<RouteTypes['getConsumerGroupV3']>({
    ...routes.getConsumerGroupV3,
    handler: async (request, reply) => {
      const { cluster_id: c, consumer_group_id: g } = request.params
      return reply.code(200).send(group(request, c, await groups.get(request, c, g)))
    }
  })

  fastify.route<RouteTypes['deleteConsumerGroupV3']>({
    ...routes.deleteConsumerGroupV3,
    handler: async (request, reply) => {
      await groups.delete(request, request.params.cluster_id, request.params.consumer_group_id)
      return reply.code(204).send()
    }
  })

  fastify.route<RouteTypes['listConsumersV3']>({
    ...routes.listConsumersV3,
    handler: async (request, reply) => {
      const { cluster_id: c, consumer_group_id: g } = request.params
      const info = await groups.get(request, c, g)
      return reply.code(200).send({
        kind: 'KafkaConsumerList',
        metadata: { self: link(request, `${groupPath(c, g)}/consumers`), next: null },
        data: info.members.map((m) => consumer(request, c, g, m))
      })
    }
  })

  fastify.route<RouteTypes['getConsumerV3']>({
    ...routes.getConsumerV3,
    handler: async (request, reply) => {
      const { cluster_id: c, consumer_group_id: g, consumer_id: m } = request.params
      return reply.code(200).send(consumer(request, c, g, member(await groups.get(request, c, g), m)))
    }
  })

  fastify.route<RouteTypes['listConsumerAssignmentsV3']>({
    ...routes.listConsumerAssignmentsV3,
    handler: async (request, reply) => {
      const { cluster_id: c, consumer_group_id: g, consumer_id: m } = request.params
      const found = member(await groups.get(request, c, g), m)
      return reply.code(200).send({
        kind: 'KafkaConsumerAssignmentList',
        metadata: { self: link(request, `${consumerPath(c, g, m)}/assignments`), next: null },
        data: found.assignments.map((a) => assignment(request, c, g, m, a))
      })
    }
  })

  fastify.route<RouteTypes['getConsumerAssignmentV3']>({
    ...routes.getConsumerAssignmentV3,
    handler: async (request, reply) => {
      const { cluster_id: c, consumer_group_id: g, consumer_id: m, topic_name: t, partition_id: p } = request.params
      const found = member(await groups.get(request, c, g), m).assignments.find((a) => a.topic === t && a.partition === p)
      if (!found) throw new ResourceNotFoundError(`Partition ${t}-${p} is not assigned to consumer ${m} of consumer group ${g}.`)
      return reply.code(200).send(assignment(request, c, g, m, found))
    }
  })

  fastify.route<RouteTypes['listConsumerLagsV3']>({
    ...routes.listConsumerLagsV3,
    handler: async (request, reply) => {
      const { cluster_id: c, consumer_group_id: g } = request.params
      const lags = await groups.lags(request, c, g)
      return reply.code(200).send({
        kind: 'KafkaConsumerLagList',
        metadata: { self: link(request, `${groupPath(c, g)}/lags`), next: null },
        data: lags.map((l) => lag(request, c, g, l))
      })
    }
  })

  fastify.route<RouteTypes['getConsumerLagV3']>({
    ...routes.getConsumerLagV3,
    handler: async (request, reply) => {
      const { cluster_id: c, consumer_group_id: g, topic_name: t, partition_id: p } = request.params
      const found = (await groups.lags(request, c, g)).find((l) => l.topic === t && l.partition === p)
      if (!found) throw new ResourceNotFoundError(`Consumer group ${g} has no committed offset on partition ${t}-${p}.`)
      return reply.code(200).send(lag(request, c, g, found))
    }
  })

  fastify.route<RouteTypes['getConsumerGroupLagSummaryV3']>({
    ...routes.getConsumerGroupLagSummaryV3,
    handler: async (request, reply) => {
      const { cluster_id: c, consumer_group_id: g } = request.params
      const lags = await groups.lags(request, c, g)
      const max = lags.reduce<PartitionLag | undefined>((best, l) => (best === undefined || l.lag > best.lag ? l : best), undefined)
      return reply.code(200).send({
        kind: 'KafkaConsumerGroupLagSummary',
        metadata: { self: link(request, `${groupPath(c, g)}/lag-summary`), resource_name: `crn:///kafka=${c}/consumer-group=${g}/lag-summary` },
        cluster_id: c,
        consumer_group_id: g,
        max_lag_consumer_id: max?.consumerId ?? '',
        max_lag_instance_id: max?.instanceId ?? null,
        max_lag_client_id: max?.clientId ?? '',
        max_lag_topic_name: max?.topic ?? '',
        max_lag_partition_id: max?.partition ?? -1,
        max_lag: max?.lag ?? 0,
        total_lag: lags.reduce((sum, l) => sum + l.lag, 0),
        max_lag_consumer: { related: link(request, consumerPath(c, g, max?.consumerId ?? '')) },
        max_lag_partition: { related: link(request, partitionPath(c, max?.topic ?? '', max?.partition ?? -1)) }
      })
    }
  })

  fastify.route<RouteTypes['resetConsumerGroupOffsetsV3']>({
    ...routes.resetConsumerGroupOffsetsV3,
    handler: async (request, reply) => {
      const { cluster_id: c, consumer_group_id: g } = request.params
      const { strategy, topics, timestamp, offsets, dry_run: dryRun } = request.body
      const done = await groups.resetOffsets(request, c, g, { strategy, topics, timestamp, offsets, dryRun: dryRun ?? false })
      return reply.code(200).send({
        kind: 'KafkaConsumerGroupOffsetsReset',
        metadata: { self: link(request, `${groupPath(c, g)}/offsets:reset`), resource_name: null },
        cluster_id: c,
        consumer_group_id: g,
        dry_run: dryRun ?? false,
        data: done.map((o) => ({ topic_name: o.topic, partition_id: o.partition, previous_offset: o.previousOffset, offset: o.offset }))
      })
    }
  })
}
