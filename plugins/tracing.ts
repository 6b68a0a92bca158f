// Tracing (lib/tracing.ts) on the HTTP side, as `request.traceContext`. On (an OTLP endpoint is configured): the SDK
// is started, every request gets a server span, a child of its `traceparent` header when that is valid, and its
// handler and preHandlers run in that span's context, so that each Kafka call's span is a child of it; on close the
// spans still waiting are exported. Off: no SDK, no hook; `request.traceContext` is the context the request's
// traceparent names, read only when a produce asks for it (its records carry that traceparent on).
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, defaultTextMapGetter, trace, type Context, type Span } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { startTracing } from '../lib/tracing'
import { markFailed, tracer } from '../kafka/tracing'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The trace context of this request: its server span's when tracing is on; off, the context its traceparent
     * header names (none: the empty context).
     */
    readonly traceContext: Context
    /** @internal The server span and its context (tracing on). */
    serverSpan: { span: Span, context: Context } | null
  }
}

const propagator = new W3CTraceContextPropagator()

/** The context a request's traceparent (and tracestate) header names; the empty context when it names none validly. */
function headerContext (request: FastifyRequest): Context {
  return request.headers.traceparent === undefined ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter)
}

function pathOf (url: string): string {
  const q = url.indexOf('?')
  return q < 0 ? url : url.slice(0, q)
}

function startServerSpan (request: FastifyRequest, reply: FastifyReply): void {
  const route = request.routeOptions.url
  const parent = headerContext(request)
  const span = tracer().startSpan(route !== undefined ? `${request.method} ${route}` : request.method, { kind: SpanKind.SERVER }, parent)
  if (span.isRecording()) {
    span.setAttributes({
      'http.request.method': request.method,
      'url.path': pathOf(request.url),
      'url.scheme': request.protocol,
      ...(route !== undefined ? { 'http.route': route } : {})
    })
  }
  request.serverSpan = { span, context: trace.setSpan(parent, span) }
  // 'close' comes for every response: sent, cut short by the client, hijacked by a stream, upgraded to a WebSocket.
  reply.raw.once('close', () => {
    const status = reply.raw.statusCode
    if (span.isRecording()) {
      span.setAttribute('http.response.status_code', status)
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
    }
    span.end()
  })
}

/** Runs a route's function in the request's span context (the request is its `at`-th argument). */
function inSpan<F extends (...args: never[]) => unknown> (fn: F, at: number): F {
  return function (this: unknown, ...args: Parameters<F>) {
    const request = args[at] as FastifyRequest | undefined
    const ctx = request?.serverSpan?.context
    return ctx === undefined ? fn.apply(this, args) : context.with(ctx, () => fn.apply(this, args))
  } as F
}

function wrapRoute (route: RouteOptions & { wsHandler?: (...args: never[]) => unknown }): void {
  route.handler = inSpan(route.handler, 0)
  if (route.wsHandler !== undefined) route.wsHandler = inSpan(route.wsHandler, 1)
  const pre = route.preHandler
  if (typeof pre === 'function') route.preHandler = inSpan(pre, 0)
  else if (Array.isArray(pre)) route.preHandler = pre.map((h) => inSpan(h, 0))
}

async function tracing (fastify: FastifyInstance): Promise<void> {
  fastify.decorateRequest('serverSpan', null)
  fastify.decorateRequest('traceContext', {
    getter (this: FastifyRequest) { return this.serverSpan?.context ?? headerContext(this) }
  })
  const config = fastify.config.tracing
  if (config === undefined) return

  const started = startTracing(config)
  fastify.log.info({ url: config.url, protocol: config.protocol, serviceName: config.serviceName, sampler: config.sampler }, 'tracing: spans are exported by OTLP')
  fastify.addHook('onRoute', wrapRoute)
  fastify.addHook('onRequest', (request, reply, done) => {
    startServerSpan(request, reply)
    done()
  })
  // A failure the service did not expect (a 5xx) is recorded on the request's span.
  fastify.addHook('onError', (request, reply, error, done) => {
    const span = request.serverSpan?.span
    if (span !== undefined && reply.statusCode >= 500) markFailed(span, error)
    done()
  })
  // Registered before every Kafka plugin, so this runs after their onClose: the spans of closing consumers and of the
  // producer's flush are exported too.
  fastify.addHook('onClose', async () => { await started.shutdown() })
}

export default fp(tracing, { name: 'tracing', dependencies: ['config'] })
