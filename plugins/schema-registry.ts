// The Schema Registry (registry/) as `fastify.serdes`: the avro, jsonschema and protobuf formats of v2 and v3 write and read
// through it. Unset (no SCHEMA_REGISTRY_URL), those formats are refused with 415, saying what to set.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { SchemaRegistry } from '../registry/client'
import { Serdes } from '../registry/serdes'

declare module 'fastify' {
  interface FastifyInstance { serdes: Serdes | undefined }
}

async function schemaRegistry (fastify: FastifyInstance): Promise<void> {
  const config = fastify.config.schemaRegistry
  fastify.decorate('serdes', config !== undefined ? new Serdes(new SchemaRegistry(config)) : undefined)
  if (config !== undefined) fastify.log.info({ url: config.url }, 'schema registry: the avro, jsonschema and protobuf formats are on')
}

export default fp(schemaRegistry, { name: 'schema-registry', dependencies: ['config'] })
