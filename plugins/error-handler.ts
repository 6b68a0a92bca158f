// The one place where errors become HTTP: every error, whatever threw it, leaves as
// { status, code, message, requestId } with the status and code of its class in lib/errors.ts.
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import {
  BadRequestError, BodyTooLargeError, InternalError, InvalidJsonError, KoshaError, MALFORMED, RouteNotFoundError,
  UnsupportedMediaTypeError, ValidationError
} from '../lib/errors'

interface ValidationIssue { instancePath: string, message?: string, keyword: string, params: Record<string, unknown>, parentSchema?: { description?: string } }

/** "body/numParts must be <= 10000" rather than Ajv's terse default. */
function validationMessage (err: FastifyError): string {
  const issues = (err.validation ?? []) as ValidationIssue[]
  const where = err.validationContext ?? 'request'
  const first = issues[0]
  if (!first) return err.message
  const field = first.keyword === 'required' ? `${first.instancePath}/${String(first.params.missingProperty)}` : first.instancePath
  const path = `${where}${field}`.replace(/\/$/, '')
  if (first.keyword === 'required') return `${path} is required.`
  // A pattern means nothing to a person; the field's description in openapi.json says what is allowed.
  if (first.keyword === 'pattern' && first.parentSchema?.description) return `${path} is not valid: ${first.parentSchema.description}`
  if (first.keyword === 'enum') return `${path} must be one of: ${(first.params.allowedValues as unknown[]).join(', ')}.`
  return `${path} ${first.message ?? 'is invalid'}.`
}

/** Fastify's and the clients' errors, classified: anything not known is an internal error. */
function classify (err: unknown, request: FastifyRequest, bodyLimit: number): KoshaError {
  if (err instanceof KoshaError) return err
  const e = err as Partial<FastifyError> & { statusCode?: number }
  if (e.validation) return new ValidationError(validationMessage(err as FastifyError))
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return new BodyTooLargeError(bodyLimit)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return new UnsupportedMediaTypeError(String(request.headers['content-type'] ?? ''))
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return new InvalidJsonError('The body is empty: send a JSON document.')
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return new InvalidJsonError('The body is not valid JSON.')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return new ValidationError('Content-Length does not match the body.')
  }
  const status = e.statusCode
  if (err instanceof SyntaxError && status === 400) return new InvalidJsonError(`The body is not valid JSON: ${err.message}.`)
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new BadRequestError(e.message ?? 'Bad request.')
  }
  return new InternalError(err)
}

/**
 * The status and body of an error on the Confluent-compatible API: v2 sub-codes, or (v3) the plain status.
 * A malformed payload is 422 on v2, as Confluent's v2 answers it, and 400 on v3, as Confluent's v3 spec declares it.
 * On v3, a client error that the operation does not declare in openapi.json (which lists Confluent's statuses) is
 * Confluent's catch-all 400 with the same message (e.g. an existing topic); a missing resource stays 404, as
 * Confluent's server answers it even where its spec omits it.
 */
export function confluentError (error: KoshaError, api: 'v2' | 'v3', declared: string[] = []): { status: number, body: { error_code: number, message: string } } {
  const malformed = MALFORMED.has(error.code)
  if (api === 'v2') {
    const status = malformed ? 422 : error.status
    return { status, body: { error_code: error.v2Code, message: error.message } }
  }
  const keep = [401, 404, 429].includes(error.status) || declared.includes(String(error.status)) || declared.length === 0
  const status = malformed || (error.status >= 400 && error.status < 500 && !keep) ? 400 : error.status
  return { status, body: { error_code: status, message: error.message } }
}

/** What the client is told: an internal error's details stay in the log, under the request id the answer names. */
export function publicMessage (error: KoshaError, requestId: string): string {
  return error instanceof InternalError ? `Internal error: the service log has the details under request id ${requestId}.` : error.message
}

/** The Confluent-compatible routes answer errors in Confluent's envelope; every other route in ours. */
function apiOf (url: string): 'v2' | 'v3' | undefined {
  if (url.startsWith('/v3/') || url === '/v3') return 'v3'
  if (/^\/(topics|brokers|consumers)(\/|$|\?)/.test(url)) return 'v2'
  return undefined
}

export function sendError (reply: FastifyReply, error: KoshaError): FastifyReply {
  reply.headers(error.headers)
  const api = apiOf(reply.request.url)
  if (api !== undefined) {
    const declared = Object.keys((reply.request.routeOptions.schema?.response ?? {}) as Record<string, unknown>)
    const { status, body } = confluentError(error, api, declared)
    return reply.code(status).type(api === 'v2' ? 'application/vnd.kafka.v2+json' : 'application/json')
      .send({ ...body, message: publicMessage(error, reply.request.id) })
  }
  return reply
    .code(error.status)
    .type('application/json; charset=utf-8')
    .send({ status: error.status, code: error.code, message: publicMessage(error, reply.request.id), requestId: reply.request.id })
}

async function errorHandler (fastify: FastifyInstance): Promise<void> {
  fastify.setErrorHandler((err, request, reply) => {
    const error = classify(err, request, fastify.config.bodyLimit)
    // One line per error: a 5xx at error level with its cause (an unclassified one is its own cause), a 4xx at info.
    if (error.status >= 500) request.log.error({ err: error.cause ?? err, code: error.code }, error instanceof InternalError ? 'unclassified error' : error.message)
    else request.log.info({ code: error.code }, error.message)
    return sendError(reply, error)
  })
  fastify.setNotFoundHandler((request, reply) => sendError(reply, new RouteNotFoundError(request.method, request.url.split('?')[0] ?? '')))
}

export default fp(errorHandler, { name: 'error-handler', dependencies: ['config'] })
