// Inbound HTTP authentication: off unless API_KEYS or BASIC_AUTH_USERS is set. API keys come as
// "Authorization: Bearer <key>" or "X-API-Key: <key>"; users as HTTP Basic. Liveness, readiness, metrics, the
// docs and the live view's page stay open; a CORS preflight never reaches here (plugins/cors.ts answers it first). Secrets are compared in
// constant time and never logged (app.ts redacts the headers that carry them).
import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { UnauthorizedError } from '../lib/errors'

// The live view's page holds no data (every call it makes needs credentials), like the docs.
const OPEN = [/^\/healthz$/, /^\/readyz$/, /^\/metrics$/, /^\/docs(\/|$)/, /^\/ui$/]

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/** Constant-time membership: every candidate is compared, equal-length digests, no early exit. */
function matchesAny (given: string, candidates: Buffer[]): boolean {
  const g = digest(given)
  let found = false
  for (const c of candidates) found = timingSafeEqual(g, c) || found
  return found
}

function credentials (request: FastifyRequest): { apiKey?: string, basic?: string } {
  const header = request.headers.authorization ?? ''
  const [scheme = '', value = ''] = header.split(/\s+/, 2)
  const apiKeyHeader = request.headers['x-api-key']
  if (scheme.toLowerCase() === 'bearer' && value) return { apiKey: value }
  if (scheme.toLowerCase() === 'basic' && value) return { basic: Buffer.from(value, 'base64').toString('utf8') }
  if (typeof apiKeyHeader === 'string' && apiKeyHeader) return { apiKey: apiKeyHeader }
  return {}
}

async function auth (fastify: FastifyInstance): Promise<void> {
  const { apiKeys, basicUsers } = fastify.config
  if (apiKeys.length === 0 && basicUsers.length === 0) {
    fastify.log.warn('HTTP authentication is off (set API_KEYS or BASIC_AUTH_USERS to turn it on)')
    return
  }
  const keys = apiKeys.map(digest)
  const users = basicUsers.map((u) => digest(`${u.username}:${u.password}`))
  const challenge = [keys.length > 0 ? 'Bearer realm="kosha"' : '', users.length > 0 ? 'Basic realm="kosha", charset="UTF-8"' : '']
    .filter(Boolean).join(', ')

  fastify.addHook('onRequest', async (request) => {
    // The route the router matched, not the raw URL: /healthz/ is served as /healthz (ignoreTrailingSlash), so it
    // is open too; a request that matches no route has no pattern and needs credentials.
    const path = request.routeOptions.url ?? ''
    if (request.method === 'OPTIONS' || OPEN.some((re) => re.test(path))) return
    const given = credentials(request)
    const ok = (given.apiKey !== undefined && keys.length > 0 && matchesAny(given.apiKey, keys)) ||
      (given.basic !== undefined && users.length > 0 && matchesAny(given.basic, users))
    if (!ok) throw new UnauthorizedError(challenge)
  })
}

export default fp(auth, { name: 'auth', dependencies: ['config'] })
