// Every operation of openapi.json, by API family, each family in its own context with its own error handler.
import type { FastifyInstance } from 'fastify'
import type { OperationsByTag } from '../generated/routes'
import { CONFLUENT_PATHS, errorHandler, notFoundHandler } from '../http/errors'
import v1 from './v1'
import v2 from './v2'
import v3 from './v3'

/**
 * Confluent Server's embedded REST API and Confluent Cloud serve v3 under /kafka/v3 (the `servers` of Confluent's
 * spec), and clients such as Confluent's Terraform provider only call it there: the v3 family is mounted under this
 * prefix too, the same handlers and schemas in a context of its own. openapi.json lists it as a server.
 */
export const CONFLUENT_SERVER_PREFIX = '/kafka'

// A tag of openapi.json that no family serves fails here, at compile time.
type Served = 'topics' | 'produce' | 'metadata' | 'consumers' | 'reads' | 'streams' | 'operations' | 'confluent-v2' | 'confluent-v3'
const everyTagServed: Exclude<keyof OperationsByTag, Served> extends never ? true : never = true

export default async function routes (fastify: FastifyInstance): Promise<void> {
  if (!everyTagServed) return
  await fastify.register(v1)
  await fastify.register(v2)
  await fastify.register(v3)
  await fastify.register(v3, { prefix: CONFLUENT_SERVER_PREFIX })
  // A path no route serves has only its URL to go by: under a Confluent API's paths it is answered in that API's
  // envelope, so a Confluent client reads it; anywhere else in the Kosha shape (http/layer.ts). Its error handler
  // answers what fails before the 404 (a 401 of the auth hook) in the same envelope; it is set first, as the
  // not-found handler takes the error handler in place when it is set.
  // (The same paths name the envelope of what Node's parser refuses before routing: http/errors.ts.)
  for (const [prefix, family] of CONFLUENT_PATHS) {
    await fastify.register(async (scope) => {
      scope.setErrorHandler(errorHandler(family))
      scope.setNotFoundHandler(notFoundHandler(family))
    }, { prefix })
  }
}
