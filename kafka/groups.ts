// Consumer groups: describe them, their members and assignments, their lag; delete a group and reset its committed
// offsets.
//
// librdkafka (the shared admin client) lists, describes and deletes groups, reads committed offsets and the
// partitions' offsets; its JavaScript binding has no AlterConsumerGroupOffsets, so a reset commits the new offsets
// through @platformatic/kafka's Admin. Deleting a group and resetting its offsets are refused while the group has
// active members: their next commit would undo a reset, and Kafka itself refuses to delete a non-empty group.
import {
  CODES, ConsumerGroupStates, ConsumerGroupTypes, OffsetSpec, type GroupDescription, type LibrdKafkaError, type ListOffsetsResult
} from '@confluentinc/kafka-javascript'
import { GroupNotEmptyError, ResourceNotFoundError, ValidationError } from '../lib/errors'
import { fromCallback } from './callback'
import { Cluster } from './cluster'
import type { KafkaConnection } from './connection'
import { nameOf } from './enums'
import { fromKafkaError, kafkaCode } from './errors'

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
export interface PartitionOffset { topic: string, partition: number, offset: number }
/**
 * Where a reset moves the group's committed offsets: to the first or the next offset of every partition of the
 * topics, to the first record at or after a time (ms since the epoch), or to the offsets given (each partition once).
 */
export type ResetSpec = (
  | { strategy: 'EARLIEST' | 'LATEST', topics: string[] }
  | { strategy: 'TIMESTAMP', topics: string[], timestampMs: number }
  | { strategy: 'OFFSETS', offsets: PartitionOffset[] }
) & { dryRun: boolean }
export interface ResetOffset { topic: string, partition: number, previousOffset: number | null, offset: number }

const E = CODES.ERRORS
// What Kafka answers a commit of offsets for a group that (meanwhile) has members.
const GROUP_BUSY = new Set<number>([E.ERR_NON_EMPTY_GROUP, E.ERR_UNKNOWN_MEMBER_ID, E.ERR_ILLEGAL_GENERATION, E.ERR_REBALANCE_IN_PROGRESS])

const notFound = (groupId: string): ResourceNotFoundError => new ResourceNotFoundError(`Consumer group ${groupId} cannot be found.`)
const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`
const byPartition = (a: { topic: string, partition: number }, b: { topic: string, partition: number }): number =>
  a.topic.localeCompare(b.topic) || a.partition - b.partition

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
      assignments: (m.assignment?.topicPartitions ?? []).map((tp) => ({ topic: tp.topic, partition: tp.partition })).sort(byPartition)
    })).sort((a, b) => a.consumerId.localeCompare(b.consumerId))
  }
}

/**
 * Removes a static member (group.instance.id) from its group: a static member that closes does not leave, and would
 * hold its partitions until its session times out. The member ids of that instance id, from DescribeGroups, are
 * removed with LeaveGroup (@platformatic/kafka's removeMembersFromConsumerGroup). Resolves when none is left.
 */
export async function removeStaticMember (kafka: KafkaConnection, groupId: string, instanceId: string): Promise<void> {
  const { admin, configAdmin } = kafka.clients()
  const described = await fromCallback<{ groups: GroupDescription[] }>((done) => { admin.describeGroups([groupId], { timeout: kafka.timeoutMs }, done) })
    .catch((err: unknown) => { throw fromKafkaError(err, { resource: `consumer group '${groupId}'` }) })
  const members = (described.groups[0]?.members ?? []).filter((m) => m.groupInstanceId === instanceId)
  if (members.length === 0) return
  await configAdmin.removeMembersFromConsumerGroup({ groupId, members: members.map((m) => ({ memberId: m.memberId, reason: 'the consumer was deleted or expired' })) })
    .catch((err: unknown) => {
      // Gone meanwhile (e.g. its session timed out): what was wanted.
      if (kafkaCode(err) === E.ERR_UNKNOWN_MEMBER_ID) return
      throw fromKafkaError(err, { resource: `consumer group '${groupId}'` })
    })
}

type CommittedOffsets = Array<{ error?: LibrdKafkaError, partitions: Array<{ topic: string, partition: number, offset: number, error?: LibrdKafkaError }> }>

export class ConsumerGroups {
  constructor (private readonly kafka: KafkaConnection, private readonly cluster: Cluster = new Cluster(kafka)) {}

  /** Every group of the cluster, described, by id. */
  async list (): Promise<GroupInfo[]> {
    const { admin } = this.kafka.clients()
    const listed = await this.call<{ groups: Array<{ groupId: string }>, errors: LibrdKafkaError[] }>('the consumer groups', (done) => {
      admin.listGroups({ timeout: this.kafka.timeoutMs }, done)
    })
    if (listed.errors.length > 0 && listed.groups.length === 0) throw fromKafkaError(listed.errors[0], { resource: 'the consumer groups' })
    const described = await this.describe(listed.groups.map((g) => g.groupId))
    // A group deleted between the two calls is DEAD by now: gone from the list.
    return described.filter((g) => !g.error && g.state !== ConsumerGroupStates.DEAD).map(groupInfo)
      .sort((a, b) => a.groupId.localeCompare(b.groupId))
  }

  /** One group; ResourceNotFoundError when Kafka does not know it (state DEAD). */
  async get (groupId: string): Promise<GroupInfo> {
    const [g] = await this.describe([groupId])
    if (!g || (g.error && kafkaCode(g.error) === E.ERR_GROUP_ID_NOT_FOUND)) throw notFound(groupId)
    if (g.error) throw fromKafkaError(g.error, { resource: `consumer group '${groupId}'` })
    // Kafka describes a group it does not know as DEAD, without an error.
    if (g.state === ConsumerGroupStates.DEAD) throw notFound(groupId)
    return groupInfo(g)
  }

  /** The lag of every partition the group has a committed offset on, by topic and partition. */
  async lags (groupId: string): Promise<PartitionLag[]> {
    const group = await this.get(groupId)
    const offsets = [...(await this.committed(groupId)).values()]
    const owner = new Map<string, GroupMember>()
    for (const m of group.members) for (const a of m.assignments) owner.set(partitionKey(a.topic, a.partition), m)
    const ends = await this.listOffsets(offsets, OffsetSpec.LATEST)
    const lags: PartitionLag[] = []
    for (const end of ends) {
      // A partition whose topic was deleted has no end any more: it has no lag to report either.
      if (end.error) {
        const code = kafkaCode(end.error)
        if (code === E.ERR_UNKNOWN_TOPIC_OR_PART || code === E.ERR__UNKNOWN_TOPIC || code === E.ERR__UNKNOWN_PARTITION) continue
        throw fromKafkaError(end.error, { topic: end.topic, partition: end.partition })
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
    return lags.sort(byPartition)
  }

  /** Deletes the group and its offsets; GroupNotEmptyError while it has active members. */
  async delete (groupId: string): Promise<void> {
    await this.assertEmpty(groupId)
    const { admin } = this.kafka.clients()
    const [result] = await this.call<Array<{ groupId: string, errorCode?: number, error?: LibrdKafkaError }>>(`consumer group '${groupId}'`, (done) => {
      admin.deleteGroups([groupId], { timeout: this.kafka.timeoutMs }, done)
    })
    const failure = result?.error ?? (result?.errorCode ? { code: result.errorCode } : undefined)
    if (!failure) return
    const code = kafkaCode(failure)
    if (code === E.ERR_NON_EMPTY_GROUP) throw new GroupNotEmptyError(groupId, 1)
    if (code === E.ERR_GROUP_ID_NOT_FOUND) throw notFound(groupId)
    throw fromKafkaError(failure, { resource: `consumer group '${groupId}'` })
  }

  /** Moves (or, dry run, computes) the group's committed offsets; GroupNotEmptyError while it has active members. */
  async resetOffsets (groupId: string, spec: ResetSpec): Promise<ResetOffset[]> {
    await this.assertEmpty(groupId)
    const targets = await this.resetTargets(spec)
    const before = await this.committed(groupId)
    if (!spec.dryRun && targets.length > 0) {
      const byTopic = new Map<string, Array<{ partition: number, offset: bigint }>>()
      for (const t of targets) byTopic.set(t.topic, [...(byTopic.get(t.topic) ?? []), { partition: t.partition, offset: BigInt(t.offset) }])
      const { configAdmin } = this.kafka.clients()
      await configAdmin.alterConsumerGroupOffsets({ groupId, topics: [...byTopic].map(([name, partitionOffsets]) => ({ name, partitionOffsets })) })
        .catch(async (err: unknown) => {
          const code = kafkaCode(err)
          if (code !== undefined && GROUP_BUSY.has(code)) {
            const group = await this.get(groupId).catch(() => undefined)
            throw new GroupNotEmptyError(groupId, Math.max(1, group?.members.length ?? 1))
          }
          throw fromKafkaError(err, { resource: `consumer group '${groupId}'` })
        })
    }
    return targets.map((t) => ({ ...t, previousOffset: before.get(partitionKey(t.topic, t.partition))?.offset ?? null })).sort(byPartition)
  }

  /** A librdkafka admin call, its error as a catalogue error about `context`. */
  private async call<T> (context: string, run: (done: (err: unknown, result?: T) => void) => void): Promise<T> {
    return await fromCallback<T>(run).catch((err: unknown) => { throw fromKafkaError(err, { resource: context }) })
  }

  private async describe (groupIds: string[]): Promise<GroupDescription[]> {
    if (groupIds.length === 0) return []
    const { admin } = this.kafka.clients()
    const what = groupIds.length === 1 ? `consumer group '${groupIds[0] ?? ''}'` : 'the consumer groups'
    const result = await this.call<{ groups: GroupDescription[] }>(what, (done) => { admin.describeGroups(groupIds, { timeout: this.kafka.timeoutMs }, done) })
    return result.groups
  }

  /** The committed offsets of the group (only partitions that have one), by topic and partition. */
  private async committed (groupId: string): Promise<Map<string, PartitionOffset>> {
    const { admin } = this.kafka.clients()
    const [result] = await this.call<CommittedOffsets>(`consumer group '${groupId}'`, (done) => {
      admin.listConsumerGroupOffsets([{ groupId }], { timeout: this.kafka.timeoutMs }, done)
    })
    if (result?.error) throw fromKafkaError(result.error, { resource: `consumer group '${groupId}'` })
    const out = new Map<string, PartitionOffset>()
    for (const p of result?.partitions ?? []) if (!p.error && p.offset >= 0) out.set(partitionKey(p.topic, p.partition), p)
    return out
  }

  /** Offsets of partitions by spec (earliest, latest, a timestamp: -1 when no record is at or after it). */
  private async listOffsets (partitions: Array<{ topic: string, partition: number }>, spec: OffsetSpec): Promise<ListOffsetsResult[]> {
    if (partitions.length === 0) return []
    const { admin } = this.kafka.clients()
    return await this.call<ListOffsetsResult[]>('the partitions\' offsets', (done) => {
      admin.listOffsets(partitions.map((p) => ({ ...p, offset: spec })), { timeout: this.kafka.timeoutMs }, done)
    })
  }

  private async offsetsBy (partitions: Array<{ topic: string, partition: number }>, spec: OffsetSpec): Promise<Map<string, number>> {
    const out = new Map<string, number>()
    for (const r of await this.listOffsets(partitions, spec)) {
      if (r.error) throw fromKafkaError(r.error, { topic: r.topic, partition: r.partition })
      out.set(partitionKey(r.topic, r.partition), r.offset)
    }
    return out
  }

  private async assertEmpty (groupId: string): Promise<void> {
    const group = await this.get(groupId)
    if (group.members.length > 0) throw new GroupNotEmptyError(groupId, group.members.length)
  }

  /** The partitions a reset touches and the offset each gets. */
  private async resetTargets (spec: ResetSpec): Promise<PartitionOffset[]> {
    if (spec.strategy === 'OFFSETS') {
      for (const o of spec.offsets) await this.cluster.partition(o.topic, o.partition)
      const [low, high] = await Promise.all([this.offsetsBy(spec.offsets, OffsetSpec.EARLIEST), this.offsetsBy(spec.offsets, OffsetSpec.LATEST)])
      return spec.offsets.map((o, i) => {
        const key = partitionKey(o.topic, o.partition)
        const first = low.get(key) ?? 0
        const end = high.get(key) ?? 0
        // The offsets are the request body's, in its order: the message names the entry there.
        if (o.offset < first || o.offset > end) {
          throw new ValidationError(`body/offsets/${i}/offset ${o.offset} is outside partition ${o.topic}-${o.partition} (${first} to ${end}).`)
        }
        return { topic: o.topic, partition: o.partition, offset: o.offset }
      })
    }
    const partitions: Array<{ topic: string, partition: number }> = []
    for (const topic of new Set(spec.topics)) {
      for (const p of await this.cluster.partitions(topic)) partitions.push({ topic, partition: p.id })
    }
    const latest = await this.offsetsBy(partitions, OffsetSpec.LATEST)
    const chosen = spec.strategy === 'EARLIEST'
      ? await this.offsetsBy(partitions, OffsetSpec.EARLIEST)
      : spec.strategy === 'TIMESTAMP' ? await this.offsetsBy(partitions, new OffsetSpec(spec.timestampMs)) : latest
    // No record at or after the timestamp: the partition's end, as kafka-consumer-groups --to-datetime does.
    return partitions.map((p) => {
      const key = partitionKey(p.topic, p.partition)
      const offset = chosen.get(key) ?? -1
      return { ...p, offset: offset >= 0 ? offset : latest.get(key) ?? 0 }
    })
  }
}
