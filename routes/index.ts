// Every operation of openapi.json, by API family, each family in its own context with its own error handler.
import type { FastifyInstance } from 'fastify'
import type { OperationsByTag } from '../generated/routes'
import v1 from './v1'
import v2 from './v2'
import v3 from './v3'

// A tag of openapi.json that no family serves fails here, at compile time.
type Served = 'topics' | 'produce' | 'metadata' | 'consumers' | 'operations' | 'confluent-v2' | 'confluent-v3'
const everyTagServed: Exclude<keyof OperationsByTag, Served> extends never ? true : never = true

export default async function routes (fastify: FastifyInstance): Promise<void> {
  if (!everyTagServed) return
  await fastify.register(v1)
  await fastify.register(v2)
  await fastify.register(v3)
}
