// The live view at /ui: one self-contained page (ui/live.html: HTML and script, nothing external) that lists topics,
// tails one through the streams' SSE and produces records, all through the public API. The page itself holds no
// data, so it is open like /docs; what it calls carries the credentials the user gives it (plugins/auth.ts).
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

// Beside the sources when run with tsx (plugins/ -> ui/), one level more when built (dist/plugins/).
const pagePath = [path.join(__dirname, '..', 'ui', 'live.html'), path.join(__dirname, '..', '..', 'ui', 'live.html')]
  .find((p) => existsSync(p)) ?? path.join(__dirname, '..', 'ui', 'live.html')

// Only this service is reachable from the page: its own inline script and style, and calls to its own origin.
const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

async function ui (fastify: FastifyInstance): Promise<void> {
  const page = readFileSync(pagePath, 'utf8')
  fastify.get('/ui', async (_request, reply) => await reply
    .type('text/html; charset=utf-8')
    .header('Content-Security-Policy', CSP)
    .header('Cache-Control', 'no-cache')
    .send(page))
}

export default fp(ui, { name: 'ui' })
