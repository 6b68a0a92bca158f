// Producing (kafka/produce.ts) as `fastify.produce`, behind the v1, v2 and v3 produce routes; every send is counted
// in the metrics. No API produces to the replicas' state topic (STATE_TOPIC).
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Produce } from '../kafka/produce'

declare module 'fastify' {
  interface FastifyInstance { produce: Produce }
}

async function produce (fastify: FastifyInstance): Promise<void> {
  const onProduced = (acknowledged: number, failed: number, seconds: number): void => { fastify.metrics.recordProduced(acknowledged, failed, seconds) }
  fastify.decorate('produce', new Produce(fastify.kafka, { onProduced, reserved: [fastify.config.stateTopic] }))
}

export default fp(produce, { name: 'produce', dependencies: ['kafka-connection', 'metrics'] })
