// Which Kafka identity a request acts as, as `request.kafkaApi` (kafka/identities.ts): the connector's own modules
// (fastify.topics, fastify.produce, ...) by default; with KAFKA_IDENTITY=caller, the modules on the caller's own
// Kafka login, opened (and kept, bounded) on its first request, so that Kafka's ACLs decide what it may do. Routes
// use request.kafkaApi for every Kafka call on a caller's behalf; readiness and the replicas' state stay the service's.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Identities, type KafkaApi } from '../kafka/identities'
import type { CallerIdentity } from '../kafka/identity'
import { OPEN_PATHS } from './auth'

declare module 'fastify' {
  interface FastifyRequest {
    /** The Kafka modules of the caller's identity (set before the handler runs). */
    kafkaApi: KafkaApi
    /** KAFKA_IDENTITY=caller: the caller's Kafka identity, whose consumers and streams it may use; else null. */
    kafkaCaller: CallerIdentity | null
  }
}

async function kafkaApiPlugin (fastify: FastifyInstance): Promise<void> {
  const shared: KafkaApi = {
    kafka: fastify.kafka,
    cluster: fastify.cluster,
    topics: fastify.topics,
    configs: fastify.configs,
    produce: fastify.produce,
    consumerGroups: fastify.consumerGroups,
    acls: fastify.acls,
    reads: fastify.reads
  }
  fastify.decorateRequest('kafkaApi', null as unknown as KafkaApi)
  fastify.decorateRequest('kafkaCaller', null)
  if (fastify.config.kafkaIdentity === 'service') {
    fastify.addHook('onRequest', async (request) => { request.kafkaApi = shared })
    return
  }
  const onProduced = (acknowledged: number, failed: number, seconds: number): void => { fastify.metrics.recordProduced(acknowledged, failed, seconds) }
  const identities = new Identities(fastify.config, { stateTopic: fastify.config.stateTopic, onProduced }, fastify.log.child({ component: 'identities' }))
  fastify.log.info('KAFKA_IDENTITY=caller: each caller acts on Kafka as itself, with its own HTTP credentials')
  // After authentication (onRequest) and validation: a request refused before never opens a Kafka connection.
  fastify.addHook('preHandler', async (request) => {
    const caller = request.caller.kafka
    const path = request.routeOptions.url ?? ''
    if (caller === undefined || OPEN_PATHS.some((re) => re.test(path))) {
      request.kafkaApi = shared
      return
    }
    request.kafkaCaller = caller
    request.kafkaApi = await identities.api(caller)
  })
  // The callers' consumers and streams have clients of their own, closed by their plugins.
  fastify.addHook('onClose', async () => { await identities.close() })
}

export default fp(kafkaApiPlugin, { name: 'kafka-api', dependencies: ['config', 'identity', 'kafka-connection', 'cluster', 'topics', 'configs', 'produce', 'consumer-groups', 'acls', 'reads', 'metrics'] })
