// Every consumer the service holds for HTTP callers, v1 consumers and v2 consumer instances alike: one registry,
// one cap (CONSUMER_MAX) for the whole service, one idle expiry (CONSUMER_IDLE_TIMEOUT_MS), one shutdown.
import type { Log } from '../log'
import type { Config } from '../../lib/config'
import { ConsumerExistsError, ConsumerNotFoundError, ShuttingDownError, TooManyConsumersError } from '../../lib/errors'
import { ConsumerSession, type ConsumerId, type SessionOptions } from './session'

export type RegistrySettings = Pick<Config, 'brokers' | 'sasl' | 'tls' | 'kafkaTimeoutMs' | 'consumerMax' | 'consumerIdleTimeoutMs'>

// v1 names and v2 instance names are separate namespaces: a v1 consumer "a" and an instance "a" of a group can coexist.
const keyOf = (id: ConsumerId): string => id.group === undefined ? `v1\u0000${id.name}` : `v2\u0000${id.group}\u0000${id.name}`
const describe = (id: ConsumerId): string => id.group === undefined ? `consumer '${id.name}'` : `consumer instance '${id.name}' of group '${id.group}'`

export class ConsumerRegistry {
  private readonly all = new Map<string, ConsumerSession>()
  private closing = false

  constructor (private readonly settings: RegistrySettings, private readonly log: Log) {}

  /** A new connected consumer; ConsumerExistsError for a name in use, TooManyConsumersError past CONSUMER_MAX. */
  async create (options: SessionOptions): Promise<ConsumerSession> {
    if (this.closing) throw new ShuttingDownError()
    const key = keyOf(options.id)
    if (this.all.has(key)) throw new ConsumerExistsError(options.id.name, options.id.group)
    if (this.all.size >= this.settings.consumerMax) throw new TooManyConsumersError(this.settings.consumerMax)
    const idleMs = this.settings.consumerIdleTimeoutMs
    const log = this.log.child({ consumer: options.id.name, ...(options.id.group !== undefined ? { group: options.id.group } : {}) })
    const session: ConsumerSession = new ConsumerSession(this.settings, options, log, idleMs, () => {
      log.info(`${describe(options.id)} idle for ${idleMs} ms: closing it`)
      this.close(session).catch((err: unknown) => log.error({ err }, 'closing an idle consumer failed'))
    })
    // The name is reserved before connecting, so that a concurrent create of the same name is a 409, and the cap
    // counts consumers still connecting.
    this.all.set(key, session)
    try {
      await session.connect()
    } catch (err) {
      this.all.delete(key)
      session.closed = true
      throw err
    }
    return session
  }

  /** The live consumer of that name; ConsumerNotFoundError when there is none (never created, deleted, expired). */
  get (id: ConsumerId): ConsumerSession {
    if (this.closing) throw new ShuttingDownError()
    const session = this.all.get(keyOf(id))
    if (!session || session.closed) throw new ConsumerNotFoundError(id.name, id.group)
    return session
  }

  async delete (id: ConsumerId): Promise<void> {
    await this.close(this.get(id))
  }

  /** Live consumers, of every API. */
  count (): number { return this.all.size }

  /** Closes every consumer (at shutdown, before the producer is flushed); later calls answer ShuttingDownError. */
  async closeAll (): Promise<void> {
    this.closing = true
    await Promise.all([...this.all.values()].map((s) => this.close(s)))
  }

  private async close (session: ConsumerSession): Promise<void> {
    if (session.closed) return
    const key = keyOf(session.id)
    if (this.all.get(key) === session) this.all.delete(key)
    await session.close()
    this.log.info({ consumer: session.id.name }, `${describe(session.id)} closed`)
  }
}
