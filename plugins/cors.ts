// CORS: origins from CORS_ORIGINS (default: any). A preflight is answered here, in onRequest, so that it never
// runs a route handler nor needs authentication.
import fp from 'fastify-plugin'
import cors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'

async function corsPlugin (fastify: FastifyInstance): Promise<void> {
  const origins = fastify.config.corsOrigins
  await fastify.register(cors, {
    origin: origins === '*' ? '*' : origins,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Content-Type', 'Authorization', 'X-API-Key', 'X-Request-Id'],
    exposedHeaders: ['X-Request-Id', 'Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'],
    maxAge: 600,
    // A bare OPTIONS (no Access-Control-Request-Method) gets the same 204 rather than a plain-text 400.
    strictPreflight: false
  })
}

export default fp(corsPlugin, { name: 'cors', dependencies: ['config'] })
