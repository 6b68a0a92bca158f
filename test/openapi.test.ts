// openapi.json and the service stay in step: every operation it describes is served, and every route the service
// serves (but the docs and metrics) is described.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { build } from './helper'

const openapi = JSON.parse(readFileSync(path.join(__dirname, '..', 'openapi.json'), 'utf8')) as { paths: Record<string, Record<string, unknown>> }
const METHODS = ['get', 'put', 'post', 'delete', 'patch']
// Fastify reads ":" as a parameter; a literal one is "::" (as scripts/generate.ts writes it).
const fastifyUrl = (url: string): string => url.replace(/:/g, '::').replace(/\{([^}]+)\}/g, ':$1')

t.test('every operation of openapi.json has a route, and every route an operation', async (t) => {
  const registered: string[] = []
  const app = await build(t, { routes: registered })
  const described = new Set<string>()
  for (const [url, item] of Object.entries(openapi.paths)) {
    for (const method of Object.keys(item).filter((m) => METHODS.includes(m))) {
      described.add(`${method.toUpperCase()} ${fastifyUrl(url)}`)
      t.ok(app.hasRoute({ method: method.toUpperCase() as 'GET', url: fastifyUrl(url) }), `${method.toUpperCase()} ${url} is served`)
    }
  }
  // The router's own registrations: HEAD twins of GETs, CORS preflights, the docs, metrics, the live view's page
  // (a page, not an operation), the catch-all 404.
  const own = (r: string): boolean => /^(HEAD|OPTIONS) /.test(r) || /^[A-Z]+ \/(docs|metrics|ui)(\/|$)/.test(r) || r.endsWith(' *')
  const undocumented = registered.filter((r) => !own(r) && !described.has(r.replace(/\/$/, '') || r))
  t.same(undocumented, [], 'no route is missing from openapi.json')
})
