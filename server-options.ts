// The Fastify factory options that server.ts and the tests both use, so that tests and production cannot differ:
// logging (where, what is redacted, one line per completed request), the sizes a request may have (body, headers), who
// the client is behind a proxy, routing, request ids, closing, and HTTPS when it is configured.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Server, ServerOptions } from 'node:https'
import pino from 'pino'
import { LogController, type FastifyHttpsOptions } from 'fastify'
import type { Config } from './lib/config'
import { clientErrorHandler, frameworkErrorHandler } from './http/errors'

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/
const MAX_PARAM_LENGTH = 512

let stdout: ReturnType<typeof pino.destination> | undefined
/**
 * Standard output, written asynchronously in chunks of 4 KiB or every 250 ms, whichever comes first: a request
 * never waits for the disk (synchronous writes of each line took a third of the CPU under load in the benchmark).
 * Pino writes what is left when the process exits.
 */
function stdoutLog (): ReturnType<typeof pino.destination> {
  if (!stdout) {
    const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 })
    setInterval(() => { destination.flush() }, 250).unref()
    stdout = destination
  }
  return stdout
}

/**
 * Request logging: the arrival only at debug level; at info one line per completed request, with what an operator
 * looks for (the request id is in every line already). Half the log volume of Fastify's default.
 */
class RequestLog extends LogController {
  override incomingRequest (request: Parameters<LogController['incomingRequest']>[0]): void {
    request.log.debug({ method: request.method, url: request.url }, 'incoming request')
  }

  override requestCompleted (_error: unknown, request: Parameters<LogController['requestCompleted']>[1], reply: Parameters<LogController['requestCompleted']>[2]): void {
    request.log.info({ method: request.method, url: request.url, statusCode: reply.statusCode, responseTime: reply.elapsedTime }, 'request completed')
  }
}

/** Trust the nearest `hops` proxies: the client is the address the last of them received the request from. */
const trustNearest = (hops: number) => (_address: string, hop: number): boolean => hop < hops

/**
 * Node's TLS server options for HTTPS_CERT_FILE and HTTPS_KEY_FILE (read once, at start); with HTTPS_CLIENT_CA_FILE a
 * client must present a certificate that CA signed, or the handshake fails (before any HTTP, so no route, not even
 * /healthz, is served without one). null: plain HTTP.
 */
export function httpsOptions (https: Config['https']): ServerOptions | null {
  if (!https) return null
  return {
    cert: readFileSync(https.certFile),
    key: readFileSync(https.keyFile),
    ...(https.clientCaFile ? { ca: readFileSync(https.clientCaFile), requestCert: true, rejectUnauthorized: true } : {})
  }
}

/**
 * Fastify passes `https` to https.createServer and, without it, `http` to http.createServer: the header bound goes
 * into whichever is used (Fastify's HTTPS options type has no `http`, hence the intersection).
 */
export function serverOptions (config: Config): FastifyHttpsOptions<Server> & { http?: { maxHeaderSize: number } } {
  const tls = httpsOptions(config.https)
  return {
    // Node's parser refuses a request line and headers larger than MAX_HEADER_SIZE before Fastify sees the request
    // (431, answered in the catalogue's terms by clientErrorHandler rather than as Fastify's own JSON).
    https: tls ? { ...tls, maxHeaderSize: config.maxHeaderSize } : null,
    ...(tls ? {} : { http: { maxHeaderSize: config.maxHeaderSize } }),
    logger: {
      level: config.logLevel,
      stream: stdoutLog(),
      redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]'], censor: '[redacted]' }
    },
    logController: new RequestLog(),
    bodyLimit: config.bodyLimit,
    clientErrorHandler: clientErrorHandler(config.maxHeaderSize),
    // request.ip (the address rate limits count by) comes from X-Forwarded-For only from the proxies trusted here.
    trustProxy: typeof config.trustProxy === 'number' ? trustNearest(config.trustProxy) : config.trustProxy,
    // Kafka topic names reach 249 characters; Fastify's default cap for a path parameter is 100.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    // What the router refuses before any hook (a longer parameter, a broken percent-encoding), in the API's envelope.
    frameworkErrors: frameworkErrorHandler(MAX_PARAM_LENGTH),
    // An incoming X-Request-Id is kept when it is sane, so a caller can follow its request through the logs.
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Longer than the idle timeout of common load balancers (60 s), so they never reuse a connection we closed.
    keepAliveTimeout: 72_000
  }
}
