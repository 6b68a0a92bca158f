// Consumers from any replica. Each process is a replica with a random replicaId; the state topic (state.ts) records,
// per consumer, its definition and which replica holds it. A request for a consumer is served by its holder: here when
// this process holds it; else `locate` names the holder to forward to (the HTTP side forwards: http/forward.ts), or
// takes the consumer over when no one holds it, the holder is unknown, or the holder cannot be reached. Taking over
// is: record this replica as the holder (acknowledged), read the log to its end (when two replicas took it over at
// once, the later record wins, in every view alike), and start the session from the definition. Its static group
// membership (the same group.instance.id) replaces the previous holder's member at once; its positions come from the
// group's committed offsets. A replica whose consumer was taken over (its view reads a later record naming another
// holder, or librdkafka reports the member fenced) closes its session without touching the record or the group.
import { randomUUID } from 'node:crypto'
import type { Log } from '../log'
import type { SaslSettings } from '../../lib/config'
import { ConsumerExistsError, ReplicaUnavailableError } from '../../lib/errors'
import type { ConsumerLedger, ConsumerRegistry } from '../consumers/registry'
import type { ConsumerDefinition, ConsumerId } from '../consumers/session'
import { consumerKey, replicaKey } from './records'
import type { ConsumerEntry, StateView } from './state'

/** Where a consumer's requests are served. */
export type Placement =
  | { at: 'here' }
  | { at: 'nowhere' }
  | { at: 'replica', replicaId: string, url: string }

export interface ReplicaSettings {
  replicaUrl: string
  /** A consumer released at a shutdown and not taken over within this long has expired, as an idle one does. */
  consumerIdleTimeoutMs: number
}

export class Replicas implements ConsumerLedger {
  readonly replicaId = randomUUID()
  readonly url: string
  private registry: ConsumerRegistry | undefined
  /** Per consumer held here: its id and the offset of the record that made this replica its holder. */
  private readonly claims = new Map<string, { id: ConsumerId, offset: number }>()
  private readonly takeovers = new Map<string, Promise<Placement>>()
  private announced = false
  private readonly startedAt = Date.now()

  private readonly idleMs: number

  constructor (private readonly view: StateView, settings: ReplicaSettings, private readonly log: Log) {
    this.url = settings.replicaUrl
    this.idleMs = settings.consumerIdleTimeoutMs
    view.onConsumer((key, entry, offset) => { this.observe(key, entry?.holder, offset) })
  }

  /** The registry whose sessions this replica holds (the registry writes to this ledger: they know each other). */
  attach (registry: ConsumerRegistry): void { this.registry = registry }

  // ---- the ledger: what the registry tells of the consumers it holds ------------------------------------------------
  async created (definition: ConsumerDefinition): Promise<void> {
    if (!await this.ready()) return
    await this.view.sync()
    if (this.entryOf(definition.id)) throw new ConsumerExistsError(definition.id.name, definition.id.group)
    await this.claim(definition)
  }

  async changed (definition: ConsumerDefinition): Promise<void> {
    if (this.view.usable) await this.claim(definition)
  }

  async removed (id: ConsumerId): Promise<void> {
    const key = consumerKey(id)
    this.claims.delete(key)
    if (this.view.usable) await this.view.write(key, null)
  }

  async released (definitions: ConsumerDefinition[]): Promise<void> {
    if (!this.view.usable) return
    await Promise.all(definitions.map(async (definition) => {
      this.claims.delete(consumerKey(definition.id))
      await this.view.write(consumerKey(definition.id), { holder: null, definition, since: Date.now() })
    }))
  }

  // ---- requests -------------------------------------------------------------------------------------------------------
  /**
   * Where the requests for a consumer are served. `forwarded`: the request was forwarded by another replica, so it is
   * never forwarded again (a consumer not held here is taken over here). 'nowhere': no such consumer (404), or one of
   * another owner than the id names. sasl: the login a takeover starts it on (its owner's), else the connector's.
   */
  async locate (id: ConsumerId, forwarded: boolean, sasl?: SaslSettings): Promise<Placement> {
    if (this.holds(id)) return { at: 'here' }
    if (!await this.ready()) return { at: 'nowhere' }
    await this.view.sync()
    if (this.holds(id)) return { at: 'here' }
    const entry = this.entryOf(id)
    if (!entry || entry.definition.id.owner !== id.owner) return { at: 'nowhere' }
    const holder = entry.holder !== null && entry.holder !== this.replicaId ? this.view.replica(entry.holder) : undefined
    if (holder && entry.holder !== null && !forwarded) return { at: 'replica', replicaId: entry.holder, url: holder.url }
    return await this.takeOver(id, forwarded, sasl)
  }

  /**
   * Takes the consumer over (its holder is gone, or unreachable): at most one takeover of a consumer at a time here.
   * 'here' once this replica serves it; the holder when another replica's takeover came later in the log.
   */
  async takeOver (id: ConsumerId, forwarded: boolean, sasl?: SaslSettings): Promise<Placement> {
    const key = consumerKey(id)
    const running = this.takeovers.get(key)
    if (running) return await running
    const work = this.runTakeover(id, forwarded, sasl).finally(() => this.takeovers.delete(key))
    this.takeovers.set(key, work)
    return await work
  }

  /** The URL of a replica by its id (for requests about something only that replica holds); undefined: unknown. */
  async urlOf (replicaId: string): Promise<string | undefined> {
    if (replicaId === this.replicaId) return this.url
    if (!await this.ready()) return undefined
    if (!this.view.replica(replicaId)) await this.view.sync()
    return this.view.replica(replicaId)?.url
  }

  /** At shutdown, after the registry released its consumers: this replica's record goes; the view stops. */
  async close (): Promise<void> {
    if (this.announced && this.view.usable) {
      await this.view.write(replicaKey(this.replicaId), null).catch((err: unknown) => this.log.warn({ err }, 'removing this replica\'s record failed'))
    }
    await this.view.close()
  }

  /**
   * Makes this replica findable by the others (its URL in the state topic), for what only it can serve (a stream):
   * true once it is; false when the state topic cannot be used (a single replica, as far as the others can tell).
   */
  async announce (): Promise<boolean> { return await this.ready() }

  private holds (id: ConsumerId): boolean { return this.registry?.holds(id) === true }

  /** Starts the view (lazily, on the first consumer created or looked up) and records this replica's URL once. */
  private async ready (): Promise<boolean> {
    if (!await this.view.start()) return false
    if (!this.announced) {
      await this.view.write(replicaKey(this.replicaId), { url: this.url, started: this.startedAt })
      this.announced = true
      this.log.info({ replicaId: this.replicaId, url: this.url }, 'this replica is in the state topic')
    }
    return true
  }

  /**
   * The consumer's record, unless it has expired: released at a shutdown and taken over by no replica within the idle
   * timeout, it is gone as an idle consumer is (its name free again; its record removed).
   */
  private entryOf (id: ConsumerId): ConsumerEntry | undefined {
    const key = consumerKey(id)
    const entry = this.view.consumerEntry(key)
    if (!entry || entry.holder !== null || Date.now() - entry.since <= this.idleMs) return entry
    this.log.info({ consumer: id.name }, 'a consumer released at a shutdown was not taken over within the idle timeout: it has expired')
    this.view.write(key, null).catch((err: unknown) => this.log.warn({ err }, 'removing an expired consumer\'s record failed'))
    return undefined
  }

  private async claim (definition: ConsumerDefinition): Promise<void> {
    const offset = await this.view.write(consumerKey(definition.id), { holder: this.replicaId, definition, since: Date.now() })
    this.claims.set(consumerKey(definition.id), { id: definition.id, offset })
  }

  private async runTakeover (id: ConsumerId, forwarded: boolean, sasl: SaslSettings | undefined): Promise<Placement> {
    const registry = this.registry
    if (!registry || !await this.ready()) return { at: 'nowhere' }
    if (registry.holds(id)) return { at: 'here' }
    const key = consumerKey(id)
    await this.view.sync()
    const entry = this.entryOf(id)
    if (!entry || entry.definition.id.owner !== id.owner) return { at: 'nowhere' }
    const previous = entry.holder
    await this.claim(entry.definition)
    await this.view.sync()
    const now = this.view.consumerEntry(key)
    if (!now) return { at: 'nowhere' }
    if (now.holder !== this.replicaId) {
      // Another replica took it over after this one did: it holds it now.
      this.claims.delete(key)
      const winner = now.holder === null ? undefined : this.view.replica(now.holder)
      if (winner && now.holder !== null && !forwarded) return { at: 'replica', replicaId: now.holder, url: winner.url }
      throw new ReplicaUnavailableError(`Another replica is taking over ${id.group === undefined ? `consumer '${id.name}'` : `consumer instance '${id.name}'`} right now: retry.`)
    }
    this.log.info({ consumer: id.name, previousHolder: previous }, 'taking the consumer over')
    await registry.adopt(now.definition, sasl)
    return { at: 'here' }
  }

  /** A consumer record read by the view: a later record naming another holder (or none) means it is not ours any more. */
  private observe (key: string, holder: string | null | undefined, offset: number): void {
    const claim = this.claims.get(key)
    if (!claim || offset <= claim.offset || holder === this.replicaId) return
    this.claims.delete(key)
    this.log.info({ consumer: claim.id.name, holder }, 'the consumer was taken over by another replica: closing it here')
    this.registry?.yield(claim.id).catch((err: unknown) => this.log.warn({ err }, 'closing a consumer taken over elsewhere failed'))
  }
}
