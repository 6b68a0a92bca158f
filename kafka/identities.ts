// Per-caller Kafka clients (KAFKA_IDENTITY=caller): each caller's credentials get a KafkaConnection of their own (a
// producer, librdkafka's admin client and @platformatic/kafka's Admin on the caller's SASL login) and the Kafka
// modules built on it, so that every call a request makes is the caller's to Kafka and Kafka's ACLs decide it.
//
// Bounded: at most IDENTITY_CACHE_MAX callers' clients at once (the least recently used closed first), each closed
// after IDENTITY_IDLE_MS unused, and a bearer token's clients closed before the token expires (Kafka would refuse
// them then; the caller's next token gets new ones). Credentials Kafka refuses are a 401 for that caller, and nothing
// is kept of them.
import type { Log } from './log'
import type { Config } from '../lib/config'
import { KafkaAuthenticationError, ShuttingDownError, UnauthorizedError } from '../lib/errors'
import { Acls } from './acls'
import { Cluster } from './cluster'
import { Configs } from './configs'
import { KafkaConnection } from './connection'
import { ConsumerGroups } from './groups'
import type { CallerIdentity } from './identity'
import { Produce } from './produce'
import { Reads } from './reads'
import { Topics } from './topics'

/** The Kafka modules a request uses, on one identity's connection. */
export interface KafkaApi {
  readonly kafka: KafkaConnection
  readonly cluster: Cluster
  readonly topics: Topics
  readonly configs: Configs
  readonly produce: Produce
  readonly consumerGroups: ConsumerGroups
  readonly acls: Acls
  readonly reads: Reads
}

export interface ApiOptions {
  /** STATE_TOPIC, which no caller may write, delete or change. */
  stateTopic: string
  onProduced?: (acknowledged: number, failed: number, seconds: number) => void
}

/** The Kafka modules on a connection. */
export function kafkaApi (kafka: KafkaConnection, options: ApiOptions, log: Log): KafkaApi {
  const reserved = [options.stateTopic]
  const cluster = new Cluster(kafka)
  return {
    kafka,
    cluster,
    topics: new Topics(kafka, { reserved }),
    configs: new Configs(kafka, cluster, { reserved }),
    produce: new Produce(kafka, { reserved, ...(options.onProduced ? { onProduced: options.onProduced } : {}) }),
    consumerGroups: new ConsumerGroups(kafka, cluster),
    acls: new Acls(kafka),
    reads: new Reads(kafka, kafka.config, log.child({ component: 'reads' }))
  }
}

/** How long before a bearer token's expiry its clients are closed: 30 s, or a tenth of what it had left if less. */
const TOKEN_MARGIN_MS = 30_000
const SWEEP_MS = 1_000

interface Entry {
  readonly api: Promise<KafkaApi>
  lastUsed: number
  /** Closed at this time whatever its use (a token's expiry less the margin). */
  readonly closeAt: number
}

async function closeApi (api: KafkaApi): Promise<void> {
  await api.reads.close()
  await api.kafka.close()
}

export class Identities {
  /** In order of last use, the least recent first (a Map keeps insertion order; a use re-inserts). */
  private readonly entries = new Map<string, Entry>()
  private readonly sweeper: NodeJS.Timeout
  private closing = false

  constructor (private readonly config: Config, private readonly options: ApiOptions, private readonly log: Log) {
    this.sweeper = setInterval(() => { this.sweep() }, SWEEP_MS)
    this.sweeper.unref()
  }

  /** Callers whose clients are open (or opening). */
  get size (): number { return this.entries.size }

  /**
   * The caller's Kafka modules, connected on its login: the ones kept for these credentials, or new ones.
   * UnauthorizedError (401) when Kafka refuses the credentials or the token has expired; why Kafka is unavailable
   * otherwise.
   */
  async api (identity: CallerIdentity): Promise<KafkaApi> {
    const now = Date.now()
    if (identity.expiresAt !== undefined && identity.expiresAt <= now) throw refused('The bearer token has expired: send a new one.')
    const known = this.entries.get(identity.key)
    if (known && known.closeAt > now) {
      this.entries.delete(identity.key)
      this.entries.set(identity.key, known)
      known.lastUsed = now
      return await known.api
    }
    if (known) this.drop(identity.key, known, 'its token expires')
    const entry: Entry = { api: this.open(identity), lastUsed: now, closeAt: closeAtOf(identity, now) }
    this.entries.set(identity.key, entry)
    entry.api.catch(() => { if (this.entries.get(identity.key) === entry) this.entries.delete(identity.key) })
    this.evictOverflow()
    return await entry.api
  }

  /** Closes every caller's clients (at shutdown, after the consumers). */
  async close (): Promise<void> {
    this.closing = true
    clearInterval(this.sweeper)
    const all = [...this.entries.values()]
    this.entries.clear()
    await Promise.all(all.map(async (e) => { await e.api.then(closeApi, () => undefined) }))
  }

  private async open (identity: CallerIdentity): Promise<KafkaApi> {
    const log = this.log.child({ principal: identity.principal })
    const connection = new KafkaConnection({ ...this.config, sasl: identity.sasl }, log, { idempotent: false })
    await connection.connect()
    const failure = await connection.failure()
    if (failure) {
      await connection.close()
      if (failure instanceof KafkaAuthenticationError) throw refused(`Kafka refused the credentials of ${identity.principal}.`, failure)
      throw failure
    }
    if (this.closing) {
      await connection.close()
      throw new ShuttingDownError()
    }
    log.info('a caller\'s Kafka clients are open')
    return kafkaApi(connection, this.options, log)
  }

  private sweep (): void {
    const now = Date.now()
    for (const [key, entry] of this.entries) {
      if (entry.closeAt <= now) this.drop(key, entry, 'its token expires')
      else if (now - entry.lastUsed > this.config.identityIdleMs) this.drop(key, entry, 'idle')
    }
  }

  private evictOverflow (): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.config.identityCacheMax) return
      this.drop(key, entry, 'the least recently used, over IDENTITY_CACHE_MAX')
    }
  }

  private drop (key: string, entry: Entry, why: string): void {
    if (this.entries.get(key) === entry) this.entries.delete(key)
    entry.api.then(async (api) => {
      this.log.info({ why }, 'closing a caller\'s Kafka clients')
      await closeApi(api)
    }, () => undefined).catch((err: unknown) => { this.log.warn({ err }, 'closing a caller\'s Kafka clients failed') })
  }
}

/** What a 401 for a caller's credentials asks for. */
export const CHALLENGE = 'Basic realm="kosha", charset="UTF-8", Bearer realm="kosha"'

function refused (message: string, cause?: unknown): UnauthorizedError {
  const error = new UnauthorizedError(CHALLENGE, message)
  if (cause !== undefined) Object.defineProperty(error, 'cause', { value: cause })
  return error
}

function closeAtOf (identity: CallerIdentity, now: number): number {
  if (identity.expiresAt === undefined) return Number.POSITIVE_INFINITY
  return identity.expiresAt - Math.min(TOKEN_MARGIN_MS, (identity.expiresAt - now) / 10)
}
