// The HTTP-only reference arm: the service's own HTTP layer and v2 produce route, with the producer replaced by an
// immediate answer, so the benchmark shows what HTTP alone costs. Never a product: it stores nothing.
import Fastify from 'fastify'
import { serverOptions } from '../server-options'
import { httpLayer } from '../http/layer'
import { errorHandler } from '../http/errors'
import { registerOperations } from '../http/register'
import { loadConfig } from '../lib/config'
import { produce as v2Produce } from '../routes/v2/produce'
import { Produce, type Outcome, type RecordSink } from '../kafka/produce'
import type { KafkaApi } from '../kafka/identities'
import '../plugins/kafka-api'

async function main (): Promise<void> {
  const config = loadConfig({ ...process.env, BROKER_ADDRESS: process.env.BROKER_ADDRESS ?? '127.0.0.1:1' })
  const fastify = Fastify(serverOptions(config))
  await httpLayer(fastify, config)
  let offset = 0
  const answer = (): Outcome => ({ ok: true, delivery: { partition: 0, offset: offset++, timestamp: Date.now() } })
  // The service's own Produce over a stand-in for the connection: every topic exists, every record is acknowledged.
  const sink: RecordSink = {
    produce: async (_topic, records) => records.map(answer),
    metadata: async (topic) => ({
      orig_broker_id: 0,
      orig_broker_name: 'none',
      brokers: [],
      topics: [{ name: topic ?? '', partitions: [{ id: 0, leader: 0, replicas: [0], isrs: [0] }] }]
    })
  }
  const produce = new Produce(sink)
  fastify.decorate('produce', produce)
  // The routes reach Kafka through request.kafkaApi (plugins/kafka-api.ts): here only its produce module, stood in.
  const api = { produce } as Partial<KafkaApi> as KafkaApi
  fastify.decorateRequest('kafkaApi', null as unknown as KafkaApi)
  fastify.addHook('onRequest', async (request) => { request.kafkaApi = api })
  // The v2 produce operations, in a context with the v2 error handler, as routes/v2/index.ts registers them.
  await fastify.register(async (v2) => {
    v2.setErrorHandler(errorHandler('v2'))
    registerOperations(v2, v2Produce)
  })
  fastify.get('/healthz', async () => ({ status: 'ok' }))
  await fastify.listen({ port: config.port, host: config.host })
  const stop = (): void => { fastify.close().then(() => process.exit(0), () => process.exit(1)) }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
