// Requests for what another replica holds (a consumer; later, a stream) are forwarded to that replica, and its answer
// streamed back with its status and headers. A forwarded request carries X-Kosha-Forwarded-By, so it is never
// forwarded again: the replica it reaches serves it, taking the consumer over when it does not hold it.
//
// The consumer routes say which API names their consumer (route config `consumer`); `routeToHolder`, their
// preHandler, sends each request where its consumer is held (kafka/replicas/replicas.ts decides where).
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Agent, request as send } from 'undici'
import type { IncomingHttpHeaders } from 'node:http'
import { ReplicaUnavailableError } from '../lib/errors'
import type { Replicas } from '../kafka/replicas/replicas'
import type { ConsumerId } from '../kafka/consumers/session'
import { trace, type Context } from '@opentelemetry/api'
import { traceparentOf } from '../kafka/tracing'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route is about one consumer, named by its path the v1 way ({name}) or the v2 way ({group_name}, {instance}). */
    consumer?: 'v1' | 'v2'
  }
}

export const FORWARDED_BY = 'x-kosha-forwarded-by'
/** A replica that does not accept a connection within this long counts as gone: the consumer is taken over. */
const CONNECT_TIMEOUT_MS = 2000
/** Above the longest poll a request may ask for (30 s), so a long poll is never cut short on the way. */
const ANSWER_TIMEOUT_MS = 65_000
// Headers of one connection, not of the request: never passed on.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'content-length'])
// Errors that mean nothing reached the replica (it is gone, or not there): taking over cannot run anything twice.
const NOT_REACHED = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL'])

const errorCode = (err: unknown): string => {
  const e = err as { code?: unknown, cause?: { code?: unknown } }
  return typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : ''
}

function passedOn (headers: IncomingHttpHeaders, replicaId: string, requestId: string, traceContext: Context): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value
  out[FORWARDED_BY] = replicaId
  // The same request id in both replicas' logs.
  out['x-request-id'] = requestId
  // The holder's span is a child of this replica's (tracing on; off, the client's traceparent passes on as it came).
  const sc = trace.getSpanContext(traceContext)
  const traceparent = sc !== undefined ? traceparentOf(sc) : undefined
  if (traceparent !== undefined) out.traceparent = traceparent
  return out
}

export class Forwarder {
  private readonly agent = new Agent({ connect: { timeout: CONNECT_TIMEOUT_MS }, headersTimeout: ANSWER_TIMEOUT_MS, bodyTimeout: ANSWER_TIMEOUT_MS })

  constructor (private readonly replicas: Replicas) {}

  /**
   * Sends the request to the replica at `base` and streams its answer back: true once the answer is on its way;
   * false when the replica could not be connected to (nothing reached it). A replica that took the request and then
   * failed (it died mid-answer, or did not answer in time) is a retriable ReplicaUnavailableError.
   */
  async forward (request: FastifyRequest, reply: FastifyReply, base: string): Promise<boolean> {
    const abort = new AbortController()
    // The client went away: so does the forwarded request, and the holder gives back what it had taken for it.
    const gone = (): void => { if (!reply.raw.writableFinished) abort.abort() }
    reply.raw.once('close', gone)
    const body = request.body === undefined || request.body === null ? undefined : JSON.stringify(request.body)
    try {
      const answer = await send(`${base}${request.url}`, {
        dispatcher: this.agent,
        method: request.method as 'GET',
        headers: passedOn(request.headers, this.replicas.replicaId, request.id, request.traceContext),
        ...(body !== undefined ? { body } : {}),
        signal: abort.signal
      })
      reply.code(answer.statusCode)
      for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) reply.header(name, value)
      // Streamed: a holder dying mid-answer ends this answer early too (the client sees a cut-short response).
      reply.send(answer.body)
      return true
    } catch (err) {
      reply.raw.off('close', gone)
      if (NOT_REACHED.has(errorCode(err))) return false
      if (abort.signal.aborted) throw new ReplicaUnavailableError('The client went away while the replica holding its consumer answered.', err)
      throw new ReplicaUnavailableError(`The replica at ${base} holding this consumer did not answer in full (${errorCode(err) || 'error'}): retry.`, err)
    }
  }

  /**
   * Forwards the request to the replica of that id (e.g. the one holding a stream): true once answered there; false
   * when the replica is this one, unknown, or cannot be connected to (the caller decides: 404, 503, take over).
   */
  async toReplica (request: FastifyRequest, reply: FastifyReply, replicaId: string): Promise<boolean> {
    if (replicaId === this.replicas.replicaId || request.headers[FORWARDED_BY] !== undefined) return false
    const url = await this.replicas.urlOf(replicaId)
    return url === undefined ? false : await this.forward(request, reply, url)
  }

  async close (): Promise<void> { await this.agent.close() }
}

/** The consumer a route's path names, by the route's API. */
function consumerIdOf (kind: 'v1' | 'v2', params: unknown): ConsumerId | undefined {
  const p = (typeof params === 'object' && params !== null ? params : {}) as Record<string, unknown>
  if (kind === 'v1') return typeof p.name === 'string' ? { name: p.name } : undefined
  return typeof p.instance === 'string' && typeof p.group_name === 'string' ? { name: p.instance, group: p.group_name } : undefined
}

/**
 * preHandler of the consumer routes: served here when this replica holds the consumer (or takes it over); else the
 * holder answers. A holder that cannot be reached is replaced: this replica takes the consumer over and serves it.
 */
export async function routeToHolder (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const kind = request.routeOptions.config.consumer
  const named = kind === undefined ? undefined : consumerIdOf(kind, request.params)
  if (named === undefined) return undefined
  // KAFKA_IDENTITY=caller: the caller's own consumer, taken over (if need be) on the caller's login.
  const caller = request.kafkaCaller
  const id: ConsumerId = caller ? { ...named, owner: caller.principal } : named
  const { replicas, forwarder } = request.server
  const forwarded = request.headers[FORWARDED_BY] !== undefined
  const place = await replicas.locate(id, forwarded, caller?.sasl)
  if (place.at !== 'replica') return undefined
  if (await forwarder.forward(request, reply, place.url)) return reply
  request.log.warn({ holder: place.replicaId, url: place.url }, 'the replica holding the consumer cannot be reached: taking it over')
  const after = await replicas.takeOver(id, true, caller?.sasl)
  if (after.at === 'replica') throw new ReplicaUnavailableError('Another replica is taking this consumer over: retry.')
  return undefined
}
