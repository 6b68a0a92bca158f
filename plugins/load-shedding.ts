// Load shedding (@fastify/under-pressure): while the event loop's mean delay, V8's used heap or the resident set is
// above its limit (SHED_MAX_EVENT_LOOP_DELAY_MS, SHED_MAX_HEAP_USED_BYTES, SHED_MAX_RSS_BYTES; sampled every
// SHED_SAMPLE_INTERVAL_MS), every new request is refused at once with 503 KOSHA_OVERLOADED and Retry-After, in its API
// family's envelope, so that the work in flight can finish and the process recover instead of falling further behind.
// Liveness and metrics are still served (the process is alive, and its metrics show why it sheds); readiness
// answers the same 503, so that a load balancer sends the traffic elsewhere meanwhile.
import fp from 'fastify-plugin'
import underPressure from '@fastify/under-pressure'
import { Counter } from 'prom-client'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { OverloadedError, type Pressure } from '../lib/errors'

const SERVED = new Set(['/healthz', '/metrics'])

// under-pressure's names for what is over its limit.
const PRESSURES: Record<string, Pressure> = {
  [underPressure.TYPE_EVENT_LOOP_DELAY]: 'event loop delay',
  [underPressure.TYPE_HEAP_USED_BYTES]: 'heap',
  [underPressure.TYPE_RSS_BYTES]: 'memory'
}

async function loadShedding (fastify: FastifyInstance): Promise<void> {
  const { shedMaxEventLoopDelayMs, shedMaxHeapUsedBytes, shedMaxRssBytes, shedSampleIntervalMs } = fastify.config
  if (shedMaxEventLoopDelayMs === 0 && shedMaxHeapUsedBytes === 0 && shedMaxRssBytes === 0) return
  // Pressure is measured again at the next sample: retrying sooner cannot succeed.
  const retryAfter = Math.max(1, Math.ceil(shedSampleIntervalMs / 1000))
  const shed = new Counter({
    name: 'kosha_requests_shed_total',
    help: 'Requests refused with 503 KOSHA_OVERLOADED (load shedding), by what was over its limit.',
    labelNames: ['pressure'],
    registers: [fastify.metrics.registry]
  })
  // Starting blocks the loop by design (compiling every schema, creating the Kafka clients), and the samples taken
  // meanwhile say so: pressure counts only from the second full sample after the app is ready.
  let readyAt = Infinity
  fastify.addHook('onReady', async () => { readyAt = performance.now() })
  const warmingUp = (): boolean => performance.now() < readyAt + 2 * shedSampleIntervalMs
  await fastify.register(underPressure, {
    maxEventLoopDelay: shedMaxEventLoopDelayMs,
    maxHeapUsedBytes: shedMaxHeapUsedBytes,
    maxRssBytes: shedMaxRssBytes,
    sampleInterval: shedSampleIntervalMs,
    // A rejection reaches the error handler of the request's API family; a resolution serves the request.
    pressureHandler: async (request: FastifyRequest, _reply, type) => {
      if (SERVED.has(request.routeOptions.url ?? '') || warmingUp()) return
      const pressure = PRESSURES[type] ?? 'load'
      shed.inc({ pressure })
      throw new OverloadedError(pressure, retryAfter)
    }
  })
}

export default fp(loadShedding, { name: 'load-shedding', dependencies: ['config', 'metrics'] })
