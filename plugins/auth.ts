// Inbound HTTP authentication: off unless API_KEYS or BASIC_AUTH_USERS is set. API keys come as
// "Authorization: Bearer <key>" or "X-API-Key: <key>"; users as HTTP Basic (plugins/identity.ts checks them). Liveness,
// readiness, metrics, the docs and the live view's page stay open; a CORS preflight never reaches here
// (plugins/cors.ts answers it first). The headers that carry secrets are redacted from logs (server-options.ts).
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { UnauthorizedError } from '../lib/errors'
import { CHALLENGE } from '../kafka/identities'

// The live view's page holds no data (every call it makes needs credentials), like the docs.
export const OPEN_PATHS = [/^\/healthz$/, /^\/readyz$/, /^\/metrics$/, /^\/docs(\/|$)/, /^\/ui$/]

async function auth (fastify: FastifyInstance): Promise<void> {
  const { apiKeys, basicUsers, kafkaIdentity } = fastify.config
  if (kafkaIdentity === 'caller') {
    // Every caller needs credentials: Kafka checks them (plugins/kafka-api.ts), and they are who it acts as.
    fastify.addHook('onRequest', async (request) => {
      const path = request.routeOptions.url ?? ''
      if (request.method === 'OPTIONS' || OPEN_PATHS.some((re) => re.test(path))) return
      if (request.caller.kafka === undefined) throw new UnauthorizedError(CHALLENGE, 'Authentication required: send your Kafka credentials, as HTTP Basic (user and password) or a Bearer token (OAUTHBEARER).')
    })
    return
  }
  if (apiKeys.length === 0 && basicUsers.length === 0) {
    fastify.log.warn('HTTP authentication is off (set API_KEYS or BASIC_AUTH_USERS to turn it on)')
    return
  }
  const challenge = [apiKeys.length > 0 ? 'Bearer realm="kosha"' : '', basicUsers.length > 0 ? 'Basic realm="kosha", charset="UTF-8"' : '']
    .filter(Boolean).join(', ')

  fastify.addHook('onRequest', async (request) => {
    // The route the router matched, not the raw URL: /healthz/ is served as /healthz (ignoreTrailingSlash), so it
    // is open too; a request that matches no route has no pattern and needs credentials.
    const path = request.routeOptions.url ?? ''
    if (request.method === 'OPTIONS' || OPEN_PATHS.some((re) => re.test(path))) return
    if (!request.caller.authenticated) throw new UnauthorizedError(challenge)
  })
}

export default fp(auth, { name: 'auth', dependencies: ['config', 'identity'] })
