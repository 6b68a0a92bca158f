// Spans of the Kafka layer, on the OpenTelemetry API alone (lib/tracing.ts starts the SDK when tracing is on; off,
// the API's no-op tracer answers every call, and nothing here is computed for a span that does not record). A Kafka
// call's span is a child of the active span: the request's, when a route made the call.
import {
  SpanKind, SpanStatusCode, isSpanContextValid, trace,
  type Attributes, type Link, type Span, type SpanContext, type Tracer
} from '@opentelemetry/api'
import { parseTraceParent } from '@opentelemetry/core'
import type { Message } from '@confluentinc/kafka-javascript'

const TRACER = 'kosha-kafka-connector'
/** The record header a producer's trace context travels in (W3C Trace Context, as Kafka instrumentations name it). */
export const TRACEPARENT = 'traceparent'
/** A span links to the producers of at most this many of the records it consumed. */
export const MAX_LINKS = 32
export const KAFKA = { 'messaging.system': 'kafka' } as const

/**
 * The tracer of the provider registered now. Not kept: a ProxyTracer keeps the first provider it reached, and a
 * process (the tests) may start and stop tracing more than once.
 */
export function tracer (): Tracer {
  return trace.getTracer(TRACER)
}

/** A span context as a W3C traceparent header value; undefined when it is not valid (no trace). */
export function traceparentOf (sc: SpanContext): string | undefined {
  if (!isSpanContextValid(sc)) return undefined
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`
}

/** Marks a span failed with the error (what a trace viewer shows in red). */
export function markFailed (span: Span, err: unknown): void {
  if (!span.isRecording()) return
  const error = err instanceof Error ? err : new Error(String(err))
  span.recordException(error)
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message })
}

/**
 * Runs `work` in a client span of its own, a child of the active span, ended when the work settles; a failure
 * marks it. `attributes` is called only when the span records.
 */
export async function traced<T> (name: string, attributes: () => Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  return await tracer().startActiveSpan(name, { kind: SpanKind.CLIENT }, async (span) => {
    if (span.isRecording()) span.setAttributes({ ...KAFKA, ...attributes() })
    try {
      return await work(span)
    } catch (err) {
      markFailed(span, err)
      throw err
    } finally {
      span.end()
    }
  })
}

/**
 * Span links to the trace contexts that consumed records carry in their traceparent header: of the first MAX_LINKS
 * records that carry a valid one, so that a trace viewer connects each producer with this consumer.
 */
export function linksOf (messages: readonly Message[]): Link[] {
  const links: Link[] = []
  for (const m of messages) {
    if (links.length >= MAX_LINKS) break
    for (const h of m.headers ?? []) {
      const value = h[TRACEPARENT]
      if (value === undefined) continue
      const context = parseTraceParent(typeof value === 'string' ? value : value.toString('latin1'))
      if (context !== null) {
        links.push({ context, attributes: { 'messaging.destination.name': m.topic, 'messaging.destination.partition.id': String(m.partition), 'messaging.kafka.offset': m.offset } })
      }
      break
    }
  }
  return links
}

/** The attributes of a span that consumed records: how many, and their topic when they all came from one. */
export function consumedAttributes (messages: readonly Message[]): Attributes {
  const topic = messages[0]?.topic
  const one = topic !== undefined && messages.every((m) => m.topic === topic)
  return { 'messaging.batch.message_count': messages.length, ...(one ? { 'messaging.destination.name': topic } : {}) }
}

/** Adds the links and attributes of consumed records to a span that records (nothing is computed for one that does not). */
export function consumed (span: Span, messages: readonly Message[]): void {
  if (!span.isRecording()) return
  const attributes = consumedAttributes(messages)
  span.setAttributes(attributes)
  // A span's name names its destination when there is one (the semantic conventions' `receive orders`).
  if (attributes['messaging.destination.name'] !== undefined) span.updateName(`receive ${String(attributes['messaging.destination.name'])}`)
  if (messages.length > 0) span.addLinks(linksOf(messages))
}
