// The cluster itself: its id (a v3 path names it), its brokers, topics and partitions as the metadata describes them,
// and the partitions' watermarks.
//
// The brokers come from @platformatic/kafka's metadata, for every caller (the v1 and v2 lists, the v3 resources,
// a broker's existence): librdkafka's metadata has no rack, and a fresh answer drops a broker that left. Topics and
// partitions come from librdkafka's metadata, which the producer keeps anyway.
import type { Metadata } from '@confluentinc/kafka-javascript'
import { setTimeout as sleep } from 'node:timers/promises'
import { KafkaUnavailableError, PartitionNotFoundError, ResourceNotFoundError, TopicNotFoundError } from '../lib/errors'
import type { KafkaConnection, Watermarks } from './connection'
import { fromKafkaError } from './errors'

export interface ClusterInfo { id: string, controllerId: number }
export interface Broker { id: number, host: string, port: number, rack: string | null }
/** A partition as the metadata describes it: leader -1 while it has none. */
export interface PartitionMetadata { id: number, leader: number, replicas: number[], isrs: number[] }
/** One topic's metadata, and the broker that answered it (v1's getMetadata names it). */
export interface TopicMetadata { topic: string, partitions: PartitionMetadata[], brokers: Broker[], originatingBroker: Omit<Broker, 'rack'> }

/**
 * The topic's partitions and the metadata they came from; TopicNotFoundError unless the topic exists (asking never
 * creates it). The one "does this topic exist" of the Kafka layer.
 */
export async function existingTopic (kafka: Pick<KafkaConnection, 'metadata'>, topic: string): Promise<{ metadata: Metadata, partitions: PartitionMetadata[] }> {
  const metadata = await kafka.metadata(topic)
  const found = metadata.topics.find((t) => t.name === topic)
  if (!found || found.partitions.length === 0) throw new TopicNotFoundError(topic)
  return { metadata, partitions: [...found.partitions].sort((a, b) => a.id - b.id) }
}

/**
 * The watermarks of a partition known to exist. Right after a topic is created the client may not know the
 * partition's leader yet: that passes in moments, so a retriable answer is asked again for a short while before it
 * becomes a 503.
 */
export async function partitionWatermarks (kafka: Pick<KafkaConnection, 'watermarks' | 'timeoutMs'>, topic: string, partition: number): Promise<Watermarks> {
  const deadline = Date.now() + Math.min(kafka.timeoutMs, 3000)
  for (;;) {
    try {
      return await kafka.watermarks(topic, partition)
    } catch (err) {
      if (!(err instanceof KafkaUnavailableError) || Date.now() > deadline) throw err
      await sleep(100)
    }
  }
}

export class Cluster {
  constructor (private readonly kafka: KafkaConnection) {}

  /** The cluster's id and controller. */
  async describe (): Promise<ClusterInfo> {
    return await this.kafka.cluster()
  }

  /** The cluster's id and controller; ResourceNotFoundError unless clusterId is this cluster's id. */
  async assertCluster (clusterId: string): Promise<ClusterInfo> {
    const found = await this.kafka.cluster()
    if (found.id !== clusterId) throw new ResourceNotFoundError(`Cluster ${clusterId} cannot be found.`)
    return found
  }

  /** The brokers, by id. */
  async brokers (): Promise<Broker[]> {
    // A fresh answer (forceUpdate), so a broker that left is gone.
    const md = await this.kafka.clients().configAdmin.metadata({ topics: [], forceUpdate: true })
      .catch((err: unknown) => { throw fromKafkaError(err, { resource: 'the cluster' }) })
    return [...md.brokers.entries()]
      .map(([id, b]) => ({ id, host: b.host, port: b.port, rack: b.rack ?? null }))
      .sort((a, b) => a.id - b.id)
  }

  /** One broker; ResourceNotFoundError when no broker has this id. */
  async broker (brokerId: number): Promise<Broker> {
    const found = (await this.brokers()).find((b) => b.id === brokerId)
    if (!found) throw new ResourceNotFoundError(`Broker ${brokerId} cannot be found.`)
    return found
  }

  async brokerIds (): Promise<number[]> {
    return (await this.brokers()).map((b) => b.id)
  }

  /** Names of the topics that are not Kafka's internal ones, sorted. */
  async topicNames (): Promise<string[]> {
    const md = await this.kafka.metadata()
    return md.topics.map((t) => t.name).filter((name) => !name.startsWith('__')).sort()
  }

  /** The partitions of a topic, by id; TopicNotFoundError when it does not exist. */
  async partitions (topic: string): Promise<PartitionMetadata[]> {
    return (await existingTopic(this.kafka, topic)).partitions
  }

  /** One partition; PartitionNotFoundError when the topic or the partition does not exist. */
  async partition (topic: string, partition: number): Promise<PartitionMetadata> {
    const partitions = await this.partitions(topic).catch((err: unknown) => {
      throw err instanceof TopicNotFoundError ? new PartitionNotFoundError(topic, partition) : err
    })
    const found = partitions.find((p) => p.id === partition)
    if (!found) throw new PartitionNotFoundError(topic, partition)
    return found
  }

  /** The first stored offset and the offset the next record will get; PartitionNotFoundError as partition(). */
  async watermarks (topic: string, partition: number): Promise<Watermarks> {
    await this.partition(topic, partition)
    return await partitionWatermarks(this.kafka, topic, partition)
  }

  /** A topic's partitions with the brokers; TopicNotFoundError when it does not exist. */
  async topicMetadata (topic: string): Promise<TopicMetadata> {
    const [{ metadata, partitions }, brokers] = await Promise.all([existingTopic(this.kafka, topic), this.brokers()])
    const origin = brokers.find((b) => b.id === metadata.orig_broker_id)
    return {
      topic,
      partitions,
      brokers,
      originatingBroker: origin ? { id: origin.id, host: origin.host, port: origin.port } : { id: metadata.orig_broker_id, host: '', port: 0 }
    }
  }
}
