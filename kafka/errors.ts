// Kafka clients' errors as catalogue errors (lib/errors.ts): by the numeric Kafka code, never by the message. Every
// module of the Kafka layer throws only catalogue errors, so nothing above it sees a client's error.
import { CODES } from '@confluentinc/kafka-javascript'
import {
  InternalError, KafkaAuthenticationError, KafkaInvalidRequestError, KafkaNotAuthorizedError, KafkaTimeoutError,
  KafkaTlsError, KafkaUnavailableError, KoshaError, PartitionNotFoundError, RecordTooLargeError, ResourceNotFoundError, TopicExistsError,
  TopicNotFoundError
} from '../lib/errors'

const E = CODES.ERRORS

/** What the operation was about, so that a message can name it. */
export interface KafkaContext { topic?: string, partition?: number, resource?: string }

/**
 * Node's codes for a failed TLS handshake (tls.connect, as @platformatic/kafka uses it): OpenSSL's certificate
 * verification results (UNABLE_TO_VERIFY_LEAF_SIGNATURE, SELF_SIGNED_CERT_IN_CHAIN, CERT_HAS_EXPIRED...), Node's own
 * ERR_TLS_* (ERR_TLS_CERT_ALTNAME_INVALID: the certificate names another host) and OpenSSL's ERR_SSL_* (an alert
 * from the broker, e.g. it required a client certificate).
 */
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_)|CERT|SIGNATURE|ISSUER|^INVALID_CA$|^HOSTNAME_MISMATCH$/

/** The TLS failure in an error's chain (Node's TLS error), or undefined. */
function tlsFailure (err: unknown): Error | undefined {
  const seen = new Set<unknown>()
  const queue: unknown[] = [err]
  while (queue.length > 0) {
    const e = queue.shift()
    if (typeof e !== 'object' || e === null || seen.has(e)) continue
    seen.add(e)
    const record = e as { code?: unknown, errors?: unknown, cause?: unknown }
    if (typeof record.code === 'string' && TLS_CODE.test(record.code) && e instanceof Error) return e
    if (Array.isArray(record.errors)) queue.push(...(record.errors as unknown[]))
    if (record.cause !== undefined) queue.push(record.cause)
  }
  return undefined
}

/** The numeric Kafka error code of an error from either client, or undefined. */
export function kafkaCode (err: unknown): number | undefined {
  if (tlsFailure(err)) return E.ERR__SSL
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
// What Kafka refuses as the caller's mistake: Confluent answers these (and an existing topic) 400 with 40002.
const INVALID = new Map<number, string>([
  [E.ERR_INVALID_PARTITIONS, 'Kafka refused the number of partitions'],
  [E.ERR_INVALID_REPLICATION_FACTOR, 'Kafka refused the replication factor: it must be at most the number of brokers'],
  [E.ERR_INVALID_REPLICA_ASSIGNMENT, 'Kafka refused the replica assignment'],
  [E.ERR_INVALID_CONFIG, 'Kafka refused the configuration'],
  [E.ERR_POLICY_VIOLATION, 'Kafka\'s policy refused the request'],
  [E.ERR_INVALID_REQUEST, 'Kafka refused the request as invalid'],
  [E.ERR_INVALID_RECORD, 'Kafka refused the record'],
  [E.ERR_TOPIC_DELETION_DISABLED, 'Kafka does not allow deleting topics (delete.topic.enable=false)'],
  [E.ERR_SECURITY_DISABLED, 'Kafka has no authorizer configured: ACLs are not enabled'],
  [E.ERR_UNSUPPORTED_VERSION, 'Kafka does not support this request in its version'],
  [E.ERR__INVALID_ARG, 'Kafka\'s client refused an argument']
])

/** Turns any error of a Kafka client into a KoshaError; an unclassified one becomes an InternalError. */
export function fromKafkaError (err: unknown, context: KafkaContext = {}): KoshaError {
  if (err instanceof KoshaError) return err
  const code = kafkaCode(err)
  const what = context.topic !== undefined ? `topic '${context.topic}'` : context.resource ?? 'this resource'
  const detail = kafkaMessage(err)
  if (code === undefined) return new InternalError(err)
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
    return new KafkaNotAuthorizedError(`Kafka denied this operation on ${what} to the user it was made as (the connector's; with KAFKA_IDENTITY=caller, the caller's): grant that user the ACL, or use another.`, err)
  }
  if (code === E.ERR__AUTHENTICATION || code === E.ERR_SASL_AUTHENTICATION_FAILED) return new KafkaAuthenticationError(err)
  if (code === E.ERR__SSL) return new KafkaTlsError(tlsReason(err), err)
  if (UNAVAILABLE.has(code)) return new KafkaUnavailableError(`Kafka is not reachable or not ready${detail}: retry later.`, err)
  if (TIMEOUT.has(code)) return new KafkaTimeoutError(`Kafka did not answer in time${detail}: retry later.`, err)
  const invalid = INVALID.get(code)
  if (invalid !== undefined) return new KafkaInvalidRequestError(`${invalid}${detail}.`, err)
  return new InternalError(err)
}

/** Why the handshake failed, in the TLS library's words (a certificate problem; never a secret). */
function tlsReason (err: unknown): string {
  const tls = tlsFailure(err) ?? err
  return tls instanceof Error ? tls.message.replace(/\.$/, '') : ''
}

function kafkaMessage (err: unknown): string {
  const message = err instanceof Error ? err.message : ''
  return message ? ` (Kafka: ${message.replace(/\.$/, '')})` : ''
}
