// librdkafka's settings for every client of the connector's identity: one place, so the benchmark's native ceiling
// (bench/ceiling.ts) runs exactly what the service runs.
import type {
  ConsumerGlobalConfig, ConsumerTopicConfig, GlobalConfig, ProducerGlobalConfig, ProducerTopicConfig
} from '@confluentinc/kafka-javascript'
import type { Config } from '../lib/config'

export type KafkaSettings = Pick<Config, 'brokers' | 'sasl' | 'tls' | 'kafkaTimeoutMs'>

export function librdkafkaConfig (config: KafkaSettings): GlobalConfig {
  const protocol = config.tls ? (config.sasl ? 'sasl_ssl' : 'ssl') : (config.sasl ? 'sasl_plaintext' : 'plaintext')
  return {
    'metadata.broker.list': config.brokers.join(','),
    'client.id': 'kosha-kafka-connector',
    'security.protocol': protocol,
    ...(config.sasl ? { 'sasl.mechanisms': config.sasl.mechanism, 'sasl.username': config.sasl.username, 'sasl.password': config.sasl.password } : {}),
    ...(config.tls?.caFile ? { 'ssl.ca.location': config.tls.caFile } : {}),
    'socket.keepalive.enable': true,
    'allow.auto.create.topics': false,
    'log.connection.close': false
  }
}

/**
 * How much a consumer fetches ahead of what it was asked for. librdkafka's defaults (64 MiB and 100,000 records per
 * partition) suit one consumer per process; here a consumer serves HTTP polls of at most 500 records, and a hundred
 * live consumers with those defaults held 1.5 GiB in the benchmark. A full queue is checked again after 5 ms, not
 * librdkafka's 1 s, so that a small queue does not throttle a reader that keeps up (with a 1 s back-off, a 4 MiB
 * queue capped a drain at 4 MB/s).
 */
export const CONSUMER_PREFETCH = { 'queued.max.messages.kbytes': 1024, 'queued.min.messages': 1000, 'fetch.queue.backoff.ms': 5 } as const

/** The producer's settings (global, topic). */
export function producerConfig (config: KafkaSettings): [ProducerGlobalConfig, ProducerTopicConfig] {
  return [{
    ...librdkafkaConfig(config),
    'enable.idempotence': true,
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
