// Rate limits (@fastify/rate-limit's counters): at most RATE_LIMIT_PER_CALLER requests per caller (plugins/identity.ts:
// its API key or Basic user, else its address) and RATE_LIMIT_GLOBAL requests from all callers together, per
// RATE_LIMIT_WINDOW_MS window, in this process; then 429 KOSHA_RATE_LIMITED with Retry-After (the seconds until the
// window that was full starts again), in the API family's envelope. Both are off (0) by default. Counted before
// authentication, so that a caller guessing credentials is limited by its address. Liveness, readiness and metrics
// are never limited: an orchestrator and a scraper must always get through.
//
// The per-caller limit is told on every answer it counts (X-RateLimit-Limit, -Remaining, -Reset), so that a client
// can pace itself; a request the caller's own limit refused does not count towards the global one.
import fp from 'fastify-plugin'
import rateLimit, { normalizeIP } from '@fastify/rate-limit'
import { Counter } from 'prom-client'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { RateLimitedError, type RateLimit } from '../lib/errors'

const EXEMPT = new Set(['/healthz', '/readyz', '/metrics'])
/** Distinct callers remembered per window; past it, the least recently seen one is forgotten (its count restarts). */
const CALLERS = 10_000

async function rateLimits (fastify: FastifyInstance): Promise<void> {
  const { rateLimitPerCaller, rateLimitGlobal, rateLimitWindowMs } = fastify.config
  if (rateLimitPerCaller === 0 && rateLimitGlobal === 0) return
  // Only its counters (createRateLimit): the hook is ours, so that the two limits are checked in order and refuse
  // with a catalogue error.
  await fastify.register(rateLimit, { global: false })
  const refused = new Counter({
    name: 'kosha_requests_rate_limited_total',
    help: 'Requests refused with 429 KOSHA_RATE_LIMITED, by the limit they went over (caller, global).',
    labelNames: ['limit'],
    registers: [fastify.metrics.registry]
  })
  const limits: Array<{ limit: RateLimit, max: number, check: ReturnType<FastifyInstance['createRateLimit']> }> = []
  const counter = (max: number, keyGenerator: (request: FastifyRequest) => string): ReturnType<FastifyInstance['createRateLimit']> => {
    // `cache` sizes the store of the counters (an LRU map), which its types do not name.
    const options = { max, timeWindow: rateLimitWindowMs, keyGenerator, cache: CALLERS }
    return fastify.createRateLimit(options)
  }
  // An address is counted by its IPv6 /64 (one host's usual allocation, which it can pick addresses from at will).
  const callerKey = (request: FastifyRequest): string => request.caller.authenticated ? request.caller.id : `ip:${normalizeIP(request.ip)}`
  if (rateLimitPerCaller > 0) limits.push({ limit: 'caller', max: rateLimitPerCaller, check: counter(rateLimitPerCaller, callerKey) })
  if (rateLimitGlobal > 0) limits.push({ limit: 'global', max: rateLimitGlobal, check: counter(rateLimitGlobal, () => 'all') })

  fastify.addHook('onRequest', async (request, reply) => {
    if (EXEMPT.has(request.routeOptions.url ?? '')) return
    for (const { limit, max, check } of limits) {
      const counted = await check(request)
      if (counted.isAllowed) continue
      const retryAfter = Math.max(1, counted.ttlInSeconds)
      if (limit === 'caller') {
        reply.header('X-RateLimit-Limit', max).header('X-RateLimit-Remaining', counted.remaining).header('X-RateLimit-Reset', retryAfter)
      }
      if (counted.isExceeded) {
        refused.inc({ limit })
        throw new RateLimitedError(limit, max, rateLimitWindowMs, retryAfter)
      }
    }
  })
}

export default fp(rateLimits, { name: 'rate-limit', dependencies: ['config', 'identity', 'metrics'] })
