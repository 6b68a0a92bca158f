// Every consumer the service holds for HTTP callers, v1 consumers and v2 consumer instances alike: one registry,
// one cap (CONSUMER_MAX) for the whole service, one idle expiry (CONSUMER_IDLE_TIMEOUT_MS), one shutdown.
//
// Each session is a static member of its group (group.instance.id from its id), so that another replica taking it
// over replaces this member at once. A static member does not leave its group when it closes; so a DELETE or an idle
// expiry removes it from the group explicitly (`release`), and the rest of the group gets its partitions at once.
// Whoever records where consumers live (the replicas' ledger, kafka/replicas/) is told of every change.
import { createHash } from 'node:crypto'
import type { Log } from '../log'
import type { Config, SaslSettings } from '../../lib/config'
import { ConsumerExistsError, ConsumerNotFoundError, ShuttingDownError, TooManyConsumersError } from '../../lib/errors'
import { ConsumerSession, type ConsumerDefinition, type ConsumerId, type SessionOptions } from './session'

export type RegistrySettings = Pick<Config, 'brokers' | 'sasl' | 'tls' | 'kafkaTimeoutMs' | 'consumerMax' | 'consumerIdleTimeoutMs'>

/** Where consumers are recorded beyond this process. Each call resolves once the record is durable. */
export interface ConsumerLedger {
  /** A new consumer, held here; ConsumerExistsError when one of that id exists anywhere. */
  created: (definition: ConsumerDefinition) => Promise<void>
  /** Its subscription or assignment changed. */
  changed: (definition: ConsumerDefinition) => Promise<void>
  /** Deleted or expired: it exists nowhere any more. */
  removed: (id: ConsumerId) => Promise<void>
  /** Closed at shutdown, still existing: held by no one until the next request takes it over. */
  released: (definitions: ConsumerDefinition[]) => Promise<void>
}

export interface RegistryOptions {
  ledger?: ConsumerLedger
  /** Removes a static member from its group (a closed static member would otherwise hold its partitions until its session times out). */
  release?: (groupId: string, instanceId: string) => Promise<void>
}

/** Why a session closes: what is done about its group membership and its record follows from it. */
type Ending = 'deleted' | 'expired' | 'shutdown' | 'taken over'

// v1 names and v2 instance names are separate namespaces: a v1 consumer "a" and an instance "a" of a group can coexist.
export const keyOf = (id: ConsumerId): string => id.group === undefined ? `v1\u0000${id.name}` : `v2\u0000${id.group}\u0000${id.name}`
export const describe = (id: ConsumerId): string => id.group === undefined ? `consumer '${id.name}'` : `consumer instance '${id.name}' of group '${id.group}'`

/**
 * The consumer's group.instance.id: the same in every process for the same id, unique per id, and within what Kafka
 * accepts ([a-zA-Z0-9._-], at most 249 characters) whatever the name holds.
 */
export function staticInstanceId (id: ConsumerId): string {
  const readable = (id.group === undefined ? id.name : `${id.group}.${id.name}`).replace(/[^a-zA-Z0-9._-]/g, '_').slice(0, 96)
  return `kosha-${readable}-${createHash('sha256').update(keyOf(id)).digest('hex').slice(0, 16)}`
}

export class ConsumerRegistry {
  private readonly all = new Map<string, ConsumerSession>()
  private closing = false
  private readonly ledger: ConsumerLedger | undefined
  private readonly release: NonNullable<RegistryOptions['release']>

  constructor (private readonly settings: RegistrySettings, private readonly log: Log, options: RegistryOptions = {}) {
    this.ledger = options.ledger
    this.release = options.release ?? (async () => undefined)
  }

  /**
   * A new connected consumer; ConsumerExistsError for a name in use, TooManyConsumersError past CONSUMER_MAX. sasl:
   * the login of the caller it is created for (KAFKA_IDENTITY=caller), else the connector's.
   */
  async create (options: SessionOptions, sasl?: SaslSettings): Promise<ConsumerSession> {
    const session = this.reserve({ ...options, instanceId: staticInstanceId(options.id) }, sasl)
    try {
      await this.ledger?.created(session.definition())
    } catch (err) {
      await this.discard(session)
      throw err
    }
    try {
      await session.connect()
    } catch (err) {
      await this.discard(session)
      await this.ledger?.removed(session.id).catch((e: unknown) => this.log.warn({ err: e }, 'removing the record of a consumer that failed to start failed'))
      throw err
    }
    return session
  }

  /**
   * The consumer a definition describes, started here (a takeover: the caller recorded it as held here). Being a
   * static member of the same instance id, it replaces the previous holder's member in the group at once.
   */
  async adopt (definition: ConsumerDefinition, sasl?: SaslSettings): Promise<ConsumerSession> {
    const live = this.all.get(keyOf(definition.id))
    if (live && !live.closed) return live
    const session = this.reserve({ ...definition, instanceId: definition.instanceId ?? staticInstanceId(definition.id) }, sasl)
    try {
      await session.connect()
      await session.restore(definition)
    } catch (err) {
      await this.discard(session)
      throw err
    }
    this.log.info({ consumer: definition.id.name }, `${describe(definition.id)} taken over`)
    return session
  }

  /**
   * The live consumer of that name; ConsumerNotFoundError when there is none (never created, deleted, expired), or
   * when it belongs to another owner than the id names (KAFKA_IDENTITY=caller: another caller's consumer).
   */
  get (id: ConsumerId): ConsumerSession {
    if (this.closing) throw new ShuttingDownError()
    const session = this.all.get(keyOf(id))
    if (!session || session.closed || session.id.owner !== id.owner) throw new ConsumerNotFoundError(id.name, id.group)
    return session
  }

  /** Whether this process holds the consumer (of any owner). */
  holds (id: ConsumerId): boolean {
    const session = this.all.get(keyOf(id))
    return session !== undefined && !session.closed
  }

  async delete (id: ConsumerId): Promise<void> {
    await this.close(this.get(id), 'deleted')
  }

  /** Another process holds the consumer now: close it here, leaving its record and its group membership alone. */
  async yield (id: ConsumerId): Promise<void> {
    const session = this.all.get(keyOf(id))
    if (session) await this.close(session, 'taken over')
  }

  /** Live consumers, of every API. */
  count (): number { return this.all.size }

  /**
   * Closes every consumer (at shutdown, before the producer is flushed), each staying a member of its group, and
   * records them as held by no one, so that the next request for one, on any replica, takes it over at once. Later
   * calls answer ShuttingDownError.
   */
  async closeAll (): Promise<void> {
    this.closing = true
    const sessions = [...this.all.values()]
    await Promise.all(sessions.map((s) => this.close(s, 'shutdown')))
    if (sessions.length > 0) {
      await this.ledger?.released(sessions.map((s) => s.definition()))
        .catch((err: unknown) => this.log.warn({ err }, 'recording the consumers as released failed: other replicas take them over once they see this one gone'))
    }
  }

  /** A session of that id, counted and named, not yet connected. */
  private reserve (options: SessionOptions, sasl?: SaslSettings): ConsumerSession {
    if (this.closing) throw new ShuttingDownError()
    const key = keyOf(options.id)
    if (this.all.has(key)) throw new ConsumerExistsError(options.id.name, options.id.group)
    if (this.all.size >= this.settings.consumerMax) throw new TooManyConsumersError(this.settings.consumerMax)
    const idleMs = this.settings.consumerIdleTimeoutMs
    const log = this.log.child({ consumer: options.id.name, ...(options.id.group !== undefined ? { group: options.id.group } : {}) })
    const settings = sasl ? { ...this.settings, sasl } : this.settings
    const session: ConsumerSession = new ConsumerSession(settings, options, log, {
      idleMs,
      onIdle: () => {
        log.info(`${describe(options.id)} idle for ${idleMs} ms: closing it`)
        this.close(session, 'expired').catch((err: unknown) => log.error({ err }, 'closing an idle consumer failed'))
      },
      onFenced: () => {
        log.warn(`${describe(options.id)} was started by another replica: closing it here`)
        this.close(session, 'taken over').catch((err: unknown) => log.error({ err }, 'closing a fenced consumer failed'))
      },
      onChange: async (definition) => { await this.ledger?.changed(definition) }
    })
    // The name is reserved before connecting, so that a concurrent create of the same name is a 409, and the cap
    // counts consumers still connecting.
    this.all.set(key, session)
    return session
  }

  /** A session that failed to start: out of the registry, and closed (disconnected if it had connected). */
  private async discard (session: ConsumerSession): Promise<void> {
    const key = keyOf(session.id)
    if (this.all.get(key) === session) this.all.delete(key)
    await session.close().catch((err: unknown) => this.log.warn({ err }, 'closing a consumer that failed to start failed'))
  }

  private async close (session: ConsumerSession, ending: Ending): Promise<void> {
    if (session.closed) return
    const key = keyOf(session.id)
    if (this.all.get(key) === session) this.all.delete(key)
    const instanceId = session.definition().instanceId
    await session.close()
    if (ending === 'deleted' || ending === 'expired') {
      // The consumer is gone here either way; a failed release costs the group a session timeout.
      if (instanceId !== undefined) {
        await this.release(session.groupId, instanceId).catch((err: unknown) => this.log.warn({ err, group: session.groupId }, 'removing the member from its group failed: its partitions move on after the session timeout'))
      }
      // A DELETE that could not remove the record fails (a retry finishes it); an expiry tells the log.
      const removing = this.ledger?.removed(session.id)
      if (ending === 'deleted') await removing
      else await removing?.catch((err: unknown) => this.log.warn({ err }, 'removing the expired consumer\'s record failed'))
    }
    this.log.info({ consumer: session.id.name }, `${describe(session.id)} closed`)
  }
}
