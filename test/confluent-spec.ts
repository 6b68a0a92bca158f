// Confluent's own REST v3 spec (../shared/reference/confluent-rest-v3-openapi.yaml), read at test time to check
// every v3 response the suite receives, under each base path of the spec's `servers` (/v3, and /kafka/v3 as Confluent
// Server and Confluent Cloud serve it): status, content type and body schema. test/helper.ts hooks it into every
// app it builds, so no v3 answer escapes the check; test/confluent-coverage.test.ts checks that every operation of
// the spec has a route. A clone with nothing beside it has no spec: then there is no check (test/confluent-spec.test.ts
// says so, once, as a skip), and the answers themselves are left alone.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import Ajv, { type ValidateFunction } from 'ajv'
import { parse } from 'yaml'

type Node = Record<string, unknown>
// The project's shared/ folder sits beside its checkout (as in CI); CONFLUENT_V3_SPEC points elsewhere.
export const SPEC_FILE = process.env.CONFLUENT_V3_SPEC ?? path.resolve(__dirname, '..', '..', 'shared', 'reference', 'confluent-rest-v3-openapi.yaml')

/** Why the check cannot run (the spec is not there), or undefined when it can. */
export function specMissing (file: string = SPEC_FILE): string | undefined {
  if (existsSync(file)) return undefined
  return `Confluent's v3 spec is not at ${file}: what is checked against it (v3 answers, route coverage) is skipped (put shared/ beside the checkout, or set CONFLUENT_V3_SPEC)`
}

interface Loaded { spec: Node, ajv: Ajv, bases: string[], routes: Array<{ re: RegExp, item: Node }>, compiled: Map<string, ValidateFunction> }
const loadedSpecs = new Map<string, Loaded>()

/** OpenAPI 3.0 to JSON Schema: `nullable` becomes a null type, annotations Ajv does not know are dropped. */
function toJsonSchema (node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema)
  if (typeof node !== 'object' || node === null) return node
  const out: Node = {}
  for (const [k, v] of Object.entries(node as Node)) {
    if (k === 'example' || k === 'examples' || k.startsWith('x-') || k === 'nullable' || k === 'discriminator') continue
    out[k] = toJsonSchema(v)
  }
  // The spec writes some integers as type int64 (a format, not a JSON type).
  if (out.type === 'int64' || out.type === 'int32') out.type = 'integer'
  if ((node as Node).nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null']
    else return { anyOf: [out, { type: 'null' }] }
  }
  return out
}

/** What a path template matches: each {parameter} one segment, the rest literally (a "-" segment too). */
const templateRe = (template: string): RegExp =>
  new RegExp('^' + template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+') + '$')

function load (file: string): Loaded {
  const cached = loadedSpecs.get(file)
  if (cached) return cached
  const missing = specMissing(file)
  if (missing) throw new Error(missing)
  const spec = parse(readFileSync(file, 'utf8')) as Node
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false })
  ajv.addSchema({ $id: 'confluent', components: toJsonSchema((spec.components as Node)) }, 'confluent')
  const routes = Object.entries(spec.paths as Node).map(([template, item]) => ({ re: templateRe(template), item: item as Node }))
  // "{protocol}://{address}:{port}/v3", "https://pkc-00000.region.provider.confluent.cloud/kafka/v3": the paths.
  const urls = (spec.servers as Array<{ url: string }>).map((s) => s.url.replace(/^[^/]*\/\/[^/]*/, '').replace(/\/$/, ''))
  const bases = [...new Set(urls)]
  const loaded = { spec, ajv, bases, routes, compiled: new Map<string, ValidateFunction>() }
  loadedSpecs.set(file, loaded)
  return loaded
}

/** The base paths of the spec's servers, e.g. ['/v3', '/kafka/v3']: each serves every path of the spec. */
export function specBasePaths (file: string = SPEC_FILE): string[] {
  return load(file).bases
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch']

/** Every operation of the spec, as its method and path template (under a base path), e.g. GET /clusters/{cluster_id}. */
export function specOperations (file: string = SPEC_FILE): Array<{ method: string, path: string }> {
  const { spec } = load(file)
  return Object.entries(spec.paths as Node).flatMap(([path, item]) =>
    Object.keys(item as Node).filter((m) => METHODS.includes(m)).map((m) => ({ method: m.toUpperCase(), path })))
}

/** The base path of `urlPath` (the longest that holds it) and the rest, or undefined when it is under none. */
function underBase (urlPath: string, bases: string[]): { base: string, rest: string } | undefined {
  const base = [...bases].sort((a, b) => b.length - a.length).find((b) => urlPath.startsWith(`${b}/`))
  return base === undefined ? undefined : { base, rest: urlPath.slice(base.length) }
}

/** Whether `url` is under a base path of the spec, so that v3Mismatch checks its answer. */
export function isV3Url (url: string, file: string = SPEC_FILE): boolean {
  return underBase(url.split('?')[0] ?? url, load(file).bases) !== undefined
}

function resolve (node: unknown, spec: Node): Node {
  let n = node as Node
  while (typeof n?.$ref === 'string') {
    n = (n.$ref as string).replace(/^#\//, '').split('/').reduce<Node>((acc, key) => acc[key] as Node, spec)
  }
  return n
}

/**
 * Our own v3 operations, by operationId (openapi.json marks them x-kosha-extension), with their method and path under
 * a base path: Confluent's spec has no such operation, so their answers are not checked against it. Exactly these
 * two; every other v3 answer is still checked (test/confluent-coverage.test.ts holds this list and openapi.json's
 * marks to each other, and to Confluent's spec).
 */
export const EXTENSIONS: Record<string, { method: string, path: string }> = {
  deleteConsumerGroupV3: { method: 'DELETE', path: '/clusters/{cluster_id}/consumer-groups/{consumer_group_id}' },
  resetConsumerGroupOffsetsV3: { method: 'POST', path: '/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/offsets:reset' }
}
const extensionRoutes = Object.values(EXTENSIONS).map((e) => ({ method: e.method, path: templateRe(e.path) }))
// Confluent's server answers an unknown cluster, broker, group or consumer with 404 (its NotFoundErrorResponse, whose
// examples include "Cluster my-cluster cannot be found."), but its spec omits 404 on many operations whose URL names a
// resource: there, a 404 is checked against that response.
const UNDECLARED_404 = /^\/clusters\/[^/]+/

/** Why a v3 response does not conform to Confluent's spec, or undefined when it does. */
export function v3Mismatch (method: string, url: string, status: number, contentType: string | undefined, body: string, file: string = SPEC_FILE): string | undefined {
  const { spec, ajv, bases, routes, compiled } = load(file)
  const urlPath = url.split('?')[0] ?? url
  const under = underBase(urlPath, bases)
  if (!under) return `${method} ${urlPath}: not under a base path of Confluent's spec (${bases.join(', ')})`
  const specPath = under.rest
  // A literal path ("/brokers/-/configs") wins over a template ("/brokers/{broker_id}/configs").
  const matches = routes.filter((r) => r.re.test(specPath) && r.item[method.toLowerCase()])
  const route = matches.sort((a, b) => (a.re.source.match(/\[\^\/\]\+/g)?.length ?? 0) - (b.re.source.match(/\[\^\/\]\+/g)?.length ?? 0))[0]
  if (extensionRoutes.some((e) => e.method === method.toUpperCase() && e.path.test(specPath))) return undefined
  if (!route) return `${method} ${urlPath}: no such operation in Confluent's spec`
  const op = route.item[method.toLowerCase()] as Node
  const responses = op.responses as Node
  const declared = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default ??
    (status === 404 && UNDECLARED_404.test(specPath) ? { $ref: '#/components/responses/NotFoundErrorResponse' } : undefined)
  if (!declared) return `${method} ${urlPath}: status ${status} is not declared (declared: ${Object.keys(responses).join(', ')})`
  const response = resolve(declared, spec)
  const content = response.content as Node | undefined
  if (!content) return body.length === 0 ? undefined : `${method} ${urlPath} ${status}: the spec declares no body, we sent one`
  const [type, media] = Object.entries(content)[0] as [string, Node]
  if (!(contentType ?? '').startsWith(type)) return `${method} ${urlPath} ${status}: content type ${contentType ?? '(none)'}, the spec says ${type}`
  const key = `${method} ${route.re.source} ${status}`
  let validate = compiled.get(key)
  if (!validate) {
    const schema = JSON.parse(JSON.stringify(toJsonSchema(media.schema)).replace(/"#\/components\//g, '"confluent#/components/')) as Node
    validate = ajv.compile(schema)
    compiled.set(key, validate)
  }
  let parsed: unknown
  try { parsed = JSON.parse(body) } catch { return `${method} ${urlPath} ${status}: the body is not JSON` }
  if (validate(parsed)) return undefined
  return `${method} ${urlPath} ${status}: ${ajv.errorsText(validate.errors, { dataVar: 'body' })}`
}
