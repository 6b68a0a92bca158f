import type { FastifyInstance, FastifyServerOptions } from 'fastify'

// The factory options that server.ts and the tests both use, so that tests and production cannot differ.
export const serverOptions: FastifyServerOptions = {
  logger: { level: process.env.LOG_LEVEL ?? 'info' },
  routerOptions: { ignoreTrailingSlash: true },
  requestIdHeader: 'x-request-id'
}

export default async function app (fastify: FastifyInstance): Promise<void> {
  fastify.get('/healthz', async () => ({ status: 'ok' }))
}
