// The records of the state topic (kafka/replicas/state.ts): their keys, and their values read back defensively (only
// this service writes the topic, and no API may produce to it, but a record another version wrote must not crash a
// view: what does not parse is ignored).
import type { ConsumerDefinition, ConsumerId } from '../consumers/session'

export interface ReplicaRecord { url: string, started: number }
export interface ConsumerRecord {
  /** The replicaId of the process holding the consumer; null: released (at a graceful shutdown), any replica may take it. */
  holder: string | null
  definition: ConsumerDefinition
  /** When the record was written (ms): a released consumer no one takes over within the idle timeout has expired. */
  since: number
}

export const replicaKey = (replicaId: string): string => `replica/${replicaId}`

/** consumer/v1/<name> or consumer/v2/<group>/<instance>, each part URI-encoded (names may hold '/'). */
export function consumerKey (id: ConsumerId): string {
  const e = encodeURIComponent
  return id.group === undefined ? `consumer/v1/${e(id.name)}` : `consumer/v2/${e(id.group)}/${e(id.name)}`
}

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const isString = (v: unknown): v is string => typeof v === 'string'
const isPartition = (v: unknown): v is { topic: string, partition: number } => isObject(v) && isString(v.topic) && Number.isInteger(v.partition)

function parse (text: string): Json | undefined {
  try {
    const v: unknown = JSON.parse(text)
    return isObject(v) ? v : undefined
  } catch {
    return undefined
  }
}

export function parseReplicaRecord (text: string): ReplicaRecord | undefined {
  const v = parse(text)
  return v && isString(v.url) && typeof v.started === 'number' ? { url: v.url, started: v.started } : undefined
}

export function parseConsumerRecord (text: string): ConsumerRecord | undefined {
  const v = parse(text)
  if (!v || !(v.holder === null || isString(v.holder))) return undefined
  const d = v.definition
  if (!isObject(d) || !isObject(d.id) || !isString(d.id.name) || !(d.id.group === undefined || isString(d.id.group))) return undefined
  if (!(d.id.owner === undefined || isString(d.id.owner))) return undefined
  if (!isString(d.groupId) || typeof d.autoCommit !== 'boolean' || typeof d.requestTimeoutMs !== 'number') return undefined
  if ((d.format !== 'binary' && d.format !== 'json' && d.format !== 'avro' && d.format !== 'jsonschema') || (d.offsetReset !== 'earliest' && d.offsetReset !== 'latest')) return undefined
  if ((d.mode !== 'none' && d.mode !== 'subscribed' && d.mode !== 'assigned') || !Array.isArray(d.topics) || !d.topics.every(isString)) return undefined
  if (!Array.isArray(d.partitions) || !d.partitions.every(isPartition)) return undefined
  const definition: ConsumerDefinition = {
    id: { name: d.id.name, ...(d.id.group !== undefined ? { group: d.id.group } : {}), ...(d.id.owner !== undefined ? { owner: d.id.owner } : {}) },
    groupId: d.groupId,
    autoCommit: d.autoCommit,
    requestTimeoutMs: d.requestTimeoutMs,
    format: d.format,
    offsetReset: d.offsetReset,
    mode: d.mode,
    topics: d.topics,
    partitions: d.partitions.map((p) => ({ topic: p.topic, partition: p.partition })),
    ...(typeof d.fetchMinBytes === 'number' ? { fetchMinBytes: d.fetchMinBytes } : {}),
    ...(isString(d.instanceId) ? { instanceId: d.instanceId } : {})
  }
  return { holder: v.holder, definition, since: typeof v.since === 'number' ? v.since : 0 }
}
