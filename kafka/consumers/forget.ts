// Letting go of a closed librdkafka consumer. The binding (@confluentinc/kafka-javascript) never frees a consumer
// created with a rebalance_cb: a native handle keeps the callback, and the callback the client. So every consumer the
// service closes (v2 instances, v1 consumers, streams) must leave nothing of its own hanging on the client.
import type { KafkaConsumer, LibrdKafkaError, TopicPartition } from '@confluentinc/kafka-javascript'
import { listenForErrors } from '../client-errors'

/**
 * Each closed consumer stays in memory for the life of the process (see above). Its listeners are dropped,
 * and a rebalance handler given through a holder (rebalanceThrough) is let go, so that what they reach (the session
 * or stream, its logger, its records) does not stay with it; what remains is the client object alone. Call once the
 * consumer is disconnected.
 */
export function forget (consumer: KafkaConsumer, holder?: RebalanceHolder): void {
  consumer.removeAllListeners()
  // Still listening for 'error', which would otherwise end the process (kafka/client-errors.ts).
  listenForErrors(consumer, undefined)
  if (holder !== undefined) delete holder.handler
}

export interface RebalanceHolder { handler?: (err: LibrdKafkaError, partitions: TopicPartition[]) => void }

/**
 * A rebalance_cb that reaches its handler only through the holder. Made here, apart from the class whose handler it
 * calls, so that the callback the binding keeps holds the holder alone (a closure made in a constructor would hold
 * the constructor's scope, `this` with it).
 */
export function rebalanceThrough (holder: RebalanceHolder): (err: LibrdKafkaError, partitions: TopicPartition[]) => void {
  return (err, partitions) => { holder.handler?.(err, partitions) }
}
