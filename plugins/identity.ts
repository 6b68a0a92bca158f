// Who is calling: the identity its credentials prove (an API key of API_KEYS, a user of BASIC_AUTH_USERS), else
// its address (the connection's peer; behind an ingress, from X-Forwarded-For when TRUST_PROXY trusts it).
// Authentication (plugins/auth.ts) refuses a request whose caller is not authenticated; rate limits
// (plugins/rate-limit.ts) count per caller. Resolved once per request, only when asked for; secrets are compared in
// constant time and never kept: an API key is named by a prefix of its SHA-256.
import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { basicIdentity, bearerIdentity, type CallerIdentity } from '../kafka/identity'

export interface Caller {
  /** `key:<hash prefix>`, `user:<name>`, or `ip:<address>` when no credentials were proven. */
  readonly id: string
  readonly authenticated: boolean
  /**
   * KAFKA_IDENTITY=caller: the Kafka login the credentials name (Kafka checks them, on the request's first Kafka
   * call: plugins/kafka-api.ts); undefined without credentials.
   */
  readonly kafka?: CallerIdentity
}

declare module 'fastify' {
  interface FastifyRequest { readonly caller: Caller }
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/** The index of the candidate `given` is, comparing every candidate (equal-length digests, no early exit); -1: none. */
function indexIn (given: string, candidates: Buffer[]): number {
  const g = digest(given)
  let found = -1
  candidates.forEach((c, i) => { if (timingSafeEqual(g, c)) found = i })
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

async function identity (fastify: FastifyInstance): Promise<void> {
  const { apiKeys, basicUsers } = fastify.config
  const keys = apiKeys.map(digest)
  const keyIds = keys.map((k) => `key:${k.subarray(0, 8).toString('hex')}`)
  const users = basicUsers.map((u) => digest(`${u.username}:${u.password}`))

  const sasl = fastify.config.sasl
  const mechanism = sasl !== undefined && sasl.mechanism !== 'OAUTHBEARER' ? sasl.mechanism : 'SCRAM-SHA-512'
  const identify = (request: FastifyRequest): Caller => {
    const given = credentials(request)
    if (fastify.config.kafkaIdentity === 'caller') {
      // Kafka proves these: the caller is who its credentials name, to Kafka as to the rate limits.
      if (given.basic !== undefined) {
        const i = given.basic.indexOf(':')
        if (i > 0) {
          const kafka = basicIdentity(mechanism, given.basic.slice(0, i), given.basic.slice(i + 1))
          return { id: `user:${given.basic.slice(0, i)}`, authenticated: true, kafka }
        }
      }
      if (given.apiKey !== undefined) {
        const kafka = bearerIdentity(given.apiKey)
        return { id: kafka.principal.replace(/^User:/, 'user:'), authenticated: true, kafka }
      }
      return { id: `ip:${request.ip}`, authenticated: false }
    }
    if (given.apiKey !== undefined && keys.length > 0) {
      const i = indexIn(given.apiKey, keys)
      if (i >= 0) return { id: keyIds[i] ?? '', authenticated: true }
    }
    if (given.basic !== undefined && users.length > 0) {
      const i = indexIn(given.basic, users)
      if (i >= 0) return { id: `user:${basicUsers[i]?.username ?? ''}`, authenticated: true }
    }
    return { id: `ip:${request.ip}`, authenticated: false }
  }

  const resolved = new WeakMap<FastifyRequest, Caller>()
  fastify.decorateRequest('caller', {
    getter (this: FastifyRequest): Caller {
      let found = resolved.get(this)
      if (found === undefined) { found = identify(this); resolved.set(this, found) }
      return found
    }
  })
}

export default fp(identity, { name: 'identity', dependencies: ['config'] })
