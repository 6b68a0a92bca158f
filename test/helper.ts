// Builds the real app, with the same factory options as production, against the real broker of this test run.
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import app from '../app'
import { serverOptions } from '../server-options'
import { loadConfig } from '../lib/config'
import { bootstrap } from './kafka'
import { SPEC_FILE, isV3Url, specMissing, v3Mismatch } from './confluent-spec'

type Teardown = Pick<Test, 'teardown'>

export interface BuildOptions {
  /** Environment variables on top of BROKER_ADDRESS (the test broker's PLAINTEXT listener). */
  env?: Record<string, string>
  /** Collects every log line (JSON) the app writes. */
  logs?: string[]
  /** Collects every route the app registers, as "METHOD /url". */
  routes?: string[]
  /** Collects, for every request, the route the router matched it to: its URL as registered (undefined: none). */
  matched?: Array<{ method: string, url: string, route: string | undefined }>
  /** Where Confluent's v3 spec is read from (default: shared/ beside the checkout, or CONFLUENT_V3_SPEC). */
  confluentSpec?: string
  /** Collects every v3 answer (/v3, /kafka/v3) that does not conform to Confluent's spec, instead of failing the test at teardown. */
  mismatches?: string[]
}

export async function build (t: Teardown, options: BuildOptions = {}): Promise<FastifyInstance> {
  const config = loadConfig({ BROKER_ADDRESS: bootstrap(), LOG_LEVEL: options.logs ? 'info' : 'silent', ...options.env })
  const base = serverOptions(config)
  const logs = options.logs
  const fastify = Fastify(logs
    ? {
        ...base,
        logger: {
          ...(base.logger as object),
          stream: new Writable({ write (chunk: Buffer, _enc, done) { logs.push(chunk.toString('utf8')); done() } })
        }
      }
    : base)
  // Every v3 answer of every test (under each base path of Confluent's spec: /v3, /kafka/v3) is checked against
  // Confluent's own spec when it is there (test/confluent-spec.ts); the test fails on any mismatch. The check only
  // looks: whatever it finds or throws, the answer goes out unchanged.
  const spec = options.confluentSpec ?? SPEC_FILE
  const collected = options.mismatches
  const mismatches: string[] = []
  if (specMissing(spec) === undefined) {
    fastify.addHook('onSend', async (request, reply, payload) => {
      // A CORS preflight is not an operation of Confluent's API: only real v3 answers are checked.
      if (request.method !== 'OPTIONS' && (typeof payload === 'string' || payload === null || payload === undefined)) {
        let why: string | undefined
        try {
          if (isV3Url(request.url, spec)) why = v3Mismatch(request.method, request.url, reply.statusCode, String(reply.getHeader('content-type') ?? ''), payload ?? '', spec)
        } catch (err) {
          why = `${request.method} ${request.url}: the conformance check failed: ${(err as Error).message}`
        }
        if (why) (collected ?? mismatches).push(why)
      }
      return payload
    })
  }
  const routes = options.routes
  if (routes) {
    fastify.addHook('onRoute', (route) => {
      // The 405 answers of paths for their other methods (http/register.ts) are no operations.
      if (route.config?.methodNotAllowed === true) return
      for (const method of [route.method].flat()) routes.push(`${method} ${route.url}`)
    })
  }
  const matched = options.matched
  if (matched) {
    // Before the app's own hooks, so that a request they refuse (authentication) is collected too.
    fastify.addHook('onRequest', async (request) => {
      matched.push({ method: request.method, url: request.url, route: request.routeOptions.url })
    })
  }
  await fastify.register(app, { config })
  await fastify.ready()
  t.teardown(async () => {
    await fastify.close()
    // A teardown may not assert, but what it throws fails the test.
    if (mismatches.length > 0) throw new Error(`v3 responses that do not conform to Confluent's spec:\n${mismatches.join('\n')}`)
  })
  return fastify
}
