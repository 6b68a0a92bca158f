// The application as a Fastify plugin, and the factory options that server.ts and the tests both use, so that
// tests and production cannot differ. Plugins are registered in dependency order, one concern each; routes last.
import { randomUUID } from 'node:crypto'
import Ajv from 'ajv'
import pino from 'pino'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import type { Config } from './lib/config'
import { schemas } from './generated/routes'
import configPlugin from './plugins/config'
import errorHandler from './plugins/error-handler'
import metrics from './plugins/metrics'
import cors from './plugins/cors'
import auth from './plugins/auth'
import swagger from './plugins/swagger'
import kafkaConnection from './plugins/kafka-connection'
import topics from './plugins/topics'
import produce from './plugins/produce'
import cluster from './plugins/cluster'
import configs from './plugins/configs'
import consumers from './plugins/consumers'
import consumerGroups from './plugins/consumer-groups'
import acls from './plugins/acls'
import operationRoutes from './routes/operations'
import topicRoutes from './routes/topics'
import produceRoutes from './routes/produce'
import metadataRoutes from './routes/metadata'
import consumerRoutes from './routes/consumers'
import v2MetadataRoutes from './routes/v2/metadata'
import v2ProduceRoutes from './routes/v2/produce'
import v3RecordRoutes from './routes/v3/records'
import v3ClusterRoutes from './routes/v3/cluster'
import v3TopicRoutes from './routes/v3/topics'
import v2ConsumerRoutes from './routes/v2/consumers'
import v3ConsumerGroupRoutes from './routes/v3/consumer-groups'
import v3AclRoutes from './routes/v3/acls'

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

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

export function serverOptions (config: Config): FastifyServerOptions {
  return {
    logger: {
      level: config.logLevel,
      stream: stdoutLog(),
      redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]'], censor: '[redacted]' }
    },
    // One log line per request, written when it completes (see httpLayer), instead of Fastify's two.
    disableRequestLogging: true,
    bodyLimit: config.bodyLimit,
    // Kafka topic names reach 249 characters; Fastify's default cap for a path parameter is 100.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 512 },
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

// Path and query parameters arrive as text, so their validator turns "500" into 500; a JSON body keeps its types,
// so that {"topic": 42} or {"numParts": true} is refused rather than quietly coerced into a topic named "42".
const ajvOptions = { removeAdditional: false, useDefaults: true, allErrors: false, allowUnionTypes: true, verbose: true } as const
const bodyAjv = new Ajv({ ...ajvOptions, coerceTypes: false })
const parameterAjv = new Ajv({ ...ajvOptions, coerceTypes: 'array' })
// The components of openapi.json, once each: the route schemas refer to them as { $ref: 'Name#' }.
for (const ajv of [bodyAjv, parameterAjv]) ajv.addSchema([...schemas])

/**
 * The HTTP layer every request crosses before a route: body parsing and validation, configuration, errors, metrics,
 * CORS, authentication and the response headers. The benchmark's HTTP-only arm runs exactly this, without Kafka.
 */
export async function httpLayer (fastify: FastifyInstance, config: Config): Promise<void> {
  fastify.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : parameterAjv).compile(schema))
  // The response serializer (fast-json-stringify) resolves the same $refs through Fastify's shared schemas.
  for (const s of schemas) fastify.addSchema(s)
  // Every body of this API is JSON: anything else is a 415 that says so, not a string that fails validation.
  fastify.removeContentTypeParser('text/plain')
  // Confluent's media types (application/vnd.kafka[.format].v2+json) are JSON; routes read the format from them.
  // An empty body is no body: Confluent's clients send one with this type where the body is optional (commit).
  const json = fastify.getDefaultJsonParser('error', 'ignore')
  fastify.addContentTypeParser(/^application\/vnd\.kafka(\.[a-z0-9]+)?\.v[23]\+json$/, { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    if (text === '') done(null, null)
    else json(request, text, done)
  })
  await fastify.register(configPlugin, { config })
  await fastify.register(errorHandler)
  await fastify.register(metrics)
  await fastify.register(cors)
  await fastify.register(auth)

  // On close, Node's server waits for every open connection; a keep-alive client would hold it open. Idle ones are
  // closed by forceCloseConnections; the answers still in flight tell their client to close the connection.
  let closing = false
  fastify.addHook('preClose', async () => { closing = true })
  // Request logging: the arrival only at debug level; at info one line per completed request, with what an operator
  // looks for (the request id is in every line already). Half the log volume of Fastify's default.
  fastify.addHook('onRequest', async (request) => {
    request.log.debug({ method: request.method, url: request.url }, 'incoming request')
  })
  fastify.addHook('onResponse', async (request, reply) => {
    request.log.info({ method: request.method, url: request.url, statusCode: reply.statusCode, responseTime: reply.elapsedTime }, 'request completed')
  })
  fastify.addHook('onSend', async (request, reply) => {
    reply.header('X-Request-Id', request.id)
    if (closing) reply.header('Connection', 'close')
  })
}

export default async function app (fastify: FastifyInstance, options: { config: Config }): Promise<void> {
  await httpLayer(fastify, options.config)
  await fastify.register(swagger)
  await fastify.register(kafkaConnection)
  await fastify.register(topics)
  await fastify.register(produce)
  await fastify.register(cluster)
  await fastify.register(configs)
  await fastify.register(consumers)
  await fastify.register(consumerGroups)
  await fastify.register(acls)

  await fastify.register(operationRoutes)
  await fastify.register(topicRoutes)
  await fastify.register(produceRoutes)
  await fastify.register(metadataRoutes)
  await fastify.register(consumerRoutes)
  await fastify.register(v2MetadataRoutes)
  await fastify.register(v2ProduceRoutes)
  await fastify.register(v3RecordRoutes)
  await fastify.register(v3ClusterRoutes)
  await fastify.register(v3TopicRoutes)
  await fastify.register(v2ConsumerRoutes)
  await fastify.register(v3ConsumerGroupRoutes)
  await fastify.register(v3AclRoutes)
}
