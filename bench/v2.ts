// The Confluent REST Proxy v2 calls the benchmark makes, the same against our service, Strimzi Kafka Bridge and
// Karapace (all three speak this API); only the auto-commit field differs: the bridge names it as the Kafka client
// does, the service and Karapace as Confluent's proxy does.
import { Pool } from 'undici'
import type { ArmName } from './types'
import type { Send } from './load'

export const JSON_V2 = 'application/vnd.kafka.json.v2+json'
/** The type of request bodies that carry no records (the bridge accepts no other there). */
export const V2 = 'application/vnd.kafka.v2+json'

/** A produce of one prepared body: its status, and how many records the answer says were stored. */
export function produceSender (pool: Pool, topic: string, body: () => string): Send {
  const path = `/topics/${encodeURIComponent(topic)}`
  return async () => {
    const res = await pool.request({ path, method: 'POST', headers: { 'content-type': JSON_V2, accept: JSON_V2 }, body: body() })
    const text = await res.body.text()
    let records = 0
    if (res.statusCode === 200) {
      const offsets = (JSON.parse(text) as { offsets?: Array<{ offset?: unknown, error?: unknown }> }).offsets ?? []
      records = offsets.filter((o) => typeof o.offset === 'number' && (o.error === undefined || o.error === null)).length
    }
    return { status: String(res.statusCode), records }
  }
}

/** The body of a v2 produce of `count` records with this JSON value. */
export function produceBody (count: number, value: unknown): string {
  return JSON.stringify({ records: Array.from({ length: count }, () => ({ value })) })
}

export interface V2Record { value: unknown, partition: number, offset: number }

async function call (pool: Pool, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<{ status: number, body: unknown }> {
  const res = await pool.request({
    path,
    method,
    headers: { accept: JSON_V2, ...(body !== undefined ? { 'content-type': V2 } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {})
  })
  const text = await res.body.text()
  return { status: res.statusCode, body: text === '' ? null : JSON.parse(text) as unknown }
}

/** A v2 consumer instance reading in the json format with auto-commit off, assigned the partitions it is given. */
export class ConsumerInstance {
  private readonly base: string
  private constructor (private readonly pool: Pool, group: string, name: string) {
    this.base = `/consumers/${encodeURIComponent(group)}/instances/${encodeURIComponent(name)}`
  }

  static async create (pool: Pool, arm: ArmName, group: string, name: string, partitions: Array<{ topic: string, partition: number }>): Promise<ConsumerInstance> {
    // Confluent's proxy (and Karapace) take the value as a string; the bridge wants a boolean.
    const autoCommit = arm === 'bridge' ? { 'enable.auto.commit': false } : { 'auto.commit.enable': 'false' }
    const created = await call(pool, 'POST', `/consumers/${encodeURIComponent(group)}`, { name, format: 'json', 'auto.offset.reset': 'earliest', ...autoCommit })
    if (created.status !== 200) throw new Error(`creating consumer ${group}/${name}: ${created.status} ${JSON.stringify(created.body)}`)
    const instance = new ConsumerInstance(pool, group, name)
    const assigned = await call(pool, 'POST', `${instance.base}/assignments`, { partitions })
    if (assigned.status !== 204) throw new Error(`assigning ${group}/${name}: ${assigned.status} ${JSON.stringify(assigned.body)}`)
    return instance
  }

  /** One records request: waits up to `timeoutMs` for records. */
  async records (timeoutMs: number, maxBytes: number): Promise<{ status: number, records: V2Record[] }> {
    const res = await call(this.pool, 'GET', `${this.base}/records?timeout=${timeoutMs}&max_bytes=${maxBytes}`)
    return { status: res.status, records: res.status === 200 && Array.isArray(res.body) ? res.body as V2Record[] : [] }
  }

  async delete (): Promise<void> {
    await call(this.pool, 'DELETE', this.base)
  }
}
