// A caller's own Kafka identity (KAFKA_IDENTITY=caller): the SASL login its HTTP credentials name, and who it is to
// Kafka (its principal), which the consumers it creates belong to. No Fastify here: the HTTP side turns headers into
// a CallerIdentity (plugins/identity.ts) and asks kafka/identities.ts for that caller's clients.
import { createHash } from 'node:crypto'
import type { SaslMechanism, SaslSettings } from '../lib/config'

export interface CallerIdentity {
  /** The SASL login the caller's Kafka clients use. */
  readonly sasl: SaslSettings
  /** Who the caller is to Kafka, as its ACLs name it: User:<name> (Basic) or User:<the token's sub claim> (Bearer). */
  readonly principal: string
  /** Identifies these exact credentials (a digest: no secret is kept in it), the key of the caller's clients. */
  readonly key: string
  /** When a bearer token stops being valid (its exp claim), ms since the epoch; undefined: no known end. */
  readonly expiresAt?: number
}

const digest = (...parts: string[]): string => createHash('sha256').update(parts.join('\u0000')).digest('hex')

/** The claims of a JWT, unverified (Kafka verifies the token; this only reads its subject and expiry). */
export function tokenClaims (token: string): { sub?: string, exp?: number } {
  const payload = token.split('.')[1]
  if (payload === undefined) return {}
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown
    if (typeof claims !== 'object' || claims === null) return {}
    const { sub, exp } = claims as Record<string, unknown>
    return { ...(typeof sub === 'string' ? { sub } : {}), ...(typeof exp === 'number' && Number.isFinite(exp) ? { exp } : {}) }
  } catch {
    return {}
  }
}

/** HTTP Basic credentials as a SASL login with the configured mechanism. */
export function basicIdentity (mechanism: SaslMechanism, username: string, password: string): CallerIdentity {
  return { sasl: { mechanism, username, password }, principal: `User:${username}`, key: digest('basic', mechanism, username, password) }
}

/** A bearer token as an OAUTHBEARER login; its principal is its sub claim (Kafka's default principal claim). */
export function bearerIdentity (token: string): CallerIdentity {
  const { sub, exp } = tokenClaims(token)
  return {
    sasl: { mechanism: 'OAUTHBEARER', token },
    principal: `User:${sub ?? `token-${digest('bearer', token).slice(0, 16)}`}`,
    key: digest('bearer', token),
    ...(exp !== undefined ? { expiresAt: exp * 1000 } : {})
  }
}
