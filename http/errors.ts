// Where an error becomes HTTP. Whatever threw it (a route, a hook, Fastify's parsers and validators, the Kafka
// layer), an error is first made a catalogue error (lib/errors.ts) by `classify`, logged once, and answered in the
// one JSON shape of its API family, by that family's error handler, registered in the family's own context
// (routes/v1, routes/v2, routes/v3; the Kosha shape also answers anything outside them):
//   Kosha v1 and operations  { status, code, message, requestId }
//   Confluent v2             { error_code, message }: the v2 sub-code (40401, 42206, 50003...); a malformed body 422
//   Confluent v3             { error_code, message }: the code Confluent's v3 spec gives the failure (40002, 40403,
//                            40101, 40301, 50003, or the plain status); a 4xx is answered with the status the code
//                            names (its first three digits), so 40002 is a 400 (see v3Error)
import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify'
import {
  BadRequestError, BodyTooLargeError, HeadersTooLargeError, InternalError, InvalidJsonError, KoshaError, MALFORMED,
  RequestTimeoutError, RouteNotFoundError, UnsupportedMediaTypeError, UrlTooLongError, ValidationError, statusOfCode
} from '../lib/errors'

export type ApiFamily = 'kosha' | 'v2' | 'v3'
export interface ConfluentEnvelope { error_code: number, message: string }

/**
 * The paths of Confluent's APIs: a request under one is answered in that API's envelope even where no route of the
 * family took it (a path no route serves, a request refused before routing); anything else in the Kosha shape.
 */
export const CONFLUENT_PATHS: ReadonlyArray<readonly [string, ApiFamily]> = [
  ['/v3', 'v3'], ['/kafka/v3', 'v3'], ['/topics', 'v2'], ['/brokers', 'v2'], ['/consumers', 'v2']
]

/** The API family whose envelope answers a request for `path`, by its path alone. */
export function familyOfPath (path: string): ApiFamily {
  const found = CONFLUENT_PATHS.find(([prefix]) => path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`))
  return found?.[1] ?? 'kosha'
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What this route answers a body that is not JSON, when it can say more than "not valid JSON". */
    malformedBody?: string
  }
}

/** "body/numParts must be <= 10000" rather than Ajv's terse default. */
export function validationMessage (issues: FastifySchemaValidationError[], where: string): string {
  const first = issues[0]
  if (!first) return `The ${where} is invalid.`
  const field = first.keyword === 'required' ? `${first.instancePath}/${String(first.params.missingProperty)}` : first.instancePath
  const path = `${where}${field}`.replace(/\/$/, '')
  if (first.keyword === 'required') return `${path} is required.`
  // A pattern means nothing to a person; the field's description in openapi.json says what is allowed.
  const description = (first as { parentSchema?: { description?: unknown } }).parentSchema?.description
  if (first.keyword === 'pattern' && typeof description === 'string') return `${path} is not valid: ${description}`
  if (first.keyword === 'enum') return `${path} must be one of: ${(first.params.allowedValues as unknown[]).join(', ')}.`
  return `${path} ${first.message ?? 'is invalid'}.`
}

/** What to send instead of an unsupported Content-Type, in the media types of each API family. */
const ACCEPTED_TYPES: Record<ApiFamily, string> = {
  kosha: 'application/json',
  // A Confluent client is told Confluent's types (plain application/json is taken too, as the json format).
  v2: 'application/vnd.kafka.json.v2+json or application/vnd.kafka.binary.v2+json (records), application/vnd.kafka.v2+json (anything else)',
  v3: 'application/json'
}

/** Fastify's and the clients' errors as catalogue errors: anything not known is an internal error. */
export function classify (err: unknown, request: FastifyRequest, family: ApiFamily = 'kosha'): KoshaError {
  if (err instanceof KoshaError) return err
  const e = err as Partial<FastifyError> & { statusCode?: number }
  if (e.validation) return new ValidationError(validationMessage(e.validation, e.validationContext ?? 'request'))
  const notJson = request.routeOptions.config?.malformedBody
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return new BodyTooLargeError(request.server.initialConfig.bodyLimit ?? 1_048_576)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return new UnsupportedMediaTypeError(String(request.headers['content-type'] ?? ''), ACCEPTED_TYPES[family])
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return new InvalidJsonError(notJson ?? 'The body is empty: send a JSON document.')
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return new InvalidJsonError(notJson ?? 'The body is not valid JSON.')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return new ValidationError('Content-Length does not match the body.')
  }
  const status = e.statusCode
  if (err instanceof SyntaxError && status === 400) return new InvalidJsonError(notJson ?? `The body is not valid JSON: ${err.message}.`)
  if (typeof status === 'number' && status >= 400 && status < 500) return new BadRequestError(e.message ?? 'Bad request.')
  return new InternalError(err)
}

/** What the client is told: an internal error's details stay in the log, under the request id the answer names. */
function publicMessage (error: KoshaError, requestId: string): string {
  return error instanceof InternalError ? `Internal error: the service log has the details under request id ${requestId}.` : error.message
}

/** Confluent v2's status and envelope: the error's status, but 422 for a malformed payload, as Confluent answers it. */
export function v2Error (error: KoshaError, requestId: string): { status: number, body: ConfluentEnvelope } {
  const status = MALFORMED.has(error.code) ? 422 : error.status
  return { status, body: { error_code: error.v2Code, message: publicMessage(error, requestId) } }
}

/**
 * Confluent v3's status and envelope: error_code is the error's v3 code (lib/errors.ts). The rule that keeps the two
 * consistent: a 4xx code names its status (its first three digits: 40002 is a 400, 40403 a 404, 415 a 415), and the
 * status answered is that one; a 5xx keeps the error's own status (500, 503, 504) with its 500xx code. A client error
 * whose status the operation does not declare in openapi.json (which lists Confluent's statuses) is Confluent's
 * catch-all 400, and its code then the plain 400, with the same message (e.g. an offset out of range, 416); 400 itself,
 * 401, 404 and 429 are always kept (a missing resource is 404, as Confluent's server answers it even where its spec
 * omits it), and so are 408, 414 and 431, which are about the request's form, not the operation (Confluent's Jetty
 * answers them before its application). `declared` empty: nothing is narrowed (a produce report).
 */
export function v3Error (error: KoshaError, requestId: string, declared: readonly string[] = []): { status: number, body: ConfluentEnvelope } {
  const message = publicMessage(error, requestId)
  if (error.status >= 500) return { status: error.status, body: { error_code: error.v3Code, message } }
  const status = statusOfCode(error.v3Code)
  const keep = [400, 401, 404, 408, 414, 429, 431].includes(status) || declared.length === 0 || declared.includes(String(status))
  return keep ? { status, body: { error_code: error.v3Code, message } } : { status: 400, body: { error_code: 400, message } }
}

/** One line per error: a 5xx at error level with its cause (an unclassified one is its own cause), a 4xx at info. */
function logged (request: FastifyRequest, err: unknown, error: KoshaError): void {
  if (error.status >= 500) request.log.error({ err: error.cause ?? err, code: error.code }, error instanceof InternalError ? 'unclassified error' : error.message)
  else request.log.info({ code: error.code }, error.message)
}

/** The status, media type and body that answer `error` in the envelope of `family` (v3: see v3Error for `declared`). */
export function envelope (family: ApiFamily, error: KoshaError, requestId: string, declared: readonly string[] = []): { status: number, type: string, body: object } {
  if (family === 'kosha') {
    return { status: error.status, type: 'application/json; charset=utf-8', body: { status: error.status, code: error.code, message: publicMessage(error, requestId), requestId } }
  }
  if (family === 'v2') return { ...v2Error(error, requestId), type: 'application/vnd.kafka.v2+json' }
  return { ...v3Error(error, requestId, declared), type: 'application/json' }
}

/** Answers `error` in the envelope of `family`. */
export function sendError (family: ApiFamily, reply: FastifyReply, error: KoshaError): FastifyReply {
  reply.headers(error.headers)
  const declared = family === 'v3' ? Object.keys((reply.request.routeOptions.schema?.response ?? {}) as Record<string, unknown>) : []
  const { status, type, body } = envelope(family, error, reply.request.id, declared)
  return reply.code(status).type(type).send(body)
}

/**
 * Fastify's frameworkErrors: what its router refuses before a route or a hook runs (a path segment longer than
 * routerOptions.maxParamLength: 414; a path whose percent-encoding is broken: 400), answered in the envelope of the
 * API its path names, rather than as Fastify's own JSON. No hook runs for these, so the request id is set here.
 */
export function frameworkErrorHandler (maxParamLength: number): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (err, request, reply) => {
    const error = err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new UrlTooLongError(maxParamLength, 'segment')
      : err.code === 'FST_ERR_BAD_URL' ? new BadRequestError('The URL\'s path is not valid: check its percent-encoding.') : classify(err, request)
    logged(request, err, error)
    reply.header('X-Request-Id', request.id)
    sendError(familyOfPath(request.url), reply, error)
  }
}

/** How long a refused connection is still read (and what it sends thrown away) before it is closed: see below. */
const LINGER_MS = 2000

/**
 * Fastify's clientErrorHandler: what Node's HTTP parser refuses before there is a request (headers over
 * MAX_HEADER_SIZE: 431; headers or body that did not arrive within Node's timeouts: 408; anything that is not HTTP:
 * 400) is answered in the catalogue's terms, in the envelope of the API the request line names when it came in the
 * same packet as the failure (it usually does: a client writes its request line and headers together), else in the
 * Kosha shape, with a fresh request id (also logged). The connection is then closed the lingering way: the answer is
 * sent and the write side ended, and what the client still sends is read and dropped for a moment before the socket
 * is destroyed, so that a client still writing a large header gets the answer rather than a connection reset (a
 * socket closed with unread data sends a TCP RST, which makes most clients drop the answer unread).
 */
export function clientErrorHandler (maxHeaderSize: number): (this: FastifyInstance, err: ConnectionError, socket: Socket) => void {
  return function (err, socket) { answerClientError(this, maxHeaderSize, err, socket) }
}

function answerClientError (fastify: FastifyInstance, maxHeaderSize: number, err: ConnectionError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  // The parser stays in its failed state and reports each further packet: the first one is answered.
  if (answered.has(socket)) return
  answered.add(socket)
  const error = err.code === 'HPE_HEADER_OVERFLOW'
    ? new HeadersTooLargeError(maxHeaderSize)
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new RequestTimeoutError()
      : new BadRequestError('The request is not valid HTTP.')
  const requestId = randomUUID()
  const family = familyOfPath(requestPath(err.rawPacket))
  fastify.log.info({ reqId: requestId, code: error.code, parserError: err.code, remoteAddress: socket.remoteAddress }, error.message)
  if (socket.writable) {
    const { status, type, body } = envelope(family, error, requestId)
    const json = JSON.stringify(body)
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(json)}\r\n` +
      `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${json}`)
    socket.resume()
  }
  setTimeout(() => { socket.destroy() }, LINGER_MS).unref()
}
const answered = new WeakSet<Socket>()

/** The start of the path of the request line a packet starts with ('' when it does not start with one). */
function requestPath (packet: unknown): string {
  if (!Buffer.isBuffer(packet)) return ''
  return /^[A-Z]{3,7} (\/[^ \r\n]{0,32})/.exec(packet.subarray(0, 48).toString('latin1'))?.[1] ?? ''
}

/** The error handler of an API family: classify, log once, answer in the family's envelope. */
export function errorHandler (family: ApiFamily): (err: unknown, request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  return (err, request, reply) => {
    const error = classify(err, request, family)
    logged(request, err, error)
    return sendError(family, reply, error)
  }
}

/** The not-found handler of an API family: a request no route matches is a 404 in that family's envelope. */
export function notFoundHandler (family: ApiFamily): (request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  return (request, reply) => {
    const error = new RouteNotFoundError(request.method, request.url.split('?')[0] ?? '')
    logged(request, error, error)
    return sendError(family, reply, error)
  }
}
