// Consumer groups behind the Confluent v3 API: describe them, their members and assignments, their lag; and, beyond
// Confluent, delete a group and reset its committed offsets.
//
// librdkafka (the shared admin client) lists, describes and deletes groups, reads committed offsets and the
// partitions' offsets; its JavaScript binding has no AlterConsumerGroupOffsets, so a reset commits the new offsets
// through @platformatic/kafka's Admin. Deleting a group and resetting its offsets are refused while the group has
// active members: their next commit would undo a reset, and Kafka itself refuses to delete a non-empty group.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import {
  CODES, ConsumerGroupStates, ConsumerGroupTypes, OffsetSpec, type GroupDescription, type LibrdKafkaError, type ListOffsetsResult
} from '@confluentinc/kafka-javascript'
import { GroupNotEmptyError, ResourceNotFoundError, ValidationError, fromKafkaError, kafkaCode } from '../lib/errors'

export interface GroupMember {
  consumerId: string
  instanceId: string | null
  clientId: string
  assignments: Array<{ topic: string, partition: number }>
}
export interface GroupInfo {
  groupId: string
  isSimple: boolean
  partitionAssignor: string
  /** Kafka's name of the state: STABLE, EMPTY, PREPARING_REBALANCE, ... */
  state: string
  /** CLASSIC, CONSUMER or UNKNOWN. */
  type: string
  coordinatorId: number
  members: GroupMember[]
}
export interface PartitionLag {
  topic: string
  partition: number
  currentOffset: number
  logEndOffset: number
  lag: number
  /** The member the partition is assigned to; '' when none is. */
  consumerId: string
  instanceId: string | null
  clientId: string
}
export interface ResetSpec {
  strategy: 'EARLIEST' | 'LATEST' | 'TIMESTAMP' | 'OFFSETS'
  topics?: string[]
  timestamp?: string | number
  offsets?: Array<{ topic_name: string, partition_id: number, offset: number }>
  dryRun: boolean
}
export interface ResetOffset { topic: string, partition: number, previousOffset: number | null, offset: number }

export interface ConsumerGroupService {
  /** Every group of the cluster, described, by id. ResourceNotFoundError unless clusterId is this cluster's. */
  list: (request: FastifyRequest, clusterId: string) => Promise<GroupInfo[]>
  /** One group; ResourceNotFoundError when Kafka does not know it (state DEAD). */
  get: (request: FastifyRequest, clusterId: string, groupId: string) => Promise<GroupInfo>
  /** The lag of every partition the group has a committed offset on, by topic and partition. */
  lags: (request: FastifyRequest, clusterId: string, groupId: string) => Promise<PartitionLag[]>
  /** Deletes the group and its offsets; GroupNotEmptyError while it has active members. */
  delete: (request: FastifyRequest, clusterId: string, groupId: string) => Promise<void>
  /** Moves (or, dry run, computes) the group's committed offsets; GroupNotEmptyError while it has active members. */
  resetOffsets: (request: FastifyRequest, clusterId: string, groupId: string, spec: ResetSpec) => Promise<ResetOffset[]>
}

declare module 'fastify' {
  interface FastifyInstance { consumerGroups: ConsumerGroupService }
}

const E = CODES.ERRORS
// What Kafka answers a commit of offsets for a group that (meanwhile) has members.
const GROUP_BUSY = new Set<number>([E.ERR_NON_EMPTY_GROUP, E.ERR_UNKNOWN_MEMBER_ID, E.ERR_ILLEGAL_GENERATION, E.ERR_REBALANCE_IN_PROGRESS])

// The binding's enums are plain objects at run time (no reverse mapping): the name of a value is looked up.
const nameOf = (table: object, value: number): string => Object.entries(table).find(([, v]) => v === value)?.[0] ?? 'UNKNOWN'
const notFound = (groupId: string): ResourceNotFoundError => new ResourceNotFoundError(`Consumer group ${groupId} cannot be found.`)
const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`

function groupInfo (g: GroupDescription): GroupInfo {
  return {
    groupId: g.groupId,
    isSimple: g.isSimpleConsumerGroup,
    partitionAssignor: g.partitionAssignor,
    state: nameOf(ConsumerGroupStates, g.state),
    type: nameOf(ConsumerGroupTypes, g.type),
    coordinatorId: g.coordinator?.id ?? -1,
    members: g.members.map((m) => ({
      consumerId: m.memberId,
      instanceId: m.groupInstanceId ?? null,
      clientId: m.clientId,
      assignments: (m.assignment?.topicPartitions ?? [])
        .map((tp) => ({ topic: tp.topic, partition: tp.partition }))
        .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
    })).sort((a, b) => a.consumerId.localeCompare(b.consumerId))
  }
}

/** An ISO 8601 date-time or milliseconds since the epoch, as milliseconds. */
function timestampMs (value: string | number | undefined): number {
  if (value === undefined) throw new ValidationError('body/timestamp is required with strategy TIMESTAMP.')
  const ms = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Date.parse(value)
  if (!Number.isSafeInteger(ms) || ms < 0) throw new ValidationError(`body/timestamp is not an ISO 8601 date-time nor milliseconds since the epoch (got ${JSON.stringify(value)}).`)
  return ms
}

async function consumerGroups (fastify: FastifyInstance): Promise<void> {
  const timeout = fastify.config.kafkaTimeoutMs

  function call<T> (request: FastifyRequest, context: string, run: (done: (err: LibrdKafkaError | null | undefined, result: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      run((err, result) => {
        if (err) reject(fromKafkaError(err, { resource: context }, request.id))
        else resolve(result)
      })
    })
  }

  async function assertCluster (request: FastifyRequest, clusterId: string): Promise<void> {
    const { id } = await fastify.kafka.cluster(request)
    if (id !== clusterId) throw new ResourceNotFoundError(`Cluster ${clusterId} cannot be found.`)
  }

  async function describe (request: FastifyRequest, groupIds: string[]): Promise<GroupDescription[]> {
    if (groupIds.length === 0) return []
    const { admin } = fastify.kafka.clientsFor(request)
    const what = groupIds.length === 1 ? `consumer group '${groupIds[0] ?? ''}'` : 'the consumer groups'
    const result = await call<{ groups: GroupDescription[] }>(request, what, (done) => { admin.describeGroups(groupIds, { timeout }, done) })
    return result.groups
  }

  async function get (request: FastifyRequest, groupId: string): Promise<GroupInfo> {
    const [g] = await describe(request, [groupId])
    if (!g || (g.error && kafkaCode(g.error) === E.ERR_GROUP_ID_NOT_FOUND)) throw notFound(groupId)
    if (g.error) throw fromKafkaError(g.error, { resource: `consumer group '${groupId}'` }, request.id)
    // Kafka describes a group it does not know as DEAD, without an error.
    if (g.state === ConsumerGroupStates.DEAD) throw notFound(groupId)
    return groupInfo(g)
  }

  /** The committed offsets of the group (only partitions that have one), by topic and partition. */
  async function committed (request: FastifyRequest, groupId: string): Promise<Map<string, { topic: string, partition: number, offset: number }>> {
    const { admin } = fastify.kafka.clientsFor(request)
    const [result] = await call<Array<{ error?: LibrdKafkaError, partitions: Array<{ topic: string, partition: number, offset: number, error?: LibrdKafkaError }> }>>(
      request, `consumer group '${groupId}'`, (done) => { admin.listConsumerGroupOffsets([{ groupId }], { timeout }, done) })
    if (result?.error) throw fromKafkaError(result.error, { resource: `consumer group '${groupId}'` }, request.id)
    const out = new Map<string, { topic: string, partition: number, offset: number }>()
    for (const p of result?.partitions ?? []) if (!p.error && p.offset >= 0) out.set(partitionKey(p.topic, p.partition), p)
    return out
  }

  /** Offsets of partitions by spec (earliest, latest, a timestamp: -1 when no record is at or after it). */
  async function listOffsets (request: FastifyRequest, partitions: Array<{ topic: string, partition: number }>, spec: OffsetSpec): Promise<ListOffsetsResult[]> {
    if (partitions.length === 0) return []
    const { admin } = fastify.kafka.clientsFor(request)
    return await call<ListOffsetsResult[]>(request, 'the partitions\' offsets', (done) => {
      admin.listOffsets(partitions.map((p) => ({ ...p, offset: spec })), { timeout }, done)
    })
  }

  async function offsetsBy (request: FastifyRequest, partitions: Array<{ topic: string, partition: number }>, spec: OffsetSpec): Promise<Map<string, number>> {
    const out = new Map<string, number>()
    for (const r of await listOffsets(request, partitions, spec)) {
      if (r.error) throw fromKafkaError(r.error, { topic: r.topic, partition: r.partition }, request.id)
      out.set(partitionKey(r.topic, r.partition), r.offset)
    }
    return out
  }

  async function assertEmpty (request: FastifyRequest, groupId: string): Promise<void> {
    const group = await get(request, groupId)
    if (group.members.length > 0) throw new GroupNotEmptyError(groupId, group.members.length)
  }

  /** The partitions a reset touches and the offset each gets. */
  async function resetTargets (request: FastifyRequest, spec: ResetSpec): Promise<Array<{ topic: string, partition: number, offset: number }>> {
    if (spec.strategy === 'OFFSETS') {
      if (!spec.offsets?.length) throw new ValidationError('body/offsets is required with strategy OFFSETS.')
      const seen = new Set<string>()
      for (const [i, o] of spec.offsets.entries()) {
        const key = partitionKey(o.topic_name, o.partition_id)
        if (seen.has(key)) throw new ValidationError(`body/offsets/${i}: partition ${o.topic_name}-${o.partition_id} is listed twice.`)
        seen.add(key)
        await fastify.metadata.partition(request, o.topic_name, o.partition_id)
      }
      const partitions = spec.offsets.map((o) => ({ topic: o.topic_name, partition: o.partition_id }))
      const [low, high] = await Promise.all([offsetsBy(request, partitions, OffsetSpec.EARLIEST), offsetsBy(request, partitions, OffsetSpec.LATEST)])
      return spec.offsets.map((o, i) => {
        const key = partitionKey(o.topic_name, o.partition_id)
        const first = low.get(key) ?? 0
        const end = high.get(key) ?? 0
        if (o.offset < first || o.offset > end) {
          throw new ValidationError(`body/offsets/${i}/offset ${o.offset} is outside partition ${o.topic_name}-${o.partition_id} (${first} to ${end}).`)
        }
        return { topic: o.topic_name, partition: o.partition_id, offset: o.offset }
      })
    }
    if (!spec.topics?.length) throw new ValidationError(`body/topics is required with strategy ${spec.strategy}.`)
    const ms = spec.strategy === 'TIMESTAMP' ? timestampMs(spec.timestamp) : undefined
    const partitions: Array<{ topic: string, partition: number }> = []
    for (const topic of new Set(spec.topics)) {
      for (const p of await fastify.metadata.partitions(request, topic)) partitions.push({ topic, partition: p.id })
    }
    const latest = await offsetsBy(request, partitions, OffsetSpec.LATEST)
    const chosen = spec.strategy === 'EARLIEST'
      ? await offsetsBy(request, partitions, OffsetSpec.EARLIEST)
      : ms !== undefined ? await offsetsBy(request, partitions, new OffsetSpec(ms)) : latest
    // No record at or after the timestamp: the partition's end, as kafka-consumer-groups --to-datetime does.
    return partitions.map((p) => {
      const key = partitionKey(p.topic, p.partition)
      const offset = chosen.get(key) ?? -1
      return { ...p, offset: offset >= 0 ? offset : latest.get(key) ?? 0 }
    })
  }

  const service: ConsumerGroupService = {
    async list (request, clusterId) {
      await assertCluster(request, clusterId)
      const { admin } = fastify.kafka.clientsFor(request)
      const listed = await call<{ groups: Array<{ groupId: string }>, errors: LibrdKafkaError[] }>(request, 'the consumer groups', (done) => {
        admin.listGroups({ timeout }, done)
      })
      if (listed.errors.length > 0 && listed.groups.length === 0) throw fromKafkaError(listed.errors[0], { resource: 'the consumer groups' }, request.id)
      const described = await describe(request, listed.groups.map((g) => g.groupId))
      // A group deleted between the two calls is DEAD by now: gone from the list.
      return described.filter((g) => !g.error && g.state !== ConsumerGroupStates.DEAD).map(groupInfo)
        .sort((a, b) => a.groupId.localeCompare(b.groupId))
    },

    async get (request, clusterId, groupId) {
      await assertCluster(request, clusterId)
      return await get(request, groupId)
    },

    async lags (request, clusterId, groupId) {
      await assertCluster(request, clusterId)
      const group = await get(request, groupId)
      const offsets = [...(await committed(request, groupId)).values()]
      const owner = new Map<string, GroupMember>()
      for (const m of group.members) for (const a of m.assignments) owner.set(partitionKey(a.topic, a.partition), m)
      const ends = await listOffsets(request, offsets, OffsetSpec.LATEST)
      const lags: PartitionLag[] = []
      for (const end of ends) {
        // A partition whose topic was deleted has no end any more: it has no lag to report either.
        if (end.error) {
          const code = kafkaCode(end.error)
          if (code === E.ERR_UNKNOWN_TOPIC_OR_PART || code === E.ERR__UNKNOWN_TOPIC || code === E.ERR__UNKNOWN_PARTITION) continue
          throw fromKafkaError(end.error, { topic: end.topic, partition: end.partition }, request.id)
        }
        const key = partitionKey(end.topic, end.partition)
        const current = offsets.find((o) => partitionKey(o.topic, o.partition) === key)?.offset ?? 0
        const member = owner.get(key)
        lags.push({
          topic: end.topic,
          partition: end.partition,
          currentOffset: current,
          logEndOffset: end.offset,
          lag: Math.max(0, end.offset - current),
          consumerId: member?.consumerId ?? '',
          instanceId: member?.instanceId ?? null,
          clientId: member?.clientId ?? ''
        })
      }
      return lags.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
    },

    async delete (request, clusterId, groupId) {
      await assertCluster(request, clusterId)
      await assertEmpty(request, groupId)
      const { admin } = fastify.kafka.clientsFor(request)
      const [result] = await call<Array<{ groupId: string, errorCode?: number, error?: LibrdKafkaError }>>(request, `consumer group '${groupId}'`, (done) => {
        admin.deleteGroups([groupId], { timeout }, done)
      })
      const failure = result?.error ?? (result?.errorCode ? { code: result.errorCode } : undefined)
      if (!failure) return
      const code = kafkaCode(failure)
      if (code === E.ERR_NON_EMPTY_GROUP) throw new GroupNotEmptyError(groupId, 1)
      if (code === E.ERR_GROUP_ID_NOT_FOUND) throw notFound(groupId)
      throw fromKafkaError(failure, { resource: `consumer group '${groupId}'` }, request.id)
    },

    async resetOffsets (request, clusterId, groupId, spec) {
      await assertCluster(request, clusterId)
      await assertEmpty(request, groupId)
      const targets = await resetTargets(request, spec)
      const before = await committed(request, groupId)
      if (!spec.dryRun && targets.length > 0) {
        const byTopic = new Map<string, Array<{ partition: number, offset: bigint }>>()
        for (const t of targets) byTopic.set(t.topic, [...(byTopic.get(t.topic) ?? []), { partition: t.partition, offset: BigInt(t.offset) }])
        const { configAdmin } = fastify.kafka.clientsFor(request)
        await configAdmin.alterConsumerGroupOffsets({ groupId, topics: [...byTopic].map(([name, partitionOffsets]) => ({ name, partitionOffsets })) })
          .catch(async (err: unknown) => {
            const code = kafkaCode(err)
            if (code !== undefined && GROUP_BUSY.has(code)) {
              const group = await get(request, groupId).catch(() => undefined)
              throw new GroupNotEmptyError(groupId, Math.max(1, group?.members.length ?? 1))
            }
            throw fromKafkaError(err, { resource: `consumer group '${groupId}'` }, request.id)
          })
      }
      return targets.map((t) => ({ ...t, previousOffset: before.get(partitionKey(t.topic, t.partition))?.offset ?? null }))
        .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
    }
  }

  fastify.decorate('consumerGroups', service)
}

export default fp(consumerGroups, { name: 'consumer-groups', dependencies: ['kafka-connection', 'metadata'] })
