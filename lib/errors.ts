// The error catalogue: every failure class the service answers, each with a stable code, its HTTP status, its
// Confluent v2 and v3 error_codes and whether retrying may succeed. The Kafka layer (kafka/errors.ts) turns a Kafka
// client's error into one of these; http/errors.ts writes them to HTTP, once per API family (Kosha, Confluent v2, v3).
//
// Hand-written rather than @fastify/error: a code here carries more than a status (the v2 and v3 codes, retriability,
// headers such as Retry-After), and messages are built from typed arguments, not printf templates.

interface ErrorSpec {
  /** The HTTP status on the Kosha API; on v2 too (but 422 for a malformed body); on v3 for a 5xx (see v3). */
  readonly status: number
  /** Confluent v2's error_code: the v2 status times 100 plus a sub-code, or the plain status where it has none. */
  readonly v2: number
  /**
   * Confluent v3's error_code, as Confluent's v3 spec (components/responses) and its server's KafkaExceptionMapper
   * (confluentinc/rest-utils) give it: 40002 a request Kafka refuses as invalid (an existing topic, a replication
   * factor or partition count it refuses, an invalid config or ACL), 40101 authentication failed, 40301 Kafka's ACLs
   * deny it, 40403 an unknown topic or partition (Kafka's UNKNOWN_TOPIC_OR_PARTITION), 50003 a retriable failure;
   * elsewhere the plain status, as the spec's examples show it (400, 404, 413, 415, 422, 500).
   * For a 4xx, the code names the status v3 answers: a sub-code's first three digits (40002: 400, which is why an
   * existing topic is 400 on v3, as Confluent answers it), a plain code itself. A 5xx keeps its own status (503 and
   * 504 tell a client more than Confluent's 500, and carry Retry-After) with Confluent's 500xx code.
   */
  readonly v3: number
  /** Sending the same request again later may succeed. */
  readonly retriable: boolean
}

export const ERROR_CODES = {
  KOSHA_VALIDATION_FAILED: { status: 400, v2: 42206, v3: 400, retriable: false },
  KOSHA_INVALID_JSON: { status: 400, v2: 42206, v3: 400, retriable: false },
  KOSHA_BAD_REQUEST: { status: 400, v2: 400, v3: 400, retriable: false },
  KOSHA_INVALID_RECORD: { status: 400, v2: 400, v3: 400, retriable: false },
  KOSHA_INVALID_RESOURCE_TYPE: { status: 400, v2: 400, v3: 400, retriable: false },
  KOSHA_KAFKA_INVALID_REQUEST: { status: 400, v2: 400, v3: 40002, retriable: false },
  KOSHA_UNAUTHORIZED: { status: 401, v2: 40101, v3: 40101, retriable: false },
  KOSHA_KAFKA_NOT_AUTHORIZED: { status: 403, v2: 40301, v3: 40301, retriable: false },
  KOSHA_TOPIC_RESERVED: { status: 403, v2: 403, v3: 403, retriable: false },
  KOSHA_ROUTE_NOT_FOUND: { status: 404, v2: 404, v3: 404, retriable: false },
  KOSHA_TOPIC_NOT_FOUND: { status: 404, v2: 40401, v3: 40403, retriable: false },
  KOSHA_PARTITION_NOT_FOUND: { status: 404, v2: 40402, v3: 40403, retriable: false },
  KOSHA_CONSUMER_NOT_FOUND: { status: 404, v2: 40403, v3: 404, retriable: false },
  KOSHA_STREAM_NOT_FOUND: { status: 404, v2: 404, v3: 404, retriable: false },
  KOSHA_RESOURCE_NOT_FOUND: { status: 404, v2: 404, v3: 404, retriable: false },
  KOSHA_METHOD_NOT_ALLOWED: { status: 405, v2: 405, v3: 405, retriable: false },
  KOSHA_NOT_ACCEPTABLE: { status: 406, v2: 40601, v3: 406, retriable: false },
  KOSHA_TOPIC_EXISTS: { status: 409, v2: 409, v3: 40002, retriable: false },
  KOSHA_CONSUMER_EXISTS: { status: 409, v2: 40902, v3: 409, retriable: false },
  KOSHA_ILLEGAL_STATE: { status: 409, v2: 40903, v3: 409, retriable: false },
  KOSHA_CONSUMER_NOT_SUBSCRIBED: { status: 409, v2: 40903, v3: 409, retriable: false },
  KOSHA_GROUP_NOT_EMPTY: { status: 409, v2: 409, v3: 409, retriable: false },
  KOSHA_RECORD_NOT_DELIVERED: { status: 409, v2: 409, v3: 409, retriable: false },
  KOSHA_BODY_TOO_LARGE: { status: 413, v2: 41301, v3: 413, retriable: false },
  KOSHA_RECORD_TOO_LARGE: { status: 413, v2: 41301, v3: 413, retriable: false },
  KOSHA_OFFSET_OUT_OF_RANGE: { status: 416, v2: 41601, v3: 416, retriable: false },
  KOSHA_UNSUPPORTED_MEDIA_TYPE: { status: 415, v2: 41501, v3: 415, retriable: false },
  KOSHA_UNSUPPORTED_FORMAT: { status: 415, v2: 41501, v3: 415, retriable: false },
  KOSHA_INVALID_PAYLOAD: { status: 422, v2: 42206, v3: 422, retriable: false },
  // Schema Registry formats (registry/): Confluent REST Proxy's codes for a missing key or value schema, a record its
  // schema does not fit, an invalid schema; the registry's own for subjects, versions and schema ids.
  KOSHA_KEY_SCHEMA_MISSING: { status: 422, v2: 42201, v3: 422, retriable: false },
  KOSHA_VALUE_SCHEMA_MISSING: { status: 422, v2: 42202, v3: 422, retriable: false },
  KOSHA_SCHEMA_MISMATCH: { status: 422, v2: 42203, v3: 422, retriable: false },
  KOSHA_INVALID_SCHEMA: { status: 422, v2: 42205, v3: 422, retriable: false },
  KOSHA_RECORD_NOT_DESERIALIZABLE: { status: 422, v2: 42203, v3: 422, retriable: false },
  KOSHA_SUBJECT_NOT_FOUND: { status: 404, v2: 40401, v3: 404, retriable: false },
  KOSHA_SCHEMA_VERSION_NOT_FOUND: { status: 404, v2: 40402, v3: 404, retriable: false },
  KOSHA_SCHEMA_NOT_FOUND: { status: 404, v2: 40403, v3: 404, retriable: false },
  KOSHA_SCHEMA_INCOMPATIBLE: { status: 409, v2: 409, v3: 409, retriable: false },
  KOSHA_SCHEMA_REGISTRY_UNAVAILABLE: { status: 503, v2: 50002, v3: 50003, retriable: true },
  KOSHA_SCHEMA_REGISTRY_ERROR: { status: 502, v2: 50002, v3: 50003, retriable: true },
  KOSHA_REQUEST_TIMEOUT: { status: 408, v2: 408, v3: 408, retriable: false },
  KOSHA_URL_TOO_LONG: { status: 414, v2: 414, v3: 414, retriable: false },
  KOSHA_HEADERS_TOO_LARGE: { status: 431, v2: 431, v3: 431, retriable: false },
  KOSHA_RATE_LIMITED: { status: 429, v2: 42901, v3: 429, retriable: true },
  KOSHA_TOO_MANY_CONSUMERS: { status: 429, v2: 42901, v3: 429, retriable: true },
  KOSHA_TOO_MANY_STREAMS: { status: 429, v2: 429, v3: 429, retriable: true },
  KOSHA_INTERNAL_ERROR: { status: 500, v2: 50001, v3: 500, retriable: false },
  KOSHA_KAFKA_UNAVAILABLE: { status: 503, v2: 50003, v3: 50003, retriable: true },
  KOSHA_KAFKA_AUTHENTICATION_FAILED: { status: 503, v2: 50003, v3: 50003, retriable: true },
  KOSHA_KAFKA_TLS_FAILED: { status: 503, v2: 50003, v3: 50003, retriable: true },
  KOSHA_SHUTTING_DOWN: { status: 503, v2: 50003, v3: 50003, retriable: true },
  KOSHA_REPLICA_UNAVAILABLE: { status: 503, v2: 50003, v3: 50003, retriable: true },
  KOSHA_OVERLOADED: { status: 503, v2: 50003, v3: 50003, retriable: true },
  KOSHA_KAFKA_TIMEOUT: { status: 504, v2: 50002, v3: 50003, retriable: true }
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof ERROR_CODES

/** The status a Confluent error_code names: a sub-code's first three digits (40403: 404), a plain code itself. */
export function statusOfCode (code: number): number {
  return code >= 1000 ? Math.floor(code / 100) : code
}

/** The request was malformed (a schema or JSON failure): Confluent answers these 422 on v2 and 400 on v3. */
export const MALFORMED: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['KOSHA_VALIDATION_FAILED', 'KOSHA_INVALID_JSON'])

export class KoshaError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly v2Code: number
  readonly v3Code: number
  readonly retriable: boolean
  readonly headers: Readonly<Record<string, string>>
  constructor (code: ErrorCode, message: string, options: { cause?: unknown, headers?: Record<string, string> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    const spec: ErrorSpec = ERROR_CODES[code]
    this.name = new.target.name
    this.code = code
    this.status = spec.status
    this.v2Code = spec.v2
    this.v3Code = spec.v3
    this.retriable = spec.retriable
    this.headers = options.headers ?? {}
  }
}

/** The same failure (code, status, headers) told with more context; the original is its cause. */
export function rephrased (error: KoshaError, message: string): KoshaError {
  return new KoshaError(error.code, message, { cause: error, headers: { ...error.headers } })
}

// ---- the request itself -------------------------------------------------------------------------------------------
export class ValidationError extends KoshaError {
  constructor (message: string) { super('KOSHA_VALIDATION_FAILED', message) }
}
export class InvalidJsonError extends KoshaError {
  constructor (message: string) { super('KOSHA_INVALID_JSON', message) }
}
export class UnsupportedMediaTypeError extends KoshaError {
  /** `accepted` says what to send instead, in the words of the API the request was for. */
  constructor (contentType: string, accepted = 'application/json') {
    super('KOSHA_UNSUPPORTED_MEDIA_TYPE', `Unsupported Content-Type '${contentType}': send ${accepted}.`)
  }
}
export class BodyTooLargeError extends KoshaError {
  constructor (limit: number, what = 'The request body') { super('KOSHA_BODY_TOO_LARGE', `${what} is larger than ${limit} bytes.`) }
}
/** A 4xx of Fastify's own that no other class describes. */
export class BadRequestError extends KoshaError {
  constructor (message: string) { super('KOSHA_BAD_REQUEST', message) }
}
export class RouteNotFoundError extends KoshaError {
  constructor (method: string, url: string) {
    super('KOSHA_ROUTE_NOT_FOUND', `No route ${method} ${url}: see /docs for the API.`)
  }
}
/** The URL (path and query) is longer than MAX_URL_LENGTH, or one segment of its path longer than the router takes. */
export class UrlTooLongError extends KoshaError {
  constructor (limit: number, what: 'url' | 'segment' = 'url') {
    super('KOSHA_URL_TOO_LONG', what === 'url'
      ? `The URL is longer than ${limit} characters (MAX_URL_LENGTH): send long values in a body.`
      : `A segment of the URL's path is longer than ${limit} characters: no name this API takes is that long.`)
  }
}
/** The request line and headers together are larger than MAX_HEADER_SIZE: Node's HTTP parser stops reading them. */
export class HeadersTooLargeError extends KoshaError {
  constructor (limit: number) { super('KOSHA_HEADERS_TOO_LARGE', `The request line and headers are larger than ${limit} bytes (MAX_HEADER_SIZE).`) }
}
/** The client did not send its request (headers, or the body) in time; the connection is closed. */
export class RequestTimeoutError extends KoshaError {
  constructor () { super('KOSHA_REQUEST_TIMEOUT', 'The request did not arrive in time: the connection is closed.') }
}
/** A path that exists, asked with a method it does not serve; `allow` is the Allow header (the methods it serves). */
export class MethodNotAllowedError extends KoshaError {
  constructor (method: string, url: string, allow: string) {
    super('KOSHA_METHOD_NOT_ALLOWED', `${url} does not serve ${method}: use ${allow} (see /docs for the API).`, { headers: { Allow: allow } })
  }
}
export class UnauthorizedError extends KoshaError {
  constructor (challenge: string, message = 'Authentication required: send an API key (Authorization: Bearer <key> or X-API-Key) or HTTP Basic credentials.') {
    super('KOSHA_UNAUTHORIZED', message, { headers: { 'WWW-Authenticate': challenge } })
  }
}

// ---- Kafka resources ----------------------------------------------------------------------------------------------
export class TopicNotFoundError extends KoshaError {
  constructor (topic: string, cause?: unknown) { super('KOSHA_TOPIC_NOT_FOUND', `Topic '${topic}' does not exist.`, { cause }) }
}
export class TopicExistsError extends KoshaError {
  constructor (topic: string, cause?: unknown) { super('KOSHA_TOPIC_EXISTS', `Topic '${topic}' already exists.`, { cause }) }
}
export class PartitionNotFoundError extends KoshaError {
  constructor (topic: string, partition: number | undefined, cause?: unknown) {
    super('KOSHA_PARTITION_NOT_FOUND', `Partition ${partition ?? '(unknown)'} of topic '${topic}' does not exist.`, { cause })
  }
}
/** A read from an offset the partition does not hold: below its first stored offset, or past its end. */
export class OffsetOutOfRangeError extends KoshaError {
  constructor (topic: string, partition: number, offset: number, range: { low: number, high: number }) {
    const holds = range.high > range.low ? `it holds offsets ${range.low} to ${range.high - 1}` : 'it holds no records'
    super('KOSHA_OFFSET_OUT_OF_RANGE', `Offset ${offset} is outside partition ${partition} of topic '${topic}': ${holds}; ` +
      `read from an offset from ${range.low} to ${range.high} (${range.high}: the next record to come).`)
  }
}
export class NotAcceptableError extends KoshaError {
  constructor (message: string) { super('KOSHA_NOT_ACCEPTABLE', message) }
}
export class UnsupportedFormatError extends KoshaError {
  constructor (message: string) { super('KOSHA_UNSUPPORTED_FORMAT', message) }
}
export class InvalidPayloadError extends KoshaError {
  constructor (message: string) { super('KOSHA_INVALID_PAYLOAD', message) }
}
/** A record the caller got wrong: Confluent answers these with 400 (error_code 400 on v3). */
export class BadRecordError extends KoshaError {
  constructor (message: string) { super('KOSHA_INVALID_RECORD', message) }
}
export class ResourceNotFoundError extends KoshaError {
  constructor (message: string, cause?: unknown) { super('KOSHA_RESOURCE_NOT_FOUND', message, { cause }) }
}
export class InvalidResourceTypeError extends KoshaError {
  constructor (message: string) { super('KOSHA_INVALID_RESOURCE_TYPE', message) }
}
/**
 * Kafka refused the request as invalid (bad partitions, replication factor, config, name, ACL), or would: a check made
 * before sending, with a clearer message (an ACL's principal, a CLUSTER resource not named kafka-cluster). The caller
 * can fix it.
 */
export class KafkaInvalidRequestError extends KoshaError {
  constructor (message: string, cause?: unknown) { super('KOSHA_KAFKA_INVALID_REQUEST', message, { cause }) }
}
export class RecordTooLargeError extends KoshaError {
  constructor (topic: string, cause?: unknown) {
    super('KOSHA_RECORD_TOO_LARGE', `The record is larger than topic '${topic}' accepts (max.message.bytes).`, { cause })
  }
}
/** The replicas' state topic: its records steer where consumer requests go, so no client may write, delete or change it. */
export class TopicReservedError extends KoshaError {
  constructor (topic: string) {
    super('KOSHA_TOPIC_RESERVED', `Topic '${topic}' is this service's own state (STATE_TOPIC): the API does not produce to it, delete it, or change its partitions or configs.`)
  }
}
export class KafkaNotAuthorizedError extends KoshaError {
  constructor (message: string, cause?: unknown) { super('KOSHA_KAFKA_NOT_AUTHORIZED', message, { cause }) }
}

// ---- consumers ----------------------------------------------------------------------------------------------------
export class ConsumerNotFoundError extends KoshaError {
  /** A v1 consumer is named alone; a v2 consumer instance by its group too. */
  constructor (name: string, group?: string) {
    super('KOSHA_CONSUMER_NOT_FOUND', group === undefined
      ? `Consumer '${name}' does not exist: create it with POST /api/v1/consumers.`
      : `Consumer instance '${name}' of group '${group}' does not exist (never created, deleted, or expired).`)
  }
}
export class IllegalStateError extends KoshaError {
  constructor (message: string) { super('KOSHA_ILLEGAL_STATE', message) }
}
export class GroupNotEmptyError extends KoshaError {
  constructor (groupId: string, members: number) {
    super('KOSHA_GROUP_NOT_EMPTY', `Consumer group '${groupId}' has ${members} active member(s): stop its consumers first.`)
  }
}
export class ConsumerExistsError extends KoshaError {
  constructor (name: string, group?: string) {
    const which = group === undefined ? `Consumer '${name}'` : `Consumer instance '${name}' of group '${group}'`
    super('KOSHA_CONSUMER_EXISTS', `${which} already exists: pick another name, or delete it first.`)
  }
}
export class ConsumerNotSubscribedError extends KoshaError {
  constructor (name: string) {
    super('KOSHA_CONSUMER_NOT_SUBSCRIBED', `Consumer '${name}' is not subscribed to any topic: subscribe it first.`)
  }
}
export class TooManyConsumersError extends KoshaError {
  constructor (max: number) {
    super('KOSHA_TOO_MANY_CONSUMERS', `This service already holds ${max} consumers: delete one, or wait for idle ones to expire.`)
  }
}

// ---- streams ------------------------------------------------------------------------------------------------------
export class StreamNotFoundError extends KoshaError {
  constructor (stream: string, group: string) {
    super('KOSHA_STREAM_NOT_FOUND', `Stream '${stream}' of group '${group}' does not exist (never opened, or closed: its client went away).`)
  }
}
export class RecordNotDeliveredError extends KoshaError {
  constructor (id: string, stream: string) {
    super('KOSHA_RECORD_NOT_DELIVERED', `Record '${id}' was never delivered on stream '${stream}': commit an id the stream sent.`)
  }
}
export class TooManyStreamsError extends KoshaError {
  constructor (max: number) {
    super('KOSHA_TOO_MANY_STREAMS', `This service already serves ${max} streams (STREAM_MAX): close one, or retry on another instance.`, { headers: { 'Retry-After': '5' } })
  }
}

// ---- load ---------------------------------------------------------------------------------------------------------
/** Which limit a request went over: its caller's own (RATE_LIMIT_PER_CALLER) or the whole process's (RATE_LIMIT_GLOBAL). */
export type RateLimit = 'caller' | 'global'
export class RateLimitedError extends KoshaError {
  constructor (limit: RateLimit, max: number, windowMs: number, retryAfterSeconds: number) {
    const per = `${max} requests per ${windowMs / 1000} s`
    super('KOSHA_RATE_LIMITED', limit === 'caller'
      ? `Too many requests from this caller: at most ${per} (RATE_LIMIT_PER_CALLER). Retry in ${retryAfterSeconds} s.`
      : `Too many requests to this service: at most ${per} from all callers together (RATE_LIMIT_GLOBAL). Retry in ${retryAfterSeconds} s, or on another instance.`,
    { headers: { 'Retry-After': String(retryAfterSeconds) } })
  }
}
/** What the service is short of when it sheds load. */
export type Pressure = 'event loop delay' | 'heap' | 'memory' | 'load'
/** The process is too busy or too full to take more work (load shedding): it refuses new requests until it recovers. */
export class OverloadedError extends KoshaError {
  constructor (pressure: Pressure, retryAfterSeconds: number) {
    super('KOSHA_OVERLOADED', `The service is overloaded (${pressure} above its limit) and refuses new requests until it recovers: retry in ${retryAfterSeconds} s, or on another instance.`,
      { headers: { 'Retry-After': String(retryAfterSeconds) } })
  }
}

// ---- the broker's side --------------------------------------------------------------------------------------------
const RETRY_AFTER = { 'Retry-After': '5' }
export class KafkaUnavailableError extends KoshaError {
  constructor (message: string, cause?: unknown) { super('KOSHA_KAFKA_UNAVAILABLE', message, { cause, headers: RETRY_AFTER }) }
}
export class KafkaAuthenticationError extends KoshaError {
  constructor (cause?: unknown) {
    super('KOSHA_KAFKA_AUTHENTICATION_FAILED', 'Kafka refused the connector\'s credentials: check USERNAME, PASSWORD and SASL_MECHANISM.', { cause, headers: RETRY_AFTER })
  }
}
/** The TLS handshake with a broker failed: its certificate is not trusted or does not name it, or it refused ours. */
export class KafkaTlsError extends KoshaError {
  constructor (reason: string, cause?: unknown) {
    super('KOSHA_KAFKA_TLS_FAILED', `The TLS connection to Kafka failed${reason ? ` (${reason})` : ''}: check KAFKA_TLS_CA_FILE (the CA that signed the brokers' certificates), that those certificates name the hosts of BROKER_ADDRESS, and KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE where the brokers require a client certificate.`, { cause, headers: RETRY_AFTER })
  }
}
export class KafkaTimeoutError extends KoshaError {
  constructor (message: string, cause?: unknown) { super('KOSHA_KAFKA_TIMEOUT', message, { cause }) }
}
export class ShuttingDownError extends KoshaError {
  constructor () { super('KOSHA_SHUTTING_DOWN', 'The service is shutting down: retry on another instance.', { headers: RETRY_AFTER }) }
}
/** The replica holding a consumer did not answer in full, and this one cannot take the consumer over (yet). */
export class ReplicaUnavailableError extends KoshaError {
  // A takeover is usually possible a moment later (the holder's port closed, the view caught up): retry soon.
  constructor (message: string, cause?: unknown) { super('KOSHA_REPLICA_UNAVAILABLE', message, { cause, headers: { 'Retry-After': '1' } }) }
}
/** Anything unclassified. Its message is never shown: the answer names the request id the log has it under. */
export class InternalError extends KoshaError {
  constructor (cause?: unknown) { super('KOSHA_INTERNAL_ERROR', 'Internal error.', { cause }) }
}

// ---- the Schema Registry (registry/) --------------------------------------------------------------------------------
export class SchemaMissingError extends KoshaError {
  constructor (which: 'key' | 'value', message: string) { super(which === 'key' ? 'KOSHA_KEY_SCHEMA_MISSING' : 'KOSHA_VALUE_SCHEMA_MISSING', message) }
}
/** A key or value its schema does not describe: the message names the record and the field. */
export class SchemaMismatchError extends KoshaError {
  constructor (message: string) { super('KOSHA_SCHEMA_MISMATCH', message) }
}
export class InvalidSchemaError extends KoshaError {
  constructor (message: string) { super('KOSHA_INVALID_SCHEMA', message) }
}
/** A consumed record that is not in the consumer's format (no Confluent framing, an unknown schema id, bad bytes). */
export class RecordNotDeserializableError extends KoshaError {
  constructor (message: string) { super('KOSHA_RECORD_NOT_DESERIALIZABLE', message) }
}
export class SchemaNotFoundError extends KoshaError {
  constructor (what: 'subject' | 'version' | 'schema', message: string) {
    super(what === 'subject' ? 'KOSHA_SUBJECT_NOT_FOUND' : what === 'version' ? 'KOSHA_SCHEMA_VERSION_NOT_FOUND' : 'KOSHA_SCHEMA_NOT_FOUND', message)
  }
}
export class SchemaIncompatibleError extends KoshaError {
  constructor (message: string) { super('KOSHA_SCHEMA_INCOMPATIBLE', message) }
}
/** The registry did not answer (refused, unreachable, timed out): retry later. */
export class SchemaRegistryUnavailableError extends KoshaError {
  constructor (message: string, cause?: unknown) { super('KOSHA_SCHEMA_REGISTRY_UNAVAILABLE', message, { cause, headers: { 'Retry-After': '5' } }) }
}
/** The registry answered what it should not have (a 5xx, an answer of the wrong shape). */
export class SchemaRegistryError extends KoshaError {
  constructor (message: string, cause?: unknown) { super('KOSHA_SCHEMA_REGISTRY_ERROR', message, { cause, headers: { 'Retry-After': '5' } }) }
}
