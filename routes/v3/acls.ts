// Confluent REST Proxy v3 ACLs: search (GET), create (POST, and POST acls:batch), delete matching (DELETE), in
// Confluent's shapes. Kafka work is in kafka/acls.ts (through @platformatic/kafka: librdkafka's binding has no ACLs);
// this file checks Confluent's names and turns its snake_case fields into the Kafka layer's and back.
import type { FastifyRequest } from 'fastify'
import { type RouteTypes } from '../../generated/routes'
import type { Handlers } from '../../http/register'
import { link } from '../../http/links'
import { KafkaInvalidRequestError, ValidationError } from '../../lib/errors'
import type { AclEntry, AclFilter } from '../../kafka/acls'
import { clusterPath, collection } from './admin-resources'

type Acl = RouteTypes['listAclsV3']['Reply'][200]['data'][number]
/** One ACL in Confluent's names. */
type WireAcl = Omit<Acl, 'kind' | 'metadata' | 'cluster_id'>
/** A search or delete filter in Confluent's names; an unset field matches anything. */
type WireQuery = Partial<Record<keyof WireAcl, string>>

const aclsPath = (c: string): string => `${clusterPath(c)}/acls`

// Confluent's spec lists these names; USER and the token operations of Kafka's enums are outside it.
const RESOURCE_TYPES = ['ANY', 'TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID', 'DELEGATION_TOKEN']
const PATTERN_TYPES = ['ANY', 'MATCH', 'LITERAL', 'PREFIXED']
const OPERATIONS = ['ANY', 'ALL', 'READ', 'WRITE', 'CREATE', 'DELETE', 'ALTER', 'DESCRIBE', 'CLUSTER_ACTION', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS', 'IDEMPOTENT_WRITE']
const PERMISSIONS = ['ANY', 'DENY', 'ALLOW']
// An ACL itself has concrete values: the ANY and MATCH of filters are not values an ACL can hold.
const FILTER_ONLY = new Set(['ANY', 'MATCH'])

/** A name of `allowed` (case-insensitive; unset: ANY); ValidationError naming the field otherwise. */
function enumName (allowed: string[], field: string, value: string | undefined, options: { concrete: boolean }): string {
  const name = (value ?? 'ANY').toUpperCase()
  const choices = options.concrete ? allowed.filter((a) => !FILTER_ONLY.has(a)) : allowed
  if (!choices.includes(name)) {
    const said = value === undefined ? 'is required' : `cannot be ${JSON.stringify(value)}`
    throw new ValidationError(`${field} ${said}: use one of ${choices.join(', ')}.`)
  }
  return name
}

function filterOf (q: WireQuery): AclFilter {
  const any = { concrete: false }
  return {
    resourceType: enumName(RESOURCE_TYPES, 'resource_type', q.resource_type, any),
    resourceName: q.resource_name ?? null,
    patternType: enumName(PATTERN_TYPES, 'pattern_type', q.pattern_type, any),
    principal: q.principal ?? null,
    host: q.host ?? null,
    operation: enumName(OPERATIONS, 'operation', q.operation, any),
    permission: enumName(PERMISSIONS, 'permission', q.permission, any)
  }
}

/** The ACL of a request body (and nothing else it may carry); `where` prefixes the field in messages. */
function entryOf (b: WireAcl, where: string): AclEntry {
  const concrete = { concrete: true }
  const entry: AclEntry = {
    resourceType: enumName(RESOURCE_TYPES, `${where}resource_type`, b.resource_type, concrete),
    resourceName: b.resource_name,
    patternType: enumName(PATTERN_TYPES, `${where}pattern_type`, b.pattern_type, concrete),
    principal: b.principal,
    host: b.host,
    operation: enumName(OPERATIONS, `${where}operation`, b.operation, concrete),
    permission: enumName(PERMISSIONS, `${where}permission`, b.permission, concrete)
  }
  // Kafka refuses these too (INVALID_REQUEST), with less to go on: the same refusal (40002 on v3), said better.
  if (!/^[^:]+:.+$/.test(b.principal)) throw new KafkaInvalidRequestError(`${where}principal must be Type:name, e.g. User:alice (got ${JSON.stringify(b.principal)}).`)
  if (b.resource_name === '') throw new KafkaInvalidRequestError(`${where}resource_name must not be empty ('*' for every resource).`)
  if (entry.resourceType === 'CLUSTER' && b.resource_name !== 'kafka-cluster') {
    throw new KafkaInvalidRequestError(`${where}resource_name: the only valid name for the CLUSTER resource is kafka-cluster.`)
  }
  // Kafka takes an empty host (tried against the broker): refusing it is this service's own check, a plain 400.
  if (b.host === '') throw new ValidationError(`${where}host must not be empty ('*' for every host).`)
  return entry
}

function wire (e: AclEntry): WireAcl {
  return {
    resource_type: e.resourceType,
    resource_name: e.resourceName,
    pattern_type: e.patternType,
    principal: e.principal,
    host: e.host,
    operation: e.operation,
    permission: e.permission
  }
}

/** Confluent's self link of an ACL: the search that finds exactly it. */
function acl (request: FastifyRequest, c: string, e: AclEntry): Acl {
  const fields = wire(e)
  const query = new URLSearchParams(fields)
  return { kind: 'KafkaAcl', metadata: { self: link(request, `${aclsPath(c)}?${query.toString()}`) }, cluster_id: c, ...fields }
}

export const acls = {
  listAclsV3: async (request, reply) => {
    const c = request.params.cluster_id
    const filter = filterOf(request.query)
    await request.kafkaApi.cluster.assertCluster(c)
    const found = await request.kafkaApi.acls.search(filter)
    const query = new URLSearchParams(Object.entries(request.query).filter((kv): kv is [string, string] => typeof kv[1] === 'string'))
    const search = query.size > 0 ? `?${query.toString()}` : ''
    return reply.code(200).send(collection(request, 'KafkaAclList', `${aclsPath(c)}${search}`, found.map((e) => acl(request, c, e))))
  },

  createAclV3: async (request, reply) => {
    const entry = entryOf(request.body, '')
    await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    await request.kafkaApi.acls.create([entry])
    return reply.code(201).send()
  },

  createAclsBatchV3: async (request, reply) => {
    // All are checked before any is sent.
    const data = request.body.data
    const entries = data.map((b, i) => entryOf(b, data.length > 1 ? `data/${i}/` : ''))
    await request.kafkaApi.cluster.assertCluster(request.params.cluster_id)
    await request.kafkaApi.acls.create(entries)
    return reply.code(201).send()
  },

  deleteAclsV3: async (request, reply) => {
    const c = request.params.cluster_id
    for (const field of ['resource_type', 'pattern_type', 'operation', 'permission'] as const) {
      if (request.query[field] === undefined) throw new ValidationError(`${field} is required to delete ACLs (ANY matches every value).`)
    }
    const filter = filterOf(request.query)
    await request.kafkaApi.cluster.assertCluster(c)
    const deleted = await request.kafkaApi.acls.delete(filter)
    return reply.code(200).send({ data: deleted.map((e) => acl(request, c, e)) })
  }
} satisfies Partial<Handlers<'confluent-v3'>>
