// Swagger UI at /docs, serving openapi.json exactly as written (the single source of truth).
import { existsSync } from 'node:fs'
import path from 'node:path'
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

// Beside the sources when run with tsx (plugins/ -> ./openapi.json), one level more when built (dist/plugins/).
export const openapiPath = [path.join(__dirname, '..', 'openapi.json'), path.join(__dirname, '..', '..', 'openapi.json')]
  .find((p) => existsSync(p)) ?? path.join(__dirname, '..', 'openapi.json')

async function swaggerPlugin (fastify: FastifyInstance): Promise<void> {
  await fastify.register(swagger, { mode: 'static', specification: { path: openapiPath, baseDir: path.dirname(openapiPath) } })
  await fastify.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true, tryItOutEnabled: true } })
}

export default fp(swaggerPlugin, { name: 'swagger' })
