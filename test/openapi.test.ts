// openapi.json and the service stay in step: every operation it describes is served, under each of its servers
// that serves it, and every route the service serves (but the docs and metrics) is described.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { build } from './helper'

interface Server { url: string, 'x-kosha-tags'?: string[] }
const openapi = JSON.parse(readFileSync(path.join(__dirname, '..', 'openapi.json'), 'utf8')) as
  { servers: Server[], paths: Record<string, Record<string, { tags?: string[] }>> }
const METHODS = ['get', 'put', 'post', 'delete', 'patch']
// Fastify reads ":" as a parameter; a literal one is "::" (as scripts/generate.ts writes it).
const fastifyUrl = (url: string): string => url.replace(/:/g, '::').replace(/\{([^}]+)\}/g, ':$1')
// A server of openapi.json other than "/" is a base path that serves the operations of the tags it names
// (x-kosha-tags; every operation without it): /kafka serves the confluent-v3 operations as /kafka/v3/...
const prefixes = (tags: string[] = []): string[] => openapi.servers.flatMap((s) => {
  const prefix = s.url.replace(/\/$/, '')
  return prefix === '' || s['x-kosha-tags'] === undefined || s['x-kosha-tags'].some((tag) => tags.includes(tag)) ? [prefix] : []
})

t.test('openapi.json serves the v3 API under /kafka too, and nothing else there', async (t) => {
  t.same(openapi.servers.map((s) => s.url), ['/', '/kafka'])
  t.same(prefixes(['confluent-v3']), ['', '/kafka'])
  t.same(prefixes(['confluent-v2']), [''])
})

t.test('every operation of openapi.json has a route, and every route an operation', async (t) => {
  const registered: string[] = []
  const app = await build(t, { routes: registered })
  const described = new Set<string>()
  for (const [url, item] of Object.entries(openapi.paths)) {
    for (const method of Object.keys(item).filter((m) => METHODS.includes(m))) {
      for (const prefix of prefixes(item[method]?.tags)) {
        described.add(`${method.toUpperCase()} ${prefix}${fastifyUrl(url)}`)
        t.ok(app.hasRoute({ method: method.toUpperCase() as 'GET', url: `${prefix}${fastifyUrl(url)}` }), `${method.toUpperCase()} ${prefix}${url} is served`)
      }
    }
  }
  // The router's own registrations: HEAD twins of GETs, CORS preflights, the docs, metrics, the live view's page
  // (a page, not an operation), the catch-all 404.
  const own = (r: string): boolean => /^(HEAD|OPTIONS) /.test(r) || /^[A-Z]+ \/(docs|metrics|ui)(\/|$)/.test(r) || r.endsWith(' *')
  const undocumented = registered.filter((r) => !own(r) && !described.has(r.replace(/\/$/, '') || r))
  t.same(undocumented, [], 'no route is missing from openapi.json')
})
