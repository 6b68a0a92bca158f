// Every stream this process serves: one map, one cap (STREAM_MAX), one shutdown. Each stream is a StreamMember.
import { randomUUID } from 'node:crypto'
import type { Log } from '../log'
import type { Config, SaslSettings } from '../../lib/config'
import { ShuttingDownError, StreamNotFoundError, TooManyStreamsError } from '../../lib/errors'
import { StreamMember, type StreamOptions } from './member'

export type StreamSettings = Pick<Config, 'brokers' | 'sasl' | 'tls' | 'kafkaTimeoutMs' | 'streamMax' | 'streamBufferBytes' | 'streamMaxUnacked'>

/**
 * A new stream's id: opaque to clients, unique, made here only. Behind several replicas it starts with the id of the
 * replica serving it (`<replicaId>.<uuid>`), so that a commit call reaching another replica is forwarded there.
 */
export function newStreamId (replicaId?: string): string {
  return replicaId === undefined ? randomUUID() : `${replicaId}.${randomUUID()}`
}

/** The replica a stream id names (undefined: none; a stream of a single process). */
export function replicaOfStream (id: string): string | undefined {
  const dot = id.indexOf('.')
  return dot > 0 ? id.slice(0, dot) : undefined
}

export class StreamRegistry {
  private readonly all = new Map<string, StreamMember>()
  private closing = false

  constructor (private readonly settings: StreamSettings, private readonly log: Log) {}

  /**
   * A new member of `group`, connected, not yet subscribed (start() does that): TooManyStreamsError past
   * STREAM_MAX, counting streams still connecting.
   */
  async open (options: Omit<StreamOptions, 'id'>, replicaId?: string, sasl?: SaslSettings): Promise<StreamMember> {
    if (this.closing) throw new ShuttingDownError()
    if (this.all.size >= this.settings.streamMax) throw new TooManyStreamsError(this.settings.streamMax)
    const id = newStreamId(replicaId)
    const limits = { bufferBytes: this.settings.streamBufferBytes, maxUnacked: this.settings.streamMaxUnacked }
    const settings = sasl ? { ...this.settings, sasl } : this.settings
    const member: StreamMember = new StreamMember(settings, { ...options, id }, limits,
      this.log.child({ stream: id, group: options.group }), () => { if (this.all.get(id) === member) this.all.delete(id) })
    this.all.set(id, member)
    try {
      await member.connect()
    } catch (err) {
      this.all.delete(id)
      // Closed, not just unlisted: its client must let go of it (kafka/consumers/forget.ts).
      await member.close('failed to start')
      throw err
    }
    return member
  }

  /** The live stream of that id in that group; StreamNotFoundError otherwise. */
  get (group: string, id: string): StreamMember {
    const member = this.find(group, id)
    if (!member) throw new StreamNotFoundError(id, group)
    return member
  }

  /** The live stream of that id in that group, if this process serves it (and it is `owner`'s, when owned). */
  find (group: string, id: string, owner?: string): StreamMember | undefined {
    const member = this.all.get(id)
    return member && !member.closed && member.group === group && member.owner === owner ? member : undefined
  }

  count (): number { return this.all.size }

  /** Streams whose partitions are paused because their client is behind. */
  paused (): number { return [...this.all.values()].filter((m) => m.paused).length }

  /** Ends every stream (at shutdown, before the Kafka connection closes): each commits what was acknowledged. */
  async closeAll (reason: string): Promise<void> {
    this.closing = true
    await Promise.all([...this.all.values()].map(async (m) => { await m.close(reason) }))
  }
}
