// openapi.json -> generated/: the only writer of that folder.
//   generated/openapi.ts  the types of every path, operation and schema (openapi-typescript)
//   generated/routes.ts   per operationId: method, Fastify URL and the JSON schemas of params, querystring, body
//                         and responses (every $ref inlined), plus the Fastify route generic that types its handler
// `--check` writes nothing and fails when generated/ is not what openapi.json makes (CI runs it).
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs'
import path from 'node:path'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

interface Parameter { name: string, in: string, required?: boolean, description?: string, schema: JsonObject }
interface Operation {
  operationId: string
  parameters?: Parameter[]
  requestBody?: { required?: boolean, content: Record<string, { schema: JsonObject }> }
  responses: Record<string, { content?: Record<string, { schema: JsonObject }> }>
}

const root = path.resolve(__dirname, '..')
const outDir = path.join(root, 'generated')
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const
// Keywords of OpenAPI that are annotations only; Ajv's strict mode would reject them in a route schema.
const DROP = new Set(['example', 'examples', 'xml', 'externalDocs', 'deprecated', 'discriminator'])

function isObject (value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function inline (value: Json, components: JsonObject): Json {
  if (Array.isArray(value)) return value.map((v) => inline(v, components))
  if (!isObject(value)) return value
  const ref = value.$ref
  if (typeof ref === 'string') {
    const name = ref.replace('#/components/schemas/', '')
    const target = components[name]
    if (!isObject(target)) throw new Error(`openapi.json: unresolved $ref ${ref}`)
    return inline(target, components)
  }
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(value)) if (!DROP.has(k)) out[k] = inline(v, components)
  return out
}

function parametersSchema (parameters: Parameter[], where: string, components: JsonObject): JsonObject | undefined {
  const own = parameters.filter((p) => p.in === where)
  if (own.length === 0) return undefined
  const properties: JsonObject = {}
  for (const p of own) properties[p.name] = inline({ ...p.schema, ...(p.description ? { description: p.description } : {}) }, components)
  const required = own.filter((p) => p.required).map((p) => p.name)
  return { type: 'object', properties, ...(required.length ? { required } : {}) }
}

/** The JSON media type of a request or response: application/json if offered, else the first ...+json one. */
export function jsonMediaType (content: Record<string, unknown> | undefined): string | undefined {
  if (!content) return undefined
  if ('application/json' in content) return 'application/json'
  return Object.keys(content).find((type) => /[/+]json$/.test(type))
}

function routeSchema (op: Operation, components: JsonObject): JsonObject {
  const schema: JsonObject = { operationId: op.operationId }
  const params = parametersSchema(op.parameters ?? [], 'path', components)
  const querystring = parametersSchema(op.parameters ?? [], 'query', components)
  if (params) schema.params = params
  if (querystring) schema.querystring = querystring
  const bodyType = jsonMediaType(op.requestBody?.content)
  const body = bodyType ? op.requestBody?.content[bodyType]?.schema : undefined
  if (body) schema.body = inline(body, components)
  const response: JsonObject = {}
  for (const [status, res] of Object.entries(op.responses)) {
    const type = jsonMediaType(res.content)
    const json = type ? res.content?.[type]?.schema : undefined
    if (json) response[status] = inline(json, components)
  }
  schema.response = response
  return schema
}

async function generate (): Promise<Map<string, string>> {
  const doc = JSON.parse(readFileSync(path.join(root, 'openapi.json'), 'utf8')) as JsonObject
  const components = (isObject(doc.components) && isObject(doc.components.schemas)) ? doc.components.schemas : {}
  const { default: openapiTS, astToString } = await import('openapi-typescript')
  const types = astToString(await openapiTS(doc as never, { alphabetize: false }))

  const routes: string[] = []
  const routeTypes: string[] = []
  const seen = new Set<string>()
  for (const [url, item] of Object.entries(doc.paths as unknown as Record<string, Record<string, Operation>>)) {
    for (const method of METHODS) {
      const op = item[method]
      if (!op) continue
      if (seen.has(op.operationId)) throw new Error(`openapi.json: operationId ${op.operationId} is not unique`)
      seen.add(op.operationId)
      // Fastify reads ":" as the start of a parameter; a literal one (Confluent's ".../records:batch") is "::".
      const fastifyUrl = url.replace(/:/g, '::').replace(/\{([^}]+)\}/g, ':$1')
      routes.push(`  ${op.operationId}: {\n    method: '${method.toUpperCase()}',\n    url: '${fastifyUrl}',\n    schema: ${JSON.stringify(routeSchema(op, components), null, 2).replace(/\n/g, '\n    ')}\n  }`)
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

  const header = '// Generated by scripts/generate.ts from openapi.json. Do not edit: run `npm run generate`.\n'
  const routesTs = `${header}/* eslint-disable */
import type { operations } from './openapi'

/** Per operationId: the method, the Fastify URL and the route schema, every $ref of openapi.json inlined. */
export const routes = {
${routes.join(',\n')}
} as const

/** Per operationId: the Fastify route generic (Params, Querystring, Body, Reply by status) from openapi.json. */
export interface RouteTypes {
${routeTypes.join('\n')}
}

export type OperationId = keyof RouteTypes
`
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
