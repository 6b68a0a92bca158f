// The HTTP layer every request crosses before a route: body parsing and validation, configuration, tracing, metrics,
// CORS, load shedding, rate limits, the URL's length, authentication, the response headers, and the Kosha error shape
// for whatever no API family answers (unknown routes, /docs, /metrics). The benchmark's HTTP-only arm runs exactly
// this, without Kafka.
import Ajv from 'ajv'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fastJsonStringify, { type Schema } from 'fast-json-stringify'
import { schemas } from '../generated/routes'
import type { Config } from '../lib/config'
import configPlugin from '../plugins/config'
import tracing from '../plugins/tracing'
import metrics from '../plugins/metrics'
import cors from '../plugins/cors'
import auth from '../plugins/auth'
import identity from '../plugins/identity'
import loadShedding from '../plugins/load-shedding'
import rateLimit from '../plugins/rate-limit'
import { UrlTooLongError } from '../lib/errors'
import { errorHandler, notFoundHandler } from './errors'
import { checkJsonBody } from './json-body'
import { rememberRaw } from './raw-json'
import { answerUnreadBodies } from './unread-body'

// Path and query parameters arrive as text, so their validator turns "500" into 500; a JSON body keeps its types,
// so that {"topic": 42} or {"numParts": true} is refused rather than quietly coerced into a topic named "42".
const ajvOptions = { removeAdditional: false, useDefaults: true, allErrors: false, allowUnionTypes: true, verbose: true } as const
const bodyAjv = new Ajv({ ...ajvOptions, coerceTypes: false })
const parameterAjv = new Ajv({ ...ajvOptions, coerceTypes: 'array' })
// The components of openapi.json, once each: the route schemas refer to them as { $ref: 'Name#' }.
for (const ajv of [bodyAjv, parameterAjv]) ajv.addSchema([...schemas])
// The response serializers (fast-json-stringify), like the validators, once per process and route schema: building
// them is most of an instance's start (about 4 CPU-seconds for this API's schemas), and tests build hundreds.
const components: Record<string, Schema> = Object.fromEntries(schemas.map((s) => [s.$id, s as Schema]))
const serializers = new WeakMap<object, (data: unknown) => string>()
function serializerFor (schema: object): (data: unknown) => string {
  let serialize = serializers.get(schema)
  if (serialize === undefined) {
    serialize = fastJsonStringify(schema as Schema, { schema: components })
    serializers.set(schema, serialize)
  }
  return serialize
}

export async function httpLayer (fastify: FastifyInstance, config: Config): Promise<void> {
  fastify.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : parameterAjv).compile(schema))
  // The response serializers resolve the same $refs (the components, also Fastify's shared schemas for @fastify/swagger).
  fastify.setSerializerCompiler(({ schema }) => serializerFor(schema as object))
  for (const s of schemas) fastify.addSchema(s)
  // Every body of this API is JSON: anything else is a 415 that says so, not a string that fails validation.
  fastify.removeContentTypeParser('text/plain')
  // Confluent's media types (application/vnd.kafka[.format].v2+json) are JSON; routes read the format from them.
  // An empty body is no body: Confluent's clients send one with this type where the body is optional (commit).
  // Every JSON body keeps the bytes it came from, so that produce sends a JSON value as the client wrote it; a body
  // that is not UTF-8, or nested absurdly deep, is refused before it is parsed (http/json-body.ts).
  const json = fastify.getDefaultJsonParser('error', 'ignore')
  const parse = (request: FastifyRequest, bytes: Buffer, done: (err: Error | null, body?: unknown) => void): void => {
    const refused = checkJsonBody(bytes)
    if (refused !== undefined) { done(refused); return }
    json(request, bytes.toString('utf8'), (err, parsed) => {
      if (err === null) rememberRaw(parsed, bytes)
      done(err, parsed)
    })
  }
  fastify.removeContentTypeParser('application/json')
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => { parse(request, body as Buffer, done) })
  fastify.addContentTypeParser(/^application\/vnd\.kafka(\.[a-z0-9]+)?\.v[23]\+json$/, { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer
    if (bytes.length === 0) done(null, null)
    else parse(request, bytes, done)
  })
  fastify.setErrorHandler(errorHandler('kosha'))
  fastify.setNotFoundHandler(notFoundHandler('kosha'))
  await fastify.register(configPlugin, { config })
  // Before every other hook, so that a request they refuse (authentication, CORS) has its span too.
  await fastify.register(tracing)
  await fastify.register(metrics)
  await fastify.register(cors)
  // In this order, the cheapest refusal first: an overloaded process does the least work per request; a caller over
  // its limit is refused before anything else is checked (whether its credentials are right, too).
  await fastify.register(loadShedding)
  await fastify.register(identity)
  await fastify.register(rateLimit)
  // Node's parser bounds the request line and headers together (MAX_HEADER_SIZE); the URL has a tighter bound of its
  // own, as a URL that long is a client's mistake (or a probe), answered 414 in the family's envelope.
  const maxUrlLength = config.maxUrlLength
  fastify.addHook('onRequest', async (request) => {
    if (request.url.length > maxUrlLength) throw new UrlTooLongError(maxUrlLength)
  })
  await fastify.register(auth)

  // On close, Node's server waits for every open connection; a keep-alive client would hold it open. Idle ones are
  // closed by forceCloseConnections; the answers still in flight tell their client to close the connection.
  let closing = false
  fastify.addHook('preClose', async () => { closing = true })
  answerUnreadBodies(fastify, () => closing)
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('X-Request-Id', request.id)
    if (closing) reply.header('Connection', 'close')
  })
}
