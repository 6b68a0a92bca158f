// openapi.json -> generated/: the only writer of that folder.
//   generated/openapi.ts  the types of every path, operation and schema (openapi-typescript)
//   generated/routes.ts   `schemas`: every component of openapi.json that a route uses, once, with `$id: 'Name'`;
//                         per operationId: method, Fastify URL, the route schema (tags, params, querystring, body and
//                         responses, whose component $refs read `{ $ref: 'Name#' }`) and the operation's x- keys as
//                         `config`; the Fastify route generic that types each handler; the operationIds of each tag.
//                         app.ts gives `schemas` to its Ajv instances and to fastify.addSchema (the serializer).
// `--check` writes nothing and fails when generated/ is not what openapi.json makes (CI runs it).
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs'
import path from 'node:path'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

interface Parameter { name: string, in: string, required?: boolean, description?: string, schema: JsonObject }
interface Operation {
  operationId: string
  tags?: string[]
  parameters?: Parameter[]
  requestBody?: { required?: boolean, content: Record<string, { schema: JsonObject }> }
  responses: Record<string, { content?: Record<string, { schema: JsonObject }> }>
  [key: `x-${string}`]: Json
}

const root = path.resolve(__dirname, '..')
const outDir = path.join(root, 'generated')
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const
const COMPONENT = '#/components/schemas/'
// Keywords of OpenAPI that are annotations only; Ajv's strict mode would reject them in a route schema.
const DROP = new Set(['example', 'examples', 'xml', 'externalDocs', 'deprecated', 'discriminator'])
// Keywords whose value maps names (of properties, of definitions) to schemas: those names are not keywords.
const NAMES = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas'])
// Keywords that only describe. Beside a $ref they are kept by copying the component's own keywords next to them
// (its $refs stay $refs): Ajv reports a failed `pattern` with the schema that holds it (parentSchema), and the error
// handler answers with that schema's description, so a description next to a bare $ref would never be read.
const ANNOTATIONS = new Set(['description', 'title'])

function isObject (value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `Name` of a `#/components/schemas/Name` reference, whose component exists. */
function componentName (ref: string, components: JsonObject): string {
  const name = ref.startsWith(COMPONENT) ? ref.slice(COMPONENT.length) : undefined
  if (name === undefined || !isObject(components[name])) throw new Error(`openapi.json: unresolved $ref ${ref}`)
  return name
}

/**
 * An OpenAPI schema as the JSON schema of a generated route or shared schema: the annotations of DROP removed and
 * every `#/components/schemas/Name` reference written `Name#` (the $id of that component in `schemas`), whose name is
 * added to `used`.
 */
function convert (value: Json, components: JsonObject, used: Set<string>): Json {
  if (Array.isArray(value)) return value.map((v) => convert(v, components, used))
  if (!isObject(value)) return value
  const ref = value.$ref
  if (typeof ref === 'string') {
    const name = componentName(ref, components)
    const beside = Object.entries(value).filter(([k]) => k !== '$ref' && !DROP.has(k))
    // The schema that holds the keywords: through components that are only a $ref to another (an alias).
    let target = components[name] as JsonObject
    for (const aliases = new Set([name]); typeof target.$ref === 'string' && Object.keys(target).length === 1;) {
      const next = componentName(target.$ref, components)
      if (aliases.has(next)) break
      aliases.add(next)
      target = components[next] as JsonObject
    }
    if (beside.length > 0 && beside.every(([k]) => ANNOTATIONS.has(k)) && typeof target.$ref !== 'string') {
      return { ...(convert(target, components, used) as JsonObject), ...(convert(Object.fromEntries(beside), components, used) as JsonObject) }
    }
    used.add(name)
    if (beside.length === 0) return { $ref: `${name}#` }
    return { allOf: [{ $ref: `${name}#` }], ...(convert(Object.fromEntries(beside), components, used) as JsonObject) }
  }
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(value)) {
    if (DROP.has(k)) continue
    out[k] = NAMES.has(k) && isObject(v)
      ? Object.fromEntries(Object.entries(v).map(([name, s]) => [name, convert(s, components, used)]))
      : convert(v, components, used)
  }
  return out
}

/** The shared schemas: every component in `used` and every component those use, in openapi.json's order. */
function sharedSchemas (components: JsonObject, used: Set<string>): JsonObject[] {
  const converted = new Map<string, JsonObject>()
  for (let pending = [...used]; pending.length > 0; pending = [...used].filter((name) => !converted.has(name))) {
    for (const name of pending) {
      const schema = convert(components[name] as JsonObject, components, used) as JsonObject
      // A component that is only a $ref: its $id must not stand beside that $ref.
      converted.set(name, typeof schema.$ref === 'string' ? { allOf: [schema] } : schema)
    }
  }
  return Object.keys(components).filter((name) => converted.has(name)).map((name) => ({ $id: name, ...converted.get(name) }))
}

function parametersSchema (parameters: Parameter[], where: string, components: JsonObject, used: Set<string>): JsonObject | undefined {
  const own = parameters.filter((p) => p.in === where)
  if (own.length === 0) return undefined
  const properties: JsonObject = {}
  for (const p of own) properties[p.name] = convert({ ...p.schema, ...(p.description ? { description: p.description } : {}) }, components, used)
  const required = own.filter((p) => p.required).map((p) => p.name)
  return { type: 'object', properties, ...(required.length ? { required } : {}) }
}

/** The JSON media type of a request or response: application/json if offered, else the first ...+json one. */
export function jsonMediaType (content: Record<string, unknown> | undefined): string | undefined {
  if (!content) return undefined
  if ('application/json' in content) return 'application/json'
  return Object.keys(content).find((type) => /[/+]json$/.test(type))
}

function routeSchema (op: Operation, components: JsonObject, used: Set<string>): JsonObject {
  const schema: JsonObject = { operationId: op.operationId }
  if (op.tags?.length) schema.tags = op.tags
  const params = parametersSchema(op.parameters ?? [], 'path', components, used)
  const querystring = parametersSchema(op.parameters ?? [], 'query', components, used)
  if (params) schema.params = params
  if (querystring) schema.querystring = querystring
  const bodyType = jsonMediaType(op.requestBody?.content)
  const body = bodyType ? op.requestBody?.content[bodyType]?.schema : undefined
  if (body) schema.body = convert(body, components, used)
  const response: JsonObject = {}
  for (const [status, res] of Object.entries(op.responses)) {
    const type = jsonMediaType(res.content)
    const json = type ? res.content?.[type]?.schema : undefined
    if (json) response[status] = convert(json, components, used)
  }
  schema.response = response
  return schema
}

/** The TypeScript type of a JSON value, as far as its kind says. */
function tsType (value: Json): string {
  if (value === null) return 'null'
  return ['boolean', 'number', 'string'].includes(typeof value) ? typeof value : 'unknown'
}

/** JSON, indented for a place `indent` deep in the generated file. */
function literal (value: Json, indent: string): string {
  return JSON.stringify(value, null, 2).replace(/\n/g, `\n${indent}`)
}

async function generate (): Promise<Map<string, string>> {
  const doc = JSON.parse(readFileSync(path.join(root, 'openapi.json'), 'utf8')) as JsonObject
  const components = (isObject(doc.components) && isObject(doc.components.schemas)) ? doc.components.schemas : {}
  const { default: openapiTS, astToString } = await import('openapi-typescript')
  const types = astToString(await openapiTS(doc as never, { alphabetize: false }))

  const used = new Set<string>()
  const routes: string[] = []
  const routeTypes: string[] = []
  // The tags in the order openapi.json lists them, then any other an operation names.
  const extensionTypes = new Map<string, Set<string>>()
  const byTag = new Map<string, string[]>((Array.isArray(doc.tags) ? doc.tags : []).flatMap((t) => isObject(t) && typeof t.name === 'string' ? [[t.name, []]] : []))
  const seen = new Set<string>()
  for (const [url, item] of Object.entries(doc.paths as unknown as Record<string, Record<string, Operation>>)) {
    for (const method of METHODS) {
      const op = item[method]
      if (!op) continue
      if (seen.has(op.operationId)) throw new Error(`openapi.json: operationId ${op.operationId} is not unique`)
      seen.add(op.operationId)
      for (const tag of op.tags ?? []) byTag.set(tag, [...(byTag.get(tag) ?? []), op.operationId])
      // Fastify reads ":" as the start of a parameter; a literal one (Confluent's ".../records:batch") is "::".
      const fastifyUrl = url.replace(/:/g, '::').replace(/\{([^}]+)\}/g, ':$1')
      const extensions = Object.entries(op).filter(([k]) => k.startsWith('x-'))
      for (const [k, v] of extensions) extensionTypes.set(k, (extensionTypes.get(k) ?? new Set()).add(tsType(v)))
      const config = extensions.length ? `,\n    config: ${literal(Object.fromEntries(extensions) as JsonObject, '    ')}` : ''
      routes.push(`  ${op.operationId}: {\n    method: '${method.toUpperCase()}',\n    url: '${fastifyUrl}',\n    schema: ${literal(routeSchema(op, components, used), '    ')}${config}\n  }`)
      const statuses = Object.keys(op.responses)
      const reply = statuses.map((s) => {
        const type = jsonMediaType(op.responses[s]?.content)
        return `${s}: ${type ? `operations['${op.operationId}']['responses'][${s}]['content']['${type}']` : 'void'}`
      }).join('; ')
      const parts = [`Reply: { ${reply} }`]
      if ((op.parameters ?? []).some((p) => p.in === 'path')) parts.push(`Params: operations['${op.operationId}']['parameters']['path']`)
      if ((op.parameters ?? []).some((p) => p.in === 'query')) parts.push(`Querystring: NonNullable<operations['${op.operationId}']['parameters']['query']>`)
      const bodyType = jsonMediaType(op.requestBody?.content)
      if (bodyType) {
        const optional = op.requestBody?.required !== true
        const body = `NonNullable<operations['${op.operationId}']['requestBody']>['content']['${bodyType}']`
        parts.push(`Body: ${body}${optional ? ' | undefined' : ''}`)
      }
      routeTypes.push(`  ${op.operationId}: {\n    ${parts.join('\n    ')}\n  }`)
    }
  }
  const shared = sharedSchemas(components, used).map((schema) => `  ${literal(schema, '  ')}`)
  // Fastify types a route's config as FastifyContextConfig; the x- keys are declared there, so that they type-check.
  const contextConfig = extensionTypes.size === 0
    ? ''
    : `
declare module 'fastify' {
  /** The x- keys of openapi.json's operations, which their routes carry as config. */
  interface FastifyContextConfig {
${[...extensionTypes].map(([k, types]) => `    '${k}'?: ${types.has('unknown') ? 'unknown' : [...types].join(' | ')}`).join('\n')}
  }
}
`
  const tags = [...byTag].filter(([, ids]) => ids.length > 0).map(([tag, ids]) => `  '${tag}': ${ids.map((id) => `'${id}'`).join(' | ')}`)

  const header = '// Generated by scripts/generate.ts from openapi.json. Do not edit: run `npm run generate`.\n'
  const routesTs = `${header}/* eslint-disable */
import type { operations } from './openapi'

/**
 * The components of openapi.json that the route schemas use, each once, with \`$id: 'Name'\`: a route schema refers
 * to one as \`{ $ref: 'Name#' }\`. Every Ajv instance that compiles a route schema, and fastify.addSchema (for the
 * response serializer), must have them all.
 */
export const schemas = [
${shared.join(',\n')}
] as const

/**
 * Per operationId: the method, the Fastify URL, the route schema (with the operation's tags; components as $refs
 * to \`schemas\`) and, if the operation has x- keys, those as the route's config.
 */
export const routes = {
${routes.join(',\n')}
} as const

/** Per operationId: the Fastify route generic (Params, Querystring, Body, Reply by status) from openapi.json. */
export interface RouteTypes {
${routeTypes.join('\n')}
}

export type OperationId = keyof RouteTypes

/** Per tag of openapi.json: the operationIds of its operations. */
export interface OperationsByTag {
${tags.join('\n')}
}
${contextConfig}`
  return new Map([
    ['openapi.ts', `${header}/* eslint-disable */\n${types}`],
    ['routes.ts', routesTs]
  ])
}

async function main (): Promise<void> {
  const check = process.argv.includes('--check')
  const files = await generate()
  const stale: string[] = []
  if (!check) mkdirSync(outDir, { recursive: true })
  for (const [name, text] of files) {
    const file = path.join(outDir, name)
    const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined
    if (current === text) continue
    if (check) stale.push(`generated/${name}`)
    else writeFileSync(file, text)
  }
  if (stale.length) {
    console.error(`generate: ${stale.join(', ')} not what openapi.json makes: run \`npm run generate\` and commit`)
    process.exit(1)
  }
  console.log(check ? 'generate: generated/ is up to date' : 'generate: generated/ written from openapi.json')
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
