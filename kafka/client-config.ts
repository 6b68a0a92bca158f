// librdkafka's settings for every client of the connector's identity: one place, so the benchmark's native ceiling
// (bench/ceiling.ts) runs exactly what the service runs.
import type {
  ConsumerGlobalConfig, ConsumerTopicConfig, GlobalConfig, ProducerGlobalConfig, ProducerTopicConfig
} from '@confluentinc/kafka-javascript'
import type { Config } from '../lib/config'
import { tokenClaims } from './identity'

export type KafkaSettings = Pick<Config, 'brokers' | 'sasl' | 'tls' | 'kafkaTimeoutMs'>

/** One hour: a token's lifetime to librdkafka when it names no expiry (a caller's next token replaces its clients). */
const TOKEN_LIFETIME_MS = 3_600_000

/** librdkafka's SASL settings: a user and password, or a caller's bearer token handed over when librdkafka asks. */
function saslConfig (sasl: KafkaSettings['sasl']): GlobalConfig {
  if (!sasl) return {}
  if (sasl.mechanism !== 'OAUTHBEARER') return { 'sasl.mechanisms': sasl.mechanism, 'sasl.username': sasl.username, 'sasl.password': sasl.password }
  const { sub, exp } = tokenClaims(sasl.token)
  return {
    'sasl.mechanisms': 'OAUTHBEARER',
    // librdkafka refuses a token already past its lifetime by throwing inside the binding, which then emits 'error'
    // on a client nobody listens to: an unhandled rejection that ends the process. A token is expired by the time a
    // refresh comes when its clients outlive it by a moment (their closing before exp is timed); so librdkafka is
    // never handed a lifetime in the past: at least a second from now, and the broker, which checks exp itself,
    // refuses the login (an authentication failure, like any refused login).
    oauthbearer_token_refresh_cb: async () => ({
      tokenValue: sasl.token,
      lifetime: exp !== undefined ? Math.max(exp * 1000, Date.now() + 1000) : Date.now() + TOKEN_LIFETIME_MS,
      principal: sub ?? ''
    })
  }
}

export function librdkafkaConfig (config: KafkaSettings): GlobalConfig {
  const protocol = config.tls ? (config.sasl ? 'sasl_ssl' : 'ssl') : (config.sasl ? 'sasl_plaintext' : 'plaintext')
  return {
    'metadata.broker.list': config.brokers.join(','),
    'client.id': 'kosha-kafka-connector',
    'security.protocol': protocol,
    ...saslConfig(config.sasl),
    ...(config.tls?.caFile ? { 'ssl.ca.location': config.tls.caFile } : {}),
    // mTLS: the certificate librdkafka presents when the broker asks for one (ssl.client.auth=required).
    ...(config.tls?.certFile && config.tls.keyFile ? { 'ssl.certificate.location': config.tls.certFile, 'ssl.key.location': config.tls.keyFile } : {}),
    'socket.keepalive.enable': true,
    'allow.auto.create.topics': false,
    'log.connection.close': false
  }
}

/**
 * How much a consumer fetches ahead of what it was asked for, and how large a fetch may be. librdkafka's defaults
 * (a 64 MiB queue, 100,000 records per partition, fetches of up to 50 MiB, 1 MiB per partition) suit one consumer
 * per process; here every consumer instance and every stream is one, and a hundred of them with those defaults held
 * 1.5 GiB in the benchmark. Measured with 100 live consumers, each assigned one partition of 33,000 records of 100 B
 * and polled once: with a 1 MiB queue and librdkafka's fetch sizes the service grew by 3.3 MiB per consumer; with a
 * 256 KiB queue and fetches of at most 1 MiB (256 KiB per partition) by 2.6 MiB, and by 1.4 MiB on jemalloc
 * (scripts/serve). A 128 KiB queue saved 0.2 MiB more per consumer: the rest is librdkafka's own (four threads per
 * consumer and their buffers). One consumer drains as fast with 256 KiB: a fetch on loopback takes about a
 * millisecond, and a full queue is checked again after 5 ms, not librdkafka's 1 s (with a 1 s back-off a 4 MiB
 * queue capped a drain at 4 MB/s).
 *
 * A record larger than these limits is still delivered (a broker always returns the first record batch of a fetch,
 * whatever its size); fetch.max.bytes cannot go below message.max.bytes (librdkafka refuses it), hence 1 MiB.
 */
export const CONSUMER_PREFETCH = {
  'queued.max.messages.kbytes': 256,
  'queued.min.messages': 1000,
  'fetch.max.bytes': 1024 * 1024,
  'max.partition.fetch.bytes': 256 * 1024,
  'fetch.queue.backoff.ms': 5
} as const

/**
 * The producer's settings (global, topic). idempotent: false for a caller's producer (KAFKA_IDENTITY=caller). Kafka
 * grants the idempotent producer its id only to a user with WRITE on some topic, and librdkafka makes a refused id
 * fatal at connect time, so a caller allowed only to read would have a producer that fails everything, with a reason
 * that arrives after the failures. Without idempotence a denied record is denied by itself (403); one request in
 * flight per broker keeps the records in order across retries; acks=all still.
 */
export function producerConfig (config: KafkaSettings, options: { idempotent?: boolean } = {}): [ProducerGlobalConfig, ProducerTopicConfig] {
  const idempotent = options.idempotent ?? true
  return [{
    ...librdkafkaConfig(config),
    'enable.idempotence': idempotent,
    ...(idempotent ? {} : { 'max.in.flight.requests.per.connection': 1 }),
    'linger.ms': 2,
    'topic.metadata.propagation.max.ms': 3000,
    dr_cb: true
  }, {
    // acks=all and the delivery timeout are topic-level settings in librdkafka (idempotence requires acks=all).
    'request.required.acks': -1,
    'message.timeout.ms': config.kafkaTimeoutMs,
    // The Java producer's default: records with one key land on the partition a Java client would choose.
    partitioner: 'murmur2_random'
  }]
}

export interface ConsumerOptions {
  /** Where to start without a committed offset. */
  offsetReset: 'earliest' | 'latest'
  fetchMinBytes?: number
  /**
   * Static membership (group.instance.id): a consumer started elsewhere with the same instance id replaces this
   * member at once (no session timeout, often no rebalance), and closing does not leave the group.
   */
  instanceId?: string
}

/**
 * A consumer's settings (global, topic). Offsets are never committed by a timer nor stored on fetch: the consumer
 * engine commits what a client received (kafka/consumers/session.ts).
 */
export function consumerConfig (config: KafkaSettings, group: string, name: string, options: ConsumerOptions): [ConsumerGlobalConfig, ConsumerTopicConfig] {
  return [{
    ...librdkafkaConfig(config),
    ...CONSUMER_PREFETCH,
    'client.id': `kosha-kafka-connector-${name}`,
    'group.id': group,
    'enable.auto.commit': false,
    'enable.auto.offset.store': false,
    'enable.partition.eof': false,
    // A member learns of a rebalance at its next heartbeat: each second instead of Kafka's default three, so that a
    // stream's (or an instance's) partitions pass to the rest of its group about a second after it leaves.
    'heartbeat.interval.ms': 1000,
    ...(options.fetchMinBytes !== undefined ? { 'fetch.min.bytes': options.fetchMinBytes } : {}),
    ...(options.instanceId !== undefined ? { 'group.instance.id': options.instanceId } : {})
  }, { 'auto.offset.reset': options.offsetReset }] // a topic-level setting: in the global config it is ignored
}
