// The error catalogue: one class per failure class, each with its HTTP status and a stable code, and the one
// function that turns a Kafka client error into one of them (by numeric Kafka code, never by message).
// plugins/error-handler.ts is the one place that writes them to HTTP, in the one JSON shape of openapi.json.
import { CODES } from '@confluentinc/kafka-javascript'

export class KoshaError extends Error {
  readonly status: number
  readonly code: string
  readonly headers: Record<string, string>
  constructor (status: number, code: string, message: string, options: { cause?: unknown, headers?: Record<string, string> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.status = status
    this.code = code
    this.headers = options.headers ?? {}
  }
}

// ---- the request itself -------------------------------------------------------------------------------------------
export class ValidationError extends KoshaError {
  constructor (message: string) { super(400, 'KOSHA_VALIDATION_FAILED', message) }
}
export class InvalidJsonError extends KoshaError {
  constructor (message: string) { super(400, 'KOSHA_INVALID_JSON', message) }
}
export class UnsupportedMediaTypeError extends KoshaError {
  constructor (contentType: string) {
    super(415, 'KOSHA_UNSUPPORTED_MEDIA_TYPE', `Unsupported Content-Type '${contentType}': send application/json.`)
  }
}
export class BodyTooLargeError extends KoshaError {
  constructor (limit: number) { super(413, 'KOSHA_BODY_TOO_LARGE', `The request body is larger than ${limit} bytes.`) }
}
export class RouteNotFoundError extends KoshaError {
  constructor (method: string, url: string) {
    super(404, 'KOSHA_ROUTE_NOT_FOUND', `No route ${method} ${url}: see /docs for the API.`)
  }
}
export class UnauthorizedError extends KoshaError {
  constructor (challenge: string) {
    super(401, 'KOSHA_UNAUTHORIZED',
      'Authentication required: send an API key (Authorization: Bearer <key> or X-API-Key) or HTTP Basic credentials.',
      { headers: { 'WWW-Authenticate': challenge } })
  }
}

// ---- Kafka resources ----------------------------------------------------------------------------------------------
export class TopicNotFoundError extends KoshaError {
  constructor (topic: string, cause?: unknown) { super(404, 'KOSHA_TOPIC_NOT_FOUND', `Topic '${topic}' does not exist.`, { cause }) }
}
export class TopicExistsError extends KoshaError {
  constructor (topic: string, cause?: unknown) { super(409, 'KOSHA_TOPIC_EXISTS', `Topic '${topic}' already exists.`, { cause }) }
}
export class PartitionNotFoundError extends KoshaError {
  constructor (topic: string, partition: number | undefined, cause?: unknown) {
    super(404, 'KOSHA_PARTITION_NOT_FOUND', `Partition ${partition ?? '(unknown)'} of topic '${topic}' does not exist.`, { cause })
  }
}
export class NotAcceptableError extends KoshaError {
  constructor (message: string) { super(406, 'KOSHA_NOT_ACCEPTABLE', message) }
}
export class UnsupportedFormatError extends KoshaError {
  constructor (message: string) { super(415, 'KOSHA_UNSUPPORTED_FORMAT', message) }
}
export class InvalidPayloadError extends KoshaError {
  constructor (message: string) { super(422, 'KOSHA_INVALID_PAYLOAD', message) }
}
/** A record the caller got wrong: Confluent answers these with 400 (its v3 error_code is the HTTP status). */
export class BadRecordError extends KoshaError {
  constructor (message: string) { super(400, 'KOSHA_INVALID_RECORD', message) }
}
export class ResourceNotFoundError extends KoshaError {
  constructor (message: string, cause?: unknown) { super(404, 'KOSHA_RESOURCE_NOT_FOUND', message, { cause }) }
}
export class InvalidResourceTypeError extends KoshaError {
  constructor (message: string) { super(400, 'KOSHA_INVALID_RESOURCE_TYPE', message) }
}
/** Kafka refused the request as invalid (bad partitions, replication factor, config, name): the caller can fix it. */
export class KafkaInvalidRequestError extends KoshaError {
  constructor (message: string, cause?: unknown) { super(400, 'KOSHA_KAFKA_INVALID_REQUEST', message, { cause }) }
}
export class RecordTooLargeError extends KoshaError {
  constructor (topic: string, cause?: unknown) {
    super(413, 'KOSHA_RECORD_TOO_LARGE', `The record is larger than topic '${topic}' accepts (max.message.bytes).`, { cause })
  }
}
export class KafkaNotAuthorizedError extends KoshaError {
  constructor (message: string, cause?: unknown) { super(403, 'KOSHA_KAFKA_NOT_AUTHORIZED', message, { cause }) }
}

// ---- consumers ----------------------------------------------------------------------------------------------------
export class ConsumerNotFoundError extends KoshaError {
  constructor (name: string) {
    super(404, 'KOSHA_CONSUMER_NOT_FOUND', `Consumer '${name}' does not exist: create it with POST /api/v1/consumers.`)
  }
}
export class ConsumerInstanceNotFoundError extends KoshaError {
  constructor (group: string, instance: string) {
    super(404, 'KOSHA_CONSUMER_NOT_FOUND', `Consumer instance '${instance}' of group '${group}' does not exist (never created, deleted, or expired).`)
  }
}
export class IllegalStateError extends KoshaError {
  constructor (message: string) { super(409, 'KOSHA_ILLEGAL_STATE', message) }
}
export class GroupNotEmptyError extends KoshaError {
  constructor (groupId: string, members: number) {
    super(409, 'KOSHA_GROUP_NOT_EMPTY', `Consumer group '${groupId}' has ${members} active member(s): stop its consumers first.`)
  }
}
export class ConsumerExistsError extends KoshaError {
  constructor (name: string) {
    super(409, 'KOSHA_CONSUMER_EXISTS', `Consumer '${name}' already exists: pick another name, or delete it first.`)
  }
}
export class ConsumerNotSubscribedError extends KoshaError {
  constructor (name: string) {
    super(409, 'KOSHA_CONSUMER_NOT_SUBSCRIBED', `Consumer '${name}' is not subscribed to any topic: subscribe it first.`)
  }
}
export class TooManyConsumersError extends KoshaError {
  constructor (max: number) {
    super(429, 'KOSHA_TOO_MANY_CONSUMERS', `This service already holds ${max} consumers: delete one, or wait for idle ones to expire.`)
  }
}

// ---- the broker's side --------------------------------------------------------------------------------------------
const RETRY_AFTER = { 'Retry-After': '5' }
export class KafkaUnavailableError extends KoshaError {
  constructor (message: string, cause?: unknown) { super(503, 'KOSHA_KAFKA_UNAVAILABLE', message, { cause, headers: RETRY_AFTER }) }
}
export class KafkaAuthenticationError extends KoshaError {
  constructor (cause?: unknown) {
    super(503, 'KOSHA_KAFKA_AUTHENTICATION_FAILED',
      'Kafka refused the connector\'s credentials: check USERNAME, PASSWORD and SASL_MECHANISM.', { cause, headers: RETRY_AFTER })
  }
}
export class KafkaTimeoutError extends KoshaError {
  constructor (message: string, cause?: unknown) { super(504, 'KOSHA_KAFKA_TIMEOUT', message, { cause }) }
}
export class ShuttingDownError extends KoshaError {
  constructor () { super(503, 'KOSHA_SHUTTING_DOWN', 'The service is shutting down: retry on another instance.', { headers: RETRY_AFTER }) }
}
export class InternalError extends KoshaError {
  constructor (requestId: string, cause?: unknown) {
    super(500, 'KOSHA_INTERNAL_ERROR', `Internal error: the service log has the details under request id ${requestId}.`, { cause })
  }
}

// ---- classification of Kafka client errors -----------------------------------------------------------------------
const E = CODES.ERRORS

/** What the operation was about, so that a message can name it. */
export interface KafkaContext { topic?: string, partition?: number, resource?: string }

/** The numeric Kafka error code of an error from either client, or undefined. */
export function kafkaCode (err: unknown): number | undefined {
  const seen = new Set<unknown>()
  const queue: unknown[] = [err]
  let network = false
  while (queue.length > 0) {
    const e = queue.shift()
    if (typeof e !== 'object' || e === null || seen.has(e)) continue
    seen.add(e)
    const record = e as { apiCode?: unknown, code?: unknown, errors?: unknown, cause?: unknown }
    // @platformatic/kafka: the broker's code in apiCode; @confluentinc/kafka-javascript: a number in code.
    if (typeof record.apiCode === 'number') return record.apiCode
    if (typeof record.code === 'number' && record.code !== 0) return record.code
    if (record.code === 'PLT_KFK_AUTHENTICATION') return E.ERR__AUTHENTICATION
    if (record.code === 'PLT_KFK_TIMEOUT') return E.ERR__TIMED_OUT
    // A network error may wrap the reason (a refused login): look inside before settling for "unreachable".
    if (record.code === 'PLT_KFK_NETWORK') network = true
    if (Array.isArray(record.errors)) queue.push(...(record.errors as unknown[]))
    if (record.cause !== undefined) queue.push(record.cause)
  }
  return network ? E.ERR__TRANSPORT : undefined
}

const UNAVAILABLE = new Set<number>([
  E.ERR__TRANSPORT, E.ERR__ALL_BROKERS_DOWN, E.ERR__RESOLVE, E.ERR__FATAL, E.ERR__QUEUE_FULL, E.ERR__NODE_UPDATE,
  E.ERR_LEADER_NOT_AVAILABLE, E.ERR_NOT_LEADER_FOR_PARTITION, E.ERR_BROKER_NOT_AVAILABLE, E.ERR_NOT_CONTROLLER,
  E.ERR_NOT_ENOUGH_REPLICAS, E.ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, E.ERR_COORDINATOR_NOT_AVAILABLE,
  E.ERR_COORDINATOR_LOAD_IN_PROGRESS, E.ERR_NOT_COORDINATOR, E.ERR_NETWORK_EXCEPTION, E.ERR_KAFKA_STORAGE_ERROR
])
const TIMEOUT = new Set<number>([E.ERR__TIMED_OUT, E.ERR__MSG_TIMED_OUT, E.ERR_REQUEST_TIMED_OUT, E.ERR__TIMED_OUT_QUEUE])
const NOT_AUTHORIZED = new Set<number>([
  E.ERR_TOPIC_AUTHORIZATION_FAILED, E.ERR_GROUP_AUTHORIZATION_FAILED, E.ERR_CLUSTER_AUTHORIZATION_FAILED,
  E.ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, E.ERR_DELEGATION_TOKEN_AUTHORIZATION_FAILED
])
const INVALID = new Map<number, string>([
  [E.ERR_INVALID_PARTITIONS, 'Kafka refused the number of partitions'],
  [E.ERR_INVALID_REPLICATION_FACTOR, 'Kafka refused the replication factor: it must be at most the number of brokers'],
  [E.ERR_INVALID_REPLICA_ASSIGNMENT, 'Kafka refused the replica assignment'],
  [E.ERR_INVALID_CONFIG, 'Kafka refused the configuration'],
  [E.ERR_POLICY_VIOLATION, 'Kafka\'s policy refused the request'],
  [E.ERR_INVALID_REQUEST, 'Kafka refused the request as invalid'],
  [E.ERR_INVALID_RECORD, 'Kafka refused the record'],
  [E.ERR__INVALID_ARG, 'Kafka\'s client refused an argument']
])

/** Turns any error of a Kafka client into a KoshaError; an unclassified one becomes an InternalError. */
export function fromKafkaError (err: unknown, context: KafkaContext, requestId: string): KoshaError {
  if (err instanceof KoshaError) return err
  const code = kafkaCode(err)
  const what = context.topic !== undefined ? `topic '${context.topic}'` : context.resource ?? 'this resource'
  const detail = kafkaMessage(err)
  if (code === undefined) return new InternalError(requestId, err)
  if (code === E.ERR_UNKNOWN_TOPIC_OR_PART || code === E.ERR__UNKNOWN_TOPIC) {
    return context.topic !== undefined ? new TopicNotFoundError(context.topic, err) : new ResourceNotFoundError(`${what} does not exist.`, err)
  }
  if (code === E.ERR__UNKNOWN_PARTITION) return new PartitionNotFoundError(context.topic ?? '', context.partition, err)
  if (code === E.ERR_GROUP_ID_NOT_FOUND) return new ResourceNotFoundError(`${what} does not exist.`, err)
  if (code === E.ERR_TOPIC_ALREADY_EXISTS) return new TopicExistsError(context.topic ?? '', err)
  if (code === E.ERR_TOPIC_EXCEPTION) {
    return new KafkaInvalidRequestError(`Kafka refused the topic name${context.topic !== undefined ? ` '${context.topic}'` : ''}${detail}.`, err)
  }
  if (code === E.ERR_MSG_SIZE_TOO_LARGE || code === E.ERR_RECORD_LIST_TOO_LARGE) return new RecordTooLargeError(context.topic ?? '', err)
  if (NOT_AUTHORIZED.has(code)) {
    return new KafkaNotAuthorizedError(`Kafka denied this operation on ${what} to the connector's user: grant it the ACL, or use another user.`, err)
  }
  if (code === E.ERR__AUTHENTICATION || code === E.ERR_SASL_AUTHENTICATION_FAILED) return new KafkaAuthenticationError(err)
  if (UNAVAILABLE.has(code)) return new KafkaUnavailableError(`Kafka is not reachable or not ready${detail}: retry later.`, err)
  if (TIMEOUT.has(code)) return new KafkaTimeoutError(`Kafka did not answer in time${detail}: retry later.`, err)
  const invalid = INVALID.get(code)
  if (invalid !== undefined) return new KafkaInvalidRequestError(`${invalid}${detail}.`, err)
  return new InternalError(requestId, err)
}

function kafkaMessage (err: unknown): string {
  const message = err instanceof Error ? err.message : ''
  return message ? ` (Kafka: ${message.replace(/\.$/, '')})` : ''
}

// ---- the Confluent REST Proxy envelope ----------------------------------------------------------------------------
// v2 error codes are the HTTP status times 100 plus a sub-code, as Confluent's REST Proxy numbers them.
const V2_CODES: Record<string, number> = {
  KOSHA_TOPIC_NOT_FOUND: 40401,
  KOSHA_PARTITION_NOT_FOUND: 40402,
  KOSHA_CONSUMER_NOT_FOUND: 40403,
  KOSHA_NOT_ACCEPTABLE: 40601,
  KOSHA_CONSUMER_EXISTS: 40902,
  KOSHA_ILLEGAL_STATE: 40903,
  KOSHA_TOO_MANY_CONSUMERS: 42901,
  KOSHA_KAFKA_NOT_AUTHORIZED: 40301,
  KOSHA_UNAUTHORIZED: 40101,
  KOSHA_BODY_TOO_LARGE: 41301,
  KOSHA_RECORD_TOO_LARGE: 41301,
  KOSHA_UNSUPPORTED_FORMAT: 41501,
  KOSHA_UNSUPPORTED_MEDIA_TYPE: 41501,
  KOSHA_INVALID_PAYLOAD: 42206,
  KOSHA_VALIDATION_FAILED: 42206,
  KOSHA_INVALID_JSON: 42206,
  KOSHA_INTERNAL_ERROR: 50001,
  KOSHA_KAFKA_TIMEOUT: 50002,
  KOSHA_KAFKA_UNAVAILABLE: 50003,
  KOSHA_KAFKA_AUTHENTICATION_FAILED: 50003,
  KOSHA_SHUTTING_DOWN: 50003
}

/**
 * The status and body of an error on the Confluent-compatible API: v2 sub-codes, or (v3) the plain status.
 * A malformed payload is 422 on v2, as Confluent's v2 answers it, and 400 on v3, as Confluent's v3 spec declares it.
 * On v3, a client error that the operation does not declare in openapi.json (which lists Confluent's statuses) is
 * Confluent's catch-all 400 with the same message (e.g. an existing topic); a missing resource stays 404, as
 * Confluent's server answers it even where its spec omits it.
 */
export function confluentError (error: KoshaError, api: 'v2' | 'v3', declared: string[] = []): { status: number, body: { error_code: number, message: string } } {
  const malformed = ['KOSHA_VALIDATION_FAILED', 'KOSHA_INVALID_JSON'].includes(error.code)
  if (api === 'v2') {
    const status = malformed ? 422 : error.status
    return { status, body: { error_code: V2_CODES[error.code] ?? status, message: error.message } }
  }
  const keep = [401, 404, 429].includes(error.status) || declared.includes(String(error.status)) || declared.length === 0
  const status = malformed || (error.status >= 400 && error.status < 500 && !keep) ? 400 : error.status
  return { status, body: { error_code: status, message: error.message } }
}
