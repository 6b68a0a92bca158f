// Kafka ACLs behind the Confluent v3 API: search, create, delete.
//
// librdkafka's JavaScript binding (@confluentinc/kafka-javascript) has no ACL call (no CreateAcls, DescribeAcls,
// DeleteAcls), so ACLs go through @platformatic/kafka's Admin, the connection's `configAdmin`, which speaks those
// APIs over the same SASL/TLS settings. Names on the wire are Confluent's (TOPIC, LITERAL, READ, ALLOW); Kafka's
// protocol numbers them, and the tables below translate.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AclOperations, AclPermissionTypes, ResourcePatternTypes, ResourceTypes, type Acl, type AclFilter } from '@platformatic/kafka'
import { KafkaInvalidRequestError, KoshaError, ResourceNotFoundError, ValidationError, fromKafkaError, kafkaCode } from '../lib/errors'

/** One ACL in Confluent's names. */
export interface AclEntry {
  resource_type: string
  resource_name: string
  pattern_type: string
  principal: string
  host: string
  operation: string
  permission: string
}
/** A search or delete filter in Confluent's names; an unset field matches anything. */
export interface AclQuery {
  resource_type?: string
  resource_name?: string
  pattern_type?: string
  principal?: string
  host?: string
  operation?: string
  permission?: string
}

export interface AclService {
  /** The ACLs matching the filter. ResourceNotFoundError unless clusterId is this cluster's. */
  search: (request: FastifyRequest, clusterId: string, filter: AclQuery) => Promise<AclEntry[]>
  /** Creates the ACLs (all checked before any is sent); an existing one is left as it is. */
  create: (request: FastifyRequest, clusterId: string, acls: AclEntry[]) => Promise<void>
  /** Deletes the ACLs matching the filter and answers them. */
  delete: (request: FastifyRequest, clusterId: string, filter: AclQuery) => Promise<AclEntry[]>
}

declare module 'fastify' {
  interface FastifyInstance { acls: AclService }
}

// Confluent's spec lists these names; USER and the token operations of Kafka's enums are outside it.
const RESOURCE_TYPES = ['ANY', 'TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID', 'DELEGATION_TOKEN'] as const
const PATTERN_TYPES = ['ANY', 'MATCH', 'LITERAL', 'PREFIXED'] as const
const OPERATIONS = ['ANY', 'ALL', 'READ', 'WRITE', 'CREATE', 'DELETE', 'ALTER', 'DESCRIBE', 'CLUSTER_ACTION', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS', 'IDEMPOTENT_WRITE'] as const
const PERMISSIONS = ['ANY', 'DENY', 'ALLOW'] as const
// An ACL itself has concrete values: the ANY and MATCH of filters are not values an ACL can hold.
const FILTER_ONLY = new Set(['ANY', 'MATCH'])

type Table = Record<string, number>
const nameOf = (table: Table, value: number): string => Object.entries(table).find(([, v]) => v === value)?.[0] ?? 'UNKNOWN'

function enumValue<T extends Table> (table: T, allowed: readonly string[], field: string, value: string | undefined, options: { concrete: boolean }): T[keyof T] {
  const name = (value ?? 'ANY').toUpperCase()
  const choices = options.concrete ? allowed.filter((a) => !FILTER_ONLY.has(a)) : allowed
  if (!choices.includes(name) || !(name in table)) {
    const said = value === undefined ? 'is required' : `cannot be ${JSON.stringify(value)}`
    throw new ValidationError(`${field} ${said}: use one of ${choices.join(', ')}.`)
  }
  return table[name] as T[keyof T]
}

function toFilter (q: AclQuery): AclFilter {
  return {
    resourceType: enumValue(ResourceTypes, RESOURCE_TYPES, 'resource_type', q.resource_type, { concrete: false }),
    resourceName: q.resource_name ?? null,
    resourcePatternType: enumValue(ResourcePatternTypes, PATTERN_TYPES, 'pattern_type', q.pattern_type, { concrete: false }),
    principal: q.principal ?? null,
    host: q.host ?? null,
    operation: enumValue(AclOperations, OPERATIONS, 'operation', q.operation, { concrete: false }),
    permissionType: enumValue(AclPermissionTypes, PERMISSIONS, 'permission', q.permission, { concrete: false })
  }
}

function toAcl (e: AclEntry, where: string): Acl {
  const concrete = { concrete: true }
  const acl: Acl = {
    resourceType: enumValue(ResourceTypes, RESOURCE_TYPES, `${where}resource_type`, e.resource_type, concrete),
    resourceName: e.resource_name,
    resourcePatternType: enumValue(ResourcePatternTypes, PATTERN_TYPES, `${where}pattern_type`, e.pattern_type, concrete),
    principal: e.principal,
    host: e.host,
    operation: enumValue(AclOperations, OPERATIONS, `${where}operation`, e.operation, concrete),
    permissionType: enumValue(AclPermissionTypes, PERMISSIONS, `${where}permission`, e.permission, concrete)
  }
  // Kafka would refuse these too, with less to go on.
  if (!/^[^:]+:.+$/.test(e.principal)) throw new ValidationError(`${where}principal must be Type:name, e.g. User:alice (got ${JSON.stringify(e.principal)}).`)
  if (e.resource_name === '') throw new ValidationError(`${where}resource_name must not be empty ('*' for every resource).`)
  if (acl.resourceType === ResourceTypes.CLUSTER && e.resource_name !== 'kafka-cluster') {
    throw new ValidationError(`${where}resource_name: the only valid name for the CLUSTER resource is kafka-cluster.`)
  }
  if (e.host === '') throw new ValidationError(`${where}host must not be empty ('*' for every host).`)
  return acl
}

function toEntry (a: Acl): AclEntry {
  return {
    resource_type: nameOf(ResourceTypes, a.resourceType),
    resource_name: a.resourceName,
    pattern_type: nameOf(ResourcePatternTypes, a.resourcePatternType),
    principal: a.principal,
    host: a.host,
    operation: nameOf(AclOperations, a.operation),
    permission: nameOf(AclPermissionTypes, a.permissionType)
  }
}

const byFields = (a: AclEntry, b: AclEntry): number =>
  [a.resource_type, a.resource_name, a.pattern_type, a.principal, a.host, a.operation, a.permission].join('\u0000')
    .localeCompare([b.resource_type, b.resource_name, b.pattern_type, b.principal, b.host, b.operation, b.permission].join('\u0000'))

async function acls (fastify: FastifyInstance): Promise<void> {
  async function assertCluster (request: FastifyRequest, clusterId: string): Promise<void> {
    const { id } = await fastify.kafka.cluster(request)
    if (id !== clusterId) throw new ResourceNotFoundError(`Cluster ${clusterId} cannot be found.`)
  }

  /** Kafka's answer to a malformed ACL or filter (INVALID_REQUEST, unknown principal type...) is the caller's to fix. */
  function mapped (err: unknown, request: FastifyRequest): KoshaError {
    const error = fromKafkaError(err, { resource: 'the ACLs' }, request.id)
    const code = kafkaCode(err)
    if (error.status === 500 && code !== undefined && code > 0) {
      return new KafkaInvalidRequestError(`Kafka refused the ACL request (error ${code}${err instanceof Error ? `: ${err.message}` : ''}).`, err)
    }
    return error
  }

  const service: AclService = {
    async search (request, clusterId, query) {
      const filter = toFilter(query)
      await assertCluster(request, clusterId)
      const { configAdmin } = fastify.kafka.clientsFor(request)
      const resources = await configAdmin.describeAcls({ filter }).catch((err: unknown) => { throw mapped(err, request) })
      return resources.flatMap((r) => r.acls.map((a) => toEntry({ ...r, ...a }))).sort(byFields)
    },
    async create (request, clusterId, entries) {
      const creations = entries.map((e, i) => toAcl(e, entries.length > 1 ? `data/${i}/` : ''))
      await assertCluster(request, clusterId)
      const { configAdmin } = fastify.kafka.clientsFor(request)
      await configAdmin.createAcls({ creations }).catch((err: unknown) => { throw mapped(err, request) })
    },
    async delete (request, clusterId, query) {
      for (const field of ['resource_type', 'pattern_type', 'operation', 'permission'] as const) {
        if (query[field] === undefined) throw new ValidationError(`${field} is required to delete ACLs (ANY matches every value).`)
      }
      const filter = toFilter(query)
      await assertCluster(request, clusterId)
      const { configAdmin } = fastify.kafka.clientsFor(request)
      const deleted = await configAdmin.deleteAcls({ filters: [filter] }).catch((err: unknown) => { throw mapped(err, request) })
      return deleted.map(toEntry).sort(byFields)
    }
  }

  fastify.decorate('acls', service)
}

export default fp(acls, { name: 'acls', dependencies: ['kafka-connection'] })
