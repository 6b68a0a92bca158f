// Kafka ACLs: search, create, delete.
//
// librdkafka's JavaScript binding (@confluentinc/kafka-javascript) has no ACL call (no CreateAcls, DescribeAcls,
// DeleteAcls), so ACLs go through @platformatic/kafka's Admin, the connection's `configAdmin`, which speaks those
// APIs over the same SASL/TLS settings. Kafka's protocol numbers the resource types, pattern types, operations and
// permissions; here they are named as Kafka's enums name them (TOPIC, LITERAL, READ, ALLOW), and the tables of
// @platformatic/kafka translate.
import { AclOperations, AclPermissionTypes, ResourcePatternTypes, ResourceTypes, type Acl, type AclFilter as KafkaAclFilter } from '@platformatic/kafka'
import { KafkaInvalidRequestError, ValidationError, type KoshaError } from '../lib/errors'
import type { KafkaConnection } from './connection'
import { nameOf } from './enums'
import { fromKafkaError, kafkaCode } from './errors'

/** One ACL. */
export interface AclEntry {
  resourceType: string
  resourceName: string
  patternType: string
  principal: string
  host: string
  operation: string
  permission: string
}
/** Which ACLs a search or a delete matches: ANY (and the pattern type MATCH) match every value, null every name. */
export interface AclFilter {
  resourceType: string
  resourceName: string | null
  patternType: string
  principal: string | null
  host: string | null
  operation: string
  permission: string
}

type Table = Record<string, number>

/** The protocol's number for a name; ValidationError for a name Kafka's enum does not have. */
function valueOf<T extends Table> (table: T, what: string, name: string): T[keyof T] {
  if (!Object.hasOwn(table, name)) throw new ValidationError(`Kafka has no ACL ${what} ${JSON.stringify(name)}.`)
  return table[name] as T[keyof T]
}

type Names = 'resourceName' | 'principal' | 'host'

/** An ACL or a filter in the protocol's numbers; its names pass through (an ACL's are strings, a filter's may be null). */
function numbered<F extends AclFilter> (f: F): Omit<Acl, Names> & Pick<F, Names> {
  return {
    resourceType: valueOf(ResourceTypes, 'resource type', f.resourceType),
    resourceName: f.resourceName,
    resourcePatternType: valueOf(ResourcePatternTypes, 'pattern type', f.patternType),
    principal: f.principal,
    host: f.host,
    operation: valueOf(AclOperations, 'operation', f.operation),
    permissionType: valueOf(AclPermissionTypes, 'permission', f.permission)
  }
}

function toEntry (a: Acl): AclEntry {
  return {
    resourceType: nameOf(ResourceTypes, a.resourceType),
    resourceName: a.resourceName,
    patternType: nameOf(ResourcePatternTypes, a.resourcePatternType),
    principal: a.principal,
    host: a.host,
    operation: nameOf(AclOperations, a.operation),
    permission: nameOf(AclPermissionTypes, a.permissionType)
  }
}

const fieldsOf = (a: AclEntry): string => [a.resourceType, a.resourceName, a.patternType, a.principal, a.host, a.operation, a.permission].join('\u0000')
const byFields = (a: AclEntry, b: AclEntry): number => fieldsOf(a).localeCompare(fieldsOf(b))

/** Kafka's answer to a malformed ACL or filter (INVALID_REQUEST, unknown principal type...) is the caller's to fix. */
function mapped (err: unknown): KoshaError {
  const error = fromKafkaError(err, { resource: 'the ACLs' })
  const code = kafkaCode(err)
  if (error.status === 500 && code !== undefined && code > 0) {
    return new KafkaInvalidRequestError(`Kafka refused the ACL request (error ${code}${err instanceof Error ? `: ${err.message}` : ''}).`, err)
  }
  return error
}

export class Acls {
  constructor (private readonly kafka: KafkaConnection) {}

  /** The ACLs matching the filter, sorted by their fields. */
  async search (filter: AclFilter): Promise<AclEntry[]> {
    const kafkaFilter: KafkaAclFilter = numbered(filter)
    const resources = await this.kafka.clients().configAdmin.describeAcls({ filter: kafkaFilter }).catch((err: unknown) => { throw mapped(err) })
    return resources.flatMap((r) => r.acls.map((a) => toEntry({ ...r, ...a }))).sort(byFields)
  }

  /** Creates the ACLs in one call (all translated before any is sent); an existing one is left as it is. */
  async create (entries: AclEntry[]): Promise<void> {
    const creations: Acl[] = entries.map(numbered)
    await this.kafka.clients().configAdmin.createAcls({ creations }).catch((err: unknown) => { throw mapped(err) })
  }

  /** Deletes the ACLs matching the filter and answers them, sorted by their fields. */
  async delete (filter: AclFilter): Promise<AclEntry[]> {
    const kafkaFilter: KafkaAclFilter = numbered(filter)
    const deleted = await this.kafka.clients().configAdmin.deleteAcls({ filters: [kafkaFilter] }).catch((err: unknown) => { throw mapped(err) })
    return deleted.map(toEntry).sort(byFields)
  }
}
