// openapi.json and the service stay in step: every operation it describes is served, and every route the service
// serves (but the docs and metrics) is described.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { build } from './helper'

const openapi = JSON.parse(readFileSync(path.join(__dirname, '..', 'openapi.json'), 'utf8')) as { paths: Record<string, Record<string, unknown>> }
const METHODS = ['get', 'put', 'post', 'delete', 'patch']

t.test('every operation of openapi.json has a route, and every route an operation', async (t) => {
  const app = await build(t)
  const described = new Set<string>()
  for (const [url, item] of Object.entries(openapi.paths)) {
    for (const method of Object.keys(item).filter((m) => METHODS.includes(m))) {
      const fastifyUrl = url.replace(/:/g, '::').replace(/\{([^}]+)\}/g, ':$1')
      described.add(`${method.toUpperCase()} ${fastifyUrl}`)
      t.ok(app.hasRoute({ method: method.toUpperCase() as 'GET', url: fastifyUrl }), `${method.toUpperCase()} ${url} is served`)
    }
  }
  const served = app.printRoutes({ commonPrefix: false, includeHooks: false })
  t.ok(served.length > 0)
  const undocumented: string[] = []
  for (const line of served.split('\n')) {
    const m = /(\/\S*) \(([A-Z, ]+)\)/.exec(line.replace(/^[\s│├└─]+/, ''))
    if (!m) continue
    for (const method of (m[2] ?? '').split(', ').filter((x) => x !== 'HEAD' && x !== 'OPTIONS')) {
      const key = `${method} ${m[1] ?? ''}`
      if (!described.has(key) && !/^[A-Z]+ \/(docs|metrics)/.test(key)) undocumented.push(key)
    }
  }
  t.same(undocumented, [], 'no route is missing from openapi.json')
})
