// The Confluent v3 resources of clusters, brokers, topics, configs and partitions as Confluent writes them (kind,
// metadata.self and resource_name, related links).
import type { FastifyRequest } from 'fastify'
import type { RouteTypes } from '../../generated/routes'
import { link } from '../../http/links'
import type { Broker as ClusterBroker } from '../../kafka/cluster'
import type { ConfigValue } from '../../kafka/configs'
import type { Reassignment, Replica, TopicInfo, TopicPartition } from '../../kafka/topics'

type Cluster = RouteTypes['getClusterV3']['Reply'][200]
type Broker = RouteTypes['getBrokerV3']['Reply'][200]
type BrokerConfig = RouteTypes['getBrokerConfigV3']['Reply'][200]
type Topic = RouteTypes['getTopicV3']['Reply'][200]
type TopicConfig = RouteTypes['getTopicConfigV3']['Reply'][200]
type Partition = RouteTypes['getPartitionV3']['Reply'][200]
type ClusterConfig = RouteTypes['getClusterConfigV3']['Reply'][200]
type ReplicaResource = RouteTypes['getReplicaV3']['Reply'][200]
type ReassignmentResource = RouteTypes['getPartitionReassignmentV3']['Reply'][200]

const seg = encodeURIComponent
export const clusterPath = (clusterId: string): string => `/v3/clusters/${seg(clusterId)}`
export const topicPath = (clusterId: string, topic: string): string => `${clusterPath(clusterId)}/topics/${seg(topic)}`
export const brokerPath = (clusterId: string, brokerId: number): string => `${clusterPath(clusterId)}/brokers/${brokerId}`
export const partitionPath = (clusterId: string, topic: string, partition: number): string => `${topicPath(clusterId, topic)}/partitions/${partition}`

const related = (request: FastifyRequest, path: string): { related: string } => ({ related: link(request, path) })

/** A list resource: Confluent's collection metadata (one page: next is null). */
export function collection<K extends string, T> (request: FastifyRequest, kind: K, path: string, data: T[]): { kind: K, metadata: { self: string, next: null }, data: T[] } {
  return { kind, metadata: { self: link(request, path), next: null }, data }
}

export function clusterResource (request: FastifyRequest, id: string, controllerId: number): Cluster {
  const base = clusterPath(id)
  return {
    kind: 'KafkaCluster',
    metadata: { self: link(request, base), resource_name: `crn:///kafka=${id}` },
    cluster_id: id,
    ...(controllerId >= 0 ? { controller: related(request, `${base}/brokers/${controllerId}`) } : {}),
    acls: related(request, `${base}/acls`),
    brokers: related(request, `${base}/brokers`),
    broker_configs: related(request, `${base}/broker-configs`),
    consumer_groups: related(request, `${base}/consumer-groups`),
    topics: related(request, `${base}/topics`),
    partition_reassignments: related(request, `${base}/topics/-/partitions/-/reassignment`)
  }
}

export function brokerResource (request: FastifyRequest, clusterId: string, b: ClusterBroker): Broker {
  const base = brokerPath(clusterId, b.id)
  return {
    kind: 'KafkaBroker',
    metadata: { self: link(request, base), resource_name: `crn:///kafka=${clusterId}/broker=${b.id}` },
    cluster_id: clusterId,
    broker_id: b.id,
    host: b.host,
    port: b.port,
    rack: b.rack,
    configs: related(request, `${base}/configs`),
    partition_replicas: related(request, `${base}/partition-replicas`)
  }
}

function configFields (clusterId: string, c: ConfigValue): Omit<BrokerConfig, 'kind' | 'metadata' | 'broker_id'> {
  return {
    cluster_id: clusterId,
    name: c.name,
    value: c.value,
    is_default: c.isDefault,
    is_read_only: c.isReadOnly,
    is_sensitive: c.isSensitive,
    source: c.source,
    synonyms: c.synonyms
  }
}

export function brokerConfigResource (request: FastifyRequest, clusterId: string, brokerId: number, c: ConfigValue): BrokerConfig {
  return {
    kind: 'KafkaBrokerConfig',
    metadata: {
      self: link(request, `${brokerPath(clusterId, brokerId)}/configs/${seg(c.name)}`),
      resource_name: `crn:///kafka=${clusterId}/broker=${brokerId}/config=${c.name}`
    },
    ...configFields(clusterId, c),
    broker_id: brokerId
  }
}

/** A cluster-wide dynamic broker config (Confluent's config_type BROKER). */
export function clusterConfigResource (request: FastifyRequest, clusterId: string, c: ConfigValue): ClusterConfig {
  return {
    kind: 'KafkaClusterConfig',
    metadata: {
      self: link(request, `${clusterPath(clusterId)}/broker-configs/${seg(c.name)}`),
      resource_name: `crn:///kafka=${clusterId}/broker-config=${c.name}`
    },
    ...configFields(clusterId, c),
    config_type: 'BROKER'
  }
}

export function topicConfigResource (request: FastifyRequest, clusterId: string, topic: string, c: ConfigValue): TopicConfig {
  return {
    kind: 'KafkaTopicConfig',
    metadata: {
      self: link(request, `${topicPath(clusterId, topic)}/configs/${seg(c.name)}`),
      resource_name: `crn:///kafka=${clusterId}/topic=${topic}/config=${c.name}`
    },
    ...configFields(clusterId, c),
    topic_name: topic
  }
}

export function topicResource (request: FastifyRequest, clusterId: string, t: Pick<TopicInfo, 'name' | 'isInternal' | 'replicationFactor'> & { partitionsCount: number }): Topic {
  const base = topicPath(clusterId, t.name)
  return {
    kind: 'KafkaTopic',
    metadata: { self: link(request, base), resource_name: `crn:///kafka=${clusterId}/topic=${t.name}` },
    cluster_id: clusterId,
    topic_name: t.name,
    is_internal: t.isInternal,
    replication_factor: t.replicationFactor,
    partitions_count: t.partitionsCount,
    partitions: related(request, `${base}/partitions`),
    configs: related(request, `${base}/configs`),
    partition_reassignments: related(request, `${base}/partitions/-/reassignment`)
  }
}

export const describedTopic = (t: TopicInfo): Pick<TopicInfo, 'name' | 'isInternal' | 'replicationFactor'> & { partitionsCount: number } =>
  ({ name: t.name, isInternal: t.isInternal, replicationFactor: t.replicationFactor, partitionsCount: t.partitions.length })

export function partitionResource (request: FastifyRequest, clusterId: string, topic: string, p: TopicPartition): Partition {
  const base = partitionPath(clusterId, topic, p.id)
  return {
    kind: 'KafkaPartition',
    metadata: { self: link(request, base), resource_name: `crn:///kafka=${clusterId}/topic=${topic}/partition=${p.id}` },
    cluster_id: clusterId,
    topic_name: topic,
    partition_id: p.id,
    ...(p.leader !== null && p.leader >= 0 ? { leader: related(request, `${base}/replicas/${p.leader}`) } : {}),
    replicas: related(request, `${base}/replicas`),
    reassignment: related(request, `${base}/reassignment`)
  }
}

export function replicaResource (request: FastifyRequest, clusterId: string, r: Replica): ReplicaResource {
  return {
    kind: 'KafkaReplica',
    metadata: {
      self: link(request, `${partitionPath(clusterId, r.topic, r.partition)}/replicas/${r.brokerId}`),
      resource_name: `crn:///kafka=${clusterId}/topic=${r.topic}/partition=${r.partition}/replica=${r.brokerId}`
    },
    cluster_id: clusterId,
    topic_name: r.topic,
    partition_id: r.partition,
    broker_id: r.brokerId,
    is_leader: r.isLeader,
    is_in_sync: r.isInSync,
    broker: related(request, brokerPath(clusterId, r.brokerId))
  }
}

export function reassignmentResource (request: FastifyRequest, clusterId: string, r: Reassignment): ReassignmentResource {
  const base = partitionPath(clusterId, r.topic, r.partition)
  return {
    kind: 'KafkaReassignment',
    metadata: { self: link(request, `${base}/reassignment`), resource_name: `crn:///kafka=${clusterId}/topic=${r.topic}/partition=${r.partition}/reassignment` },
    cluster_id: clusterId,
    topic_name: r.topic,
    partition_id: r.partition,
    adding_replicas: r.adding,
    removing_replicas: r.removing,
    replicas: related(request, `${base}/replicas`)
  }
}
