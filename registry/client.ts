// A Schema Registry through Confluent's REST API, as Confluent's registry, Karapace and Apicurio's ccompat API serve
// it: schemas registered under a subject, looked up by id or by subject and version. Every failure is a KoshaError
// of lib/errors.ts; nothing here knows HTTP routes.
//
// Ids are immutable in a registry, so a schema by id is kept for the life of the process; a registration of the same
// schema under the same subject is asked once. A subject's latest version moves: it is kept SCHEMA_REGISTRY_LATEST_TTL_MS
// (requests meanwhile share one lookup), and forgotten when this service registers a schema under the subject.
import type { SchemaRegistryConfig } from '../lib/config'
import {
  InvalidSchemaError, SchemaIncompatibleError, SchemaNotFoundError, SchemaRegistryError, SchemaRegistryUnavailableError, type KoshaError
} from '../lib/errors'

/** The registry's names of the formats. */
export type SchemaType = 'AVRO' | 'JSON' | 'PROTOBUF'

/** A schema's reference to another: what the schema calls it (an import, a type name, a $ref), and where it is. */
export interface SchemaReference {
  name: string
  subject: string
  version: number
}

export interface RegisteredSchema {
  id: number
  schema: string
  schemaType: SchemaType
  /** The schemas this one refers to (Confluent's schema references), in the order the registry gives them. */
  references: SchemaReference[]
  /** With a lookup by subject and version. */
  subject?: string
  version?: number
}

interface RegistryErrorBody { error_code?: number, message?: string }

const MAX_CACHED = 10_000

export class SchemaRegistry {
  private readonly byId = new Map<number, Promise<RegisteredSchema>>()
  private readonly registered = new Map<string, Promise<number>>()
  private readonly latest = new Map<string, { at: number, found: Promise<RegisteredSchema> }>()
  private readonly authorization: string | undefined

  constructor (private readonly config: SchemaRegistryConfig) {
    this.authorization = config.username !== undefined && config.password !== undefined
      ? `Basic ${Buffer.from(`${config.username}:${config.password}`).toString('base64')}`
      : undefined
  }

  /** Registers `schema` under `subject` (or finds it there already) and answers its id. */
  async register (subject: string, schema: string, schemaType: SchemaType): Promise<number> {
    const key = `${subject}\0${schemaType}\0${schema}`
    let id = this.registered.get(key)
    if (id === undefined) {
      id = this.call<{ id?: unknown }>('POST', `/subjects/${encodeURIComponent(subject)}/versions`, {
        schema, ...(schemaType === 'AVRO' ? {} : { schemaType })
      }, `registering a schema under subject '${subject}'`).then((r) => {
        if (typeof r.id !== 'number') throw new SchemaRegistryError(`The schema registry answered a registration under '${subject}' without an id.`)
        // It may be the subject's new latest version.
        this.latest.delete(subject)
        return r.id
      })
      remember(this.registered, key, id)
    }
    return await id
  }

  /** The schema with this id. */
  async schemaById (id: number): Promise<RegisteredSchema> {
    let found = this.byId.get(id)
    if (found === undefined) {
      found = this.call<{ schema?: unknown, schemaType?: unknown, references?: unknown }>('GET', `/schemas/ids/${id}`, undefined, `looking up schema id ${id}`)
        .then((r) => ({ id, schema: stringOf(r.schema, `schema ${id}`), schemaType: typeOf(r.schemaType), references: referencesOf(r.references, `schema ${id}`) }))
      remember(this.byId, id, found)
    }
    return await found
  }

  /** A version of a subject (a number, or the latest: see the top of the file). */
  async version (subject: string, version: number | 'latest'): Promise<RegisteredSchema> {
    if (version !== 'latest' || this.config.latestTtlMs === 0) return await this.lookUp(subject, version)
    const now = Date.now()
    let entry = this.latest.get(subject)
    if (entry === undefined || now - entry.at >= this.config.latestTtlMs) {
      entry = { at: now, found: this.lookUp(subject, 'latest') }
      if (this.latest.size >= MAX_CACHED) this.latest.delete(this.latest.keys().next().value as string)
      this.latest.set(subject, entry)
      const kept = entry
      kept.found.catch(() => { if (this.latest.get(subject) === kept) this.latest.delete(subject) })
    }
    return await entry.found
  }

  private async lookUp (subject: string, version: number | 'latest'): Promise<RegisteredSchema> {
    const r = await this.call<{ id?: unknown, schema?: unknown, schemaType?: unknown, version?: unknown, references?: unknown }>('GET',
      `/subjects/${encodeURIComponent(subject)}/versions/${version}`, undefined, `looking up version ${version} of subject '${subject}'`)
    if (typeof r.id !== 'number') throw new SchemaRegistryError(`The schema registry answered version ${version} of '${subject}' without an id.`)
    const found = {
      id: r.id,
      schema: stringOf(r.schema, `subject '${subject}'`),
      schemaType: typeOf(r.schemaType),
      references: referencesOf(r.references, `subject '${subject}'`),
      subject,
      ...(typeof r.version === 'number' ? { version: r.version } : {})
    }
    if (!this.byId.has(found.id)) remember(this.byId, found.id, Promise.resolve(found))
    return found
  }

  private async call<T> (method: 'GET' | 'POST', path: string, body: unknown, doing: string): Promise<T> {
    let res: Response
    try {
      res = await fetch(`${this.config.url}${path}`, {
        method,
        headers: {
          accept: 'application/vnd.schemaregistry.v1+json, application/json',
          ...(body !== undefined ? { 'content-type': 'application/vnd.schemaregistry.v1+json' } : {}),
          ...(this.authorization !== undefined ? { authorization: this.authorization } : {})
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.config.timeoutMs)
      })
    } catch (err) {
      const timedOut = err instanceof DOMException && err.name === 'TimeoutError'
      throw new SchemaRegistryUnavailableError(`The schema registry ${timedOut ? `did not answer within ${this.config.timeoutMs} ms (SCHEMA_REGISTRY_TIMEOUT_MS)` : 'cannot be reached'} while ${doing}: retry later.`, err)
    }
    const text = await res.text().catch(() => '')
    let parsed: unknown
    try { parsed = text === '' ? {} : JSON.parse(text) } catch { parsed = undefined }
    if (res.ok) {
      if (parsed === undefined || typeof parsed !== 'object' || parsed === null) throw new SchemaRegistryError(`The schema registry answered ${doing} with something other than JSON.`)
      return parsed as T
    }
    throw failure(res.status, (parsed ?? {}) as RegistryErrorBody, doing)
  }
}

/** The registry's error, as the service's: its codes for subjects, versions, schemas and invalid or incompatible schemas. */
function failure (status: number, body: RegistryErrorBody, doing: string): KoshaError {
  const said = typeof body.message === 'string' ? `: ${body.message}` : ''
  const code = typeof body.error_code === 'number' ? body.error_code : status
  if (code === 40401) return new SchemaNotFoundError('subject', `No such subject in the schema registry (${doing})${said}`)
  if (code === 40402 || code === 42202) return new SchemaNotFoundError('version', `No such schema version in the schema registry (${doing})${said}`)
  if (code === 40403 || status === 404) return new SchemaNotFoundError('schema', `No such schema in the schema registry (${doing})${said}`)
  if (code === 42201 || status === 422) return new InvalidSchemaError(`The schema registry refused the schema as invalid (${doing})${said}`)
  if (code === 409 || status === 409) return new SchemaIncompatibleError(`The schema is incompatible with the subject's earlier versions (${doing})${said}`)
  // A registry behind a proxy or an ingress that is down, restarting or overloaded: as unreachable as a closed port.
  if (status === 502 || status === 503 || status === 504) return new SchemaRegistryUnavailableError(`The schema registry is unavailable (${status}, from it or a proxy in front of it) while ${doing}: retry later${said}.`)
  if (status === 401 || status === 403) return new SchemaRegistryError(`The schema registry refused this service's credentials (${status}, SCHEMA_REGISTRY_USERNAME) while ${doing}${said}`)
  return new SchemaRegistryError(`The schema registry failed (${status}) while ${doing}${said}`)
}

function remember<K, V> (cache: Map<K, Promise<V>>, key: K, value: Promise<V>): void {
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as K)
  cache.set(key, value)
  // A failure is not kept: the next request asks again.
  value.catch(() => { if (cache.get(key) === value) cache.delete(key) })
}

function stringOf (value: unknown, what: string): string {
  if (typeof value !== 'string') throw new SchemaRegistryError(`The schema registry answered ${what} without its schema text.`)
  return value
}

function referencesOf (value: unknown, what: string): SchemaReference[] {
  if (value === undefined || value === null) return []
  const ok = (r: unknown): r is SchemaReference => typeof r === 'object' && r !== null &&
    typeof (r as SchemaReference).name === 'string' && typeof (r as SchemaReference).subject === 'string' && Number.isInteger((r as SchemaReference).version)
  if (!Array.isArray(value) || !value.every(ok)) throw new SchemaRegistryError(`The schema registry answered ${what} with references that are not name, subject and version.`)
  return value.map((r) => ({ name: r.name, subject: r.subject, version: r.version }))
}

function typeOf (value: unknown): SchemaType {
  if (value === undefined || value === null || value === 'AVRO') return 'AVRO'
  if (value === 'JSON' || value === 'PROTOBUF') return value
  throw new SchemaRegistryError(`The schema registry answered an unknown schema type '${String(value)}'.`)
}
