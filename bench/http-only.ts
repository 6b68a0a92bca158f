// The HTTP-only reference arm: the service's own HTTP layer and v2 produce route, with the producer replaced by an
// immediate answer, so the benchmark shows what HTTP alone costs. Never a product: it stores nothing.
import Fastify from 'fastify'
import type { FastifyRequest } from 'fastify'
import { httpLayer, serverOptions } from '../app'
import { loadConfig } from '../lib/config'
import v2ProduceRoutes from '../routes/v2/produce'
import type { OutgoingRecord } from '../plugins/kafka-connection'
import type { Outcome, Produce } from '../plugins/produce'

async function main (): Promise<void> {
  const config = loadConfig({ ...process.env, BROKER_ADDRESS: process.env.BROKER_ADDRESS ?? '127.0.0.1:1' })
  const fastify = Fastify(serverOptions(config))
  await httpLayer(fastify, config)
  let offset = 0
  const answer = (): Outcome => ({ ok: true, delivery: { partition: 0, offset: offset++, timestamp: Date.now() } })
  const produce: Produce = {
    assertTopic: async () => {},
    send: async () => { const o = answer(); if (!o.ok) throw o.error; return o.delivery },
    sendMany: async (_request: FastifyRequest, _topic: string, records: Array<Omit<OutgoingRecord, 'topic'>>) => records.map(answer)
  }
  fastify.decorate('produce', produce)
  await fastify.register(v2ProduceRoutes)
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
