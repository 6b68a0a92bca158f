// Kosha v1 metadata: /api/v1/describe/{resourceType}/{resourceName} and /api/v1/getMetadata/{topic}, shaped here
// from the Kafka layer's cluster and config types.
import { type RouteTypes } from '../../generated/routes'
import type { Handlers } from '../../http/register'
import { InvalidResourceTypeError } from '../../lib/errors'
import { isConfigResourceType, type ConfigValue, type ResourceConfigs } from '../../kafka/configs'
import type { TopicMetadata } from '../../kafka/cluster'

type Description = RouteTypes['describeResource']['Reply'][200][number]
type ConfigEntry = Description['config'][string]
type MetadataReply = RouteTypes['getTopicMetadata']['Reply'][200]

function configEntry (c: ConfigValue): ConfigEntry {
  return { name: c.name, value: c.value, source: c.source, isReadOnly: c.isReadOnly, isSensitive: c.isSensitive, isSynonym: false, synonyms: c.synonyms }
}

function description (d: ResourceConfigs): Description {
  return { name: d.name, type: d.type, config: Object.fromEntries(d.configs.map((c) => [c.name, configEntry(c)])), error: null }
}

function topicMetadata (md: TopicMetadata): MetadataReply {
  return {
    brokers: md.brokers.map((b) => ({ id: b.id, host: b.host, port: b.port })),
    originatingBroker: md.originatingBroker,
    topics: {
      [md.topic]: {
        topic: md.topic,
        error: null,
        partitions: md.partitions.map((p) => ({ id: p.id, leader: p.leader, replicas: p.replicas, isrs: p.isrs, error: null }))
      }
    }
  }
}

export const metadata = {
  describeResource: async (request, reply) => {
    const { resourceType, resourceName } = request.params
    const type = resourceType.toLowerCase()
    if (!isConfigResourceType(type)) throw new InvalidResourceTypeError(`resourceType must be broker, topic or group (got '${resourceType}').`)
    return reply.code(200).send([description(await request.kafkaApi.configs.describe(type, resourceName))])
  },

  getTopicMetadata: async (request, reply) => reply.code(200).send(topicMetadata(await request.kafkaApi.cluster.topicMetadata(request.params.topic)))
} satisfies Handlers<'metadata'>
