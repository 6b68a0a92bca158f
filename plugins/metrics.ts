// Prometheus metrics at /metrics: requests by route and status, request duration, records produced and failed,
// delivery latency; plugins add their own to the registry (plugins/consumers.ts: live consumers). One registry per
// app instance, so that instances never share counters.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export interface Metrics {
  registry: Registry
  /** A produce call's records: how many were acknowledged, how many failed, and how long until all had settled. */
  recordProduced: (acknowledged: number, failed: number, seconds: number) => void
}

declare module 'fastify' {
  interface FastifyInstance { metrics: Metrics }
}

async function metrics (fastify: FastifyInstance): Promise<void> {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const labelNames = ['method', 'route', 'status'] as const
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests by route and status.', labelNames, registers: [registry] })
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration.',
    labelNames,
    registers: [registry],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
  })
  const produced = new Counter({ name: 'kosha_records_produced_total', help: 'Records the broker acknowledged.', registers: [registry] })
  const failed = new Counter({ name: 'kosha_records_failed_total', help: 'Records whose produce failed.', registers: [registry] })
  const latency = new Histogram({
    name: 'kosha_delivery_latency_seconds',
    help: 'From handing a request\'s records to the producer to the last of their acknowledgements.',
    registers: [registry],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 10]
  })

  fastify.addHook('onResponse', async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }
    requests.inc(labels)
    duration.observe(labels, reply.elapsedTime / 1000)
  })
  fastify.decorate('metrics', {
    registry,
    recordProduced (acknowledged, failures, seconds) {
      if (acknowledged > 0) { produced.inc(acknowledged); latency.observe(seconds) }
      if (failures > 0) failed.inc(failures)
    }
  } satisfies Metrics)
  fastify.get('/metrics', async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}

export default fp(metrics, { name: 'metrics' })
