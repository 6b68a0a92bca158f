// generated/routes.ts as scripts/generate.ts makes it: openapi.json's components once each (`schemas`, $id 'Name'),
// route schemas that refer to them as { $ref: 'Name#' } and mean exactly what openapi.json says, tags and x- keys.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import Ajv from 'ajv'
import t from 'tap'
import { routes, schemas, type OperationId, type OperationsByTag } from '../../generated/routes'

type Node = null | boolean | number | string | Node[] | { [key: string]: Node }
type NodeObject = { [key: string]: Node }
interface Operation { operationId: string, tags?: string[], [key: string]: Node | undefined }

const root = path.join(__dirname, '..', '..')
const openapi = JSON.parse(readFileSync(path.join(root, 'openapi.json'), 'utf8')) as {
  tags: Array<{ name: string }>, paths: Record<string, Record<string, Operation>>, components: { schemas: NodeObject }
}
const generatedText = readFileSync(path.join(root, 'generated', 'routes.ts'), 'utf8')
const operations = Object.values(openapi.paths).flatMap((item) => Object.values(item).filter((op) => typeof op.operationId === 'string'))
const shared = new Map<string, NodeObject>(schemas.map((s) => [s.$id, s as unknown as NodeObject]))
const DROP = new Set(['example', 'examples', 'xml', 'externalDocs', 'deprecated', 'discriminator'])

const isObject = (v: Node | undefined): v is NodeObject => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Every $ref in a schema. */
function refs (value: Node, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refs(v, out)
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) { if (k === '$ref' && typeof v === 'string') out.push(v); else refs(v, out) }
  return out
}

/** A generated schema with every $ref replaced by the shared schema it names (without its $id). */
function resolveGenerated (value: Node): Node {
  if (Array.isArray(value)) return value.map(resolveGenerated)
  if (!isObject(value)) return value
  if (typeof value.$ref === 'string') {
    const { $id, ...target } = shared.get(value.$ref.replace(/#$/, '')) ?? {}
    return resolveGenerated(target)
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveGenerated(v)]))
}

/** An openapi.json schema with every component inlined and the annotations Ajv's strict mode refuses removed. */
function resolveOpenapi (value: Node): Node {
  if (Array.isArray(value)) return value.map(resolveOpenapi)
  if (!isObject(value)) return value
  if (typeof value.$ref === 'string') return resolveOpenapi(openapi.components.schemas[value.$ref.replace('#/components/schemas/', '')] ?? null)
  return Object.fromEntries(Object.entries(value).filter(([k]) => !DROP.has(k)).map(([k, v]) => [k, resolveOpenapi(v)]))
}

t.test('each component is emitted once, with its name as $id; the error schema is not copied', async (t) => {
  t.equal(new Set(schemas.map((s) => s.$id)).size, schemas.length, 'no $id twice')
  for (const s of schemas) t.ok(s.$id in openapi.components.schemas, `${s.$id} is a component of openapi.json`)
  t.equal(schemas.filter((s) => s.$id === 'Error').length, 1)
  const errorDescription = JSON.stringify(openapi.components.schemas.Error && (openapi.components.schemas.Error as NodeObject).description)
  t.equal(generatedText.split(errorDescription).length - 1, 1, 'the error schema\'s text is in generated/routes.ts once')
  t.notOk(generatedText.includes('#/components/schemas/'), 'no reference to openapi.json is left')
})

t.test('every $ref resolves to an exported schema, and every exported schema is used by a route', async (t) => {
  const reachable = new Set<string>()
  const pending = Object.values(routes).flatMap((r) => refs(r.schema as unknown as Node))
  for (let ref = pending.pop(); ref !== undefined; ref = pending.pop()) {
    t.match(ref, /^[A-Za-z0-9_]+#$/, `${ref} names a shared schema`)
    const name = ref.replace(/#$/, '')
    const target = shared.get(name)
    if (!target) { t.fail(`${ref} resolves to no schema in \`schemas\``); continue }
    if (!reachable.has(name)) { reachable.add(name); pending.push(...refs(target)) }
  }
  t.same([...shared.keys()].filter((name) => !reachable.has(name)), [], 'no schema is exported that no route uses')
})

t.test('each route schema means what openapi.json says, with the components resolved', async (t) => {
  for (const op of operations) {
    const route = routes[op.operationId as OperationId]
    const { body, response } = route.schema as unknown as { body?: Node, response: Record<string, Node> }
    const requestBody = op.requestBody as { content: Record<string, { schema: Node }> } | undefined
    const declaredBody = requestBody && Object.entries(requestBody.content).find(([type]) => /[/+]json$/.test(type))?.[1].schema
    if (declaredBody !== undefined || body !== undefined) t.same(resolveGenerated(body ?? null), resolveOpenapi(declaredBody ?? null), `${op.operationId} body`)
    for (const [status, res] of Object.entries(op.responses as Record<string, { content?: Record<string, { schema: Node }> }>)) {
      const declared = res.content && Object.entries(res.content).find(([type]) => /[/+]json$/.test(type))?.[1].schema
      if (declared !== undefined) t.same(resolveGenerated(response[status] ?? null), resolveOpenapi(declared), `${op.operationId} ${status}`)
    }
  }
})

t.test('tags are copied into the route schema, x- keys into the route config', async (t) => {
  for (const op of operations) {
    const route = routes[op.operationId as OperationId] as { schema: { tags?: readonly string[] }, config?: Record<string, unknown> }
    t.same(route.schema.tags, op.tags, `${op.operationId} tags`)
    const extensions = Object.fromEntries(Object.entries(op).filter(([k]) => k.startsWith('x-')))
    if (Object.keys(extensions).length === 0) t.equal(route.config, undefined, `${op.operationId} has no config`)
    else t.same(route.config, extensions, `${op.operationId} config`)
  }
  t.ok(operations.some((op) => 'x-kosha-extension' in op), 'openapi.json has an x- key to carry')
})

t.test('OperationsByTag lists each tag\'s operations', async (t) => {
  // At compile time: every operation is under some tag, and every tag's members are operations.
  type Tagged = OperationsByTag[keyof OperationsByTag]
  const everyOperationTagged: [OperationId] extends [Tagged] ? true : false = true
  const everyTaggedAnOperation: [Tagged] extends [OperationId] ? true : false = true
  t.ok(everyOperationTagged && everyTaggedAnOperation)
  const block = /export interface OperationsByTag \{\n([\s\S]*?)\n\}/.exec(generatedText)?.[1] ?? ''
  const listed = Object.fromEntries(block.split('\n').map((line) => {
    const [, tag = '', ids = ''] = /^ {2}'([^']+)': (.*)$/.exec(line) ?? []
    return [tag, ids.split(' | ').map((id) => id.replace(/'/g, '')).sort()]
  }))
  const expected = Object.fromEntries(openapi.tags.map(({ name }) => [name, operations.filter((op) => op.tags?.includes(name)).map((op) => op.operationId).sort()]))
  t.same(listed, expected)
})

t.test('through a $ref, a pattern failure still reports the description beside the pattern', async (t) => {
  const ajv = new Ajv({ allErrors: false, allowUnionTypes: true, verbose: true, coerceTypes: false }).addSchema([...schemas])
  const body = routes.createTopic.schema.body as unknown as NodeObject
  t.match(body, { $ref: /#$/ }, 'the body is a $ref')
  const validate = ajv.compile(body)
  t.notOk(validate({ topic: '..' }))
  const error = validate.errors?.[0]
  t.equal(error?.keyword, 'pattern')
  t.match((error?.parentSchema as { description?: string } | undefined)?.description, /^Topic name/)
})
