// Route coverage against Confluent's own v3 spec (test/confluent-spec.ts), both ways:
//   - every operation of the spec (path x method) has a route of its own under each base path of the spec's servers
//     (/v3, and /kafka/v3 as Confluent Server and Confluent Cloud serve it). The concrete URL is sent to the real app,
//     a literal "-" segment kept as it is, and the route the router matched must be that operation's: a request to
//     .../brokers/-/configs that reaches .../brokers/{broker_id}/configs (the broker "-") is not served;
//   - every v3 operation of openapi.json is in the spec, or one of our named extensions (EXTENSIONS, marked
//     x-kosha-extension in openapi.json).
// Without the spec (a clone with nothing beside it) both are skipped, and say so.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { build } from './helper'
import { EXTENSIONS, specBasePaths, specMissing, specOperations } from './confluent-spec'

const missing = specMissing()
const METHODS = ['get', 'put', 'post', 'delete', 'patch']

/** A path template with its parameters unnamed ({}), so that two spellings of one path compare equal. */
const unnamed = (template: string): string => template.replace(/\{[^}]+\}/g, '{}')
/** A Fastify route URL in the same form: ":name" a parameter, "::" a literal colon (as scripts/generate.ts writes). */
const unnamedRoute = (url: string): string => url.split('::').map((part) => part.replace(/:[A-Za-z0-9_]+/g, '{}')).join(':')
/** A URL for a path template: each parameter a plausible value, everything else (a "-" segment too) as it is. */
const concrete = (template: string): string => template.replace(/\{([^}]+)\}/g, (_all, name: string) =>
  name === 'broker_id' || name === 'partition_id' ? '1' : `some-${name.replace(/_/g, '-')}`)

t.test('every operation of Confluent\'s v3 spec has a route of its own, under /v3 and /kafka/v3', { skip: missing ?? false }, async (t) => {
  const matched: Array<{ method: string, url: string, route: string | undefined }> = []
  // With an API key required, every request is refused in onRequest, after routing and before any handler: the
  // router's choice is seen and nothing reaches Kafka. The refusals themselves are not what this test is about.
  const app = await build(t, { env: { API_KEYS: 'route-coverage-key' }, matched, mismatches: [] })
  const bases = specBasePaths()
  t.same([...bases].sort(), ['/kafka/v3', '/v3'], 'the base paths of the spec\'s servers')

  const unserved: string[] = []
  for (const { method, path: template } of specOperations()) {
    const operation = `${method} ${template}`
    for (const base of bases) {
      const url = base + concrete(template)
      matched.length = 0
      await app.inject({ method: method as 'GET', url })
      const route = matched[0]?.route
      const own = route !== undefined && unnamedRoute(route) === base + unnamed(template)
      if (!own) {
        unserved.push(`${operation} under ${base}: ${method} ${url} reached ${route === undefined ? 'no route' : `${route}, the route of another operation`}`)
      }
    }
  }
  t.same(unserved, [], 'no operation of Confluent\'s spec lacks a route of its own')
})

interface OpenApiOperation { operationId: string, 'x-kosha-extension'?: boolean }
const openapi = JSON.parse(readFileSync(path.join(__dirname, '..', 'openapi.json'), 'utf8')) as { paths: Record<string, Record<string, OpenApiOperation>> }

t.test('every v3 operation of openapi.json is one of Confluent\'s spec, or one of our named extensions', { skip: missing ?? false }, async (t) => {
  const confluent = new Set(specOperations().map((o) => `${o.method} ${unnamed(o.path)}`))
  const problems: string[] = []
  const ours = new Set<string>()
  for (const [url, item] of Object.entries(openapi.paths).filter(([url]) => url.startsWith('/v3/'))) {
    for (const [m, op] of Object.entries(item).filter(([m]) => METHODS.includes(m))) {
      const method = m.toUpperCase()
      const template = url.slice('/v3'.length)
      const operation = `${method} ${template} (${op.operationId})`
      const marked = op['x-kosha-extension'] === true
      const listed = EXTENSIONS[op.operationId]
      ours.add(op.operationId)
      if (confluent.has(`${method} ${unnamed(template)}`)) {
        if (marked || listed) problems.push(`${operation} is Confluent's: it is no extension (unmark it, and take it out of EXTENSIONS)`)
      } else if (!marked || !listed) {
        problems.push(`${operation} is not in Confluent's spec: ${marked ? '' : 'mark it x-kosha-extension in openapi.json'}${!marked && !listed ? ' and ' : ''}${listed ? '' : 'add it to EXTENSIONS (test/confluent-spec.ts)'}`)
      } else if (listed.method !== method || unnamed(listed.path) !== unnamed(template)) {
        problems.push(`${operation}: EXTENSIONS has it as ${listed.method} ${listed.path}`)
      }
    }
  }
  for (const id of Object.keys(EXTENSIONS).filter((id) => !ours.has(id))) problems.push(`EXTENSIONS names ${id}, which openapi.json has no more`)
  t.same(problems, [], 'the v3 operations of openapi.json are Confluent\'s but for the extensions EXTENSIONS names')
  t.comment(`our extensions, not in Confluent's spec: ${Object.keys(EXTENSIONS).join(', ')}`)
})
