// The one connection to Kafka (kafka/connection.ts) as `fastify.kafka`; connected at start, closed last.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { KafkaConnection } from '../kafka/connection'

declare module 'fastify' {
  interface FastifyInstance { kafka: KafkaConnection }
}

async function kafkaConnection (fastify: FastifyInstance): Promise<void> {
  const connection = new KafkaConnection(fastify.config, fastify.log.child({ component: 'kafka' }))
  fastify.decorate('kafka', connection)
  await connection.start()
  // Registered before the consumers, so Fastify runs this onClose after theirs: consumers close, then the producer
  // is flushed and disconnected.
  fastify.addHook('onClose', async () => { await connection.close() })
}

export default fp(kafkaConnection, { name: 'kafka-connection', dependencies: ['config'] })
