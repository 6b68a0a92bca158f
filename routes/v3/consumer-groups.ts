// Confluent REST Proxy v3 consumer groups: groups, their consumers and assignments, lags and the lag summary, in
// Confluent's resource shapes; and, beyond Confluent, DELETE of a group and POST .../offsets:reset. Kafka work is in
// kafka/groups.ts (`request.kafkaApi.consumerGroups`).
import type { FastifyRequest } from 'fastify'
import { type RouteTypes } from '../../generated/routes'
import type { Handlers } from '../../http/register'
import { link } from '../../http/links'
import { ResourceNotFoundError, ValidationError } from '../../lib/errors'
import type { GroupInfo, GroupMember, PartitionLag, ResetSpec } from '../../kafka/groups'
import { clusterPath, collection } from './admin-resources'

type Group = RouteTypes['getConsumerGroupV3']['Reply'][200]
type Consumer = RouteTypes['getConsumerV3']['Reply'][200]
type Assignment = RouteTypes['getConsumerAssignmentV3']['Reply'][200]
type Lag = RouteTypes['getConsumerLagV3']['Reply'][200]
type ResetRequest = RouteTypes['resetConsumerGroupOffsetsV3']['Body']

const enc = encodeURIComponent
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

/** An ISO 8601 date-time or milliseconds since the epoch, as milliseconds. */
function timestampMs (value: string | number | undefined): number {
  if (value === undefined) throw new ValidationError('body/timestamp is required with strategy TIMESTAMP.')
  const ms = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Date.parse(value)
  if (!Number.isSafeInteger(ms) || ms < 0) throw new ValidationError(`body/timestamp is not an ISO 8601 date-time nor milliseconds since the epoch (got ${JSON.stringify(value)}).`)
  return ms
}

/** The reset a request body asks for; ValidationError for what the strategy needs and the body lacks. */
function resetSpec (body: ResetRequest): ResetSpec {
  const dryRun = body.dry_run ?? false
  if (body.strategy === 'OFFSETS') {
    if (!body.offsets?.length) throw new ValidationError('body/offsets is required with strategy OFFSETS.')
    const seen = new Set<string>()
    for (const [i, o] of body.offsets.entries()) {
      const key = `${o.topic_name}\u0000${o.partition_id}`
      if (seen.has(key)) throw new ValidationError(`body/offsets/${i}: partition ${o.topic_name}-${o.partition_id} is listed twice.`)
      seen.add(key)
    }
    return { strategy: 'OFFSETS', offsets: body.offsets.map((o) => ({ topic: o.topic_name, partition: o.partition_id, offset: o.offset })), dryRun }
  }
  if (!body.topics?.length) throw new ValidationError(`body/topics is required with strategy ${body.strategy}.`)
  if (body.strategy === 'TIMESTAMP') return { strategy: 'TIMESTAMP', topics: body.topics, timestampMs: timestampMs(body.timestamp), dryRun }
  return { strategy: body.strategy, topics: body.topics, dryRun }
}

export const consumerGroups = {
  listConsumerGroupsV3: async (request, reply) => {
    const c = request.params.cluster_id
    await request.kafkaApi.cluster.assertCluster(c)
    const all = await request.kafkaApi.consumerGroups.list()
    return reply.code(200).send(collection(request, 'KafkaConsumerGroupList', `${clusterPath(c)}/consumer-groups`, all.map((g) => group(request, c, g))))
  },

  getConsumerGroupV3: async (request, reply) => {
    const { cluster_id: c, consumer_group_id: g } = request.params
    await request.kafkaApi.cluster.assertCluster(c)
    return reply.code(200).send(group(request, c, await request.kafkaApi.consumerGroups.get(g)))
  },

  deleteConsumerGroupV3: async (request, reply) => {
    await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    await request.kafkaApi.consumerGroups.delete(request.params.consumer_group_id)
    return reply.code(204).send()
  },

  listConsumersV3: async (request, reply) => {
    const { cluster_id: c, consumer_group_id: g } = request.params
    await request.kafkaApi.cluster.assertCluster(c)
    const info = await request.kafkaApi.consumerGroups.get(g)
    return reply.code(200).send(collection(request, 'KafkaConsumerList', `${groupPath(c, g)}/consumers`, info.members.map((m) => consumer(request, c, g, m))))
  },

  getConsumerV3: async (request, reply) => {
    const { cluster_id: c, consumer_group_id: g, consumer_id: m } = request.params
    await request.kafkaApi.cluster.assertCluster(c)
    return reply.code(200).send(consumer(request, c, g, member(await request.kafkaApi.consumerGroups.get(g), m)))
  },

  listConsumerAssignmentsV3: async (request, reply) => {
    const { cluster_id: c, consumer_group_id: g, consumer_id: m } = request.params
    await request.kafkaApi.cluster.assertCluster(c)
    const found = member(await request.kafkaApi.consumerGroups.get(g), m)
    return reply.code(200).send(collection(request, 'KafkaConsumerAssignmentList', `${consumerPath(c, g, m)}/assignments`,
      found.assignments.map((a) => assignment(request, c, g, m, a))))
  },

  getConsumerAssignmentV3: async (request, reply) => {
    const { cluster_id: c, consumer_group_id: g, consumer_id: m, topic_name: t, partition_id: p } = request.params
    await request.kafkaApi.cluster.assertCluster(c)
    const found = member(await request.kafkaApi.consumerGroups.get(g), m).assignments.find((a) => a.topic === t && a.partition === p)
    if (!found) throw new ResourceNotFoundError(`Partition ${t}-${p} is not assigned to consumer ${m} of consumer group ${g}.`)
    return reply.code(200).send(assignment(request, c, g, m, found))
  },

  listConsumerLagsV3: async (request, reply) => {
    const { cluster_id: c, consumer_group_id: g } = request.params
    await request.kafkaApi.cluster.assertCluster(c)
    const lags = await request.kafkaApi.consumerGroups.lags(g)
    return reply.code(200).send(collection(request, 'KafkaConsumerLagList', `${groupPath(c, g)}/lags`, lags.map((l) => lag(request, c, g, l))))
  },

  getConsumerLagV3: async (request, reply) => {
    const { cluster_id: c, consumer_group_id: g, topic_name: t, partition_id: p } = request.params
    await request.kafkaApi.cluster.assertCluster(c)
    const found = (await request.kafkaApi.consumerGroups.lags(g)).find((l) => l.topic === t && l.partition === p)
    if (!found) throw new ResourceNotFoundError(`Consumer group ${g} has no committed offset on partition ${t}-${p}.`)
    return reply.code(200).send(lag(request, c, g, found))
  },

  getConsumerGroupLagSummaryV3: async (request, reply) => {
    const { cluster_id: c, consumer_group_id: g } = request.params
    await request.kafkaApi.cluster.assertCluster(c)
    const lags = await request.kafkaApi.consumerGroups.lags(g)
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
  },

  resetConsumerGroupOffsetsV3: async (request, reply) => {
    const { cluster_id: c, consumer_group_id: g } = request.params
    await request.kafkaApi.cluster.assertCluster(c)
    const spec = resetSpec(request.body)
    const done = await request.kafkaApi.consumerGroups.resetOffsets(g, spec)
    return reply.code(200).send({
      kind: 'KafkaConsumerGroupOffsetsReset',
      metadata: { self: link(request, `${groupPath(c, g)}/offsets:reset`), resource_name: null },
      cluster_id: c,
      consumer_group_id: g,
      dry_run: spec.dryRun,
      data: done.map((o) => ({ topic_name: o.topic, partition_id: o.partition, previous_offset: o.previousOffset, offset: o.offset }))
    })
  }
} satisfies Partial<Handlers<'confluent-v3'>>
