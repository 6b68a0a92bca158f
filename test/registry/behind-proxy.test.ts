// The run's real Schema Registry behind a real nginx, as a registry is often deployed (behind an ingress). The
// registry's credentials (SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD, HTTP Basic), with an nginx that asks
// for them: with them, avro records are produced and read back (a registration and a lookup by id, both through the
// proxy); without them or with a wrong password, 502 (50002) saying the registry refused the service's credentials
// and naming the setting, and nothing is produced. And a registry that is down behind the proxy (nginx answers 502):
// 503 with Retry-After, as a registry that cannot be reached at all.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { build } from '../helper'
import { createTopic, uniqueName } from '../kafka'
import { nginxSkip, startNginx } from '../nginx'

const V2 = 'application/vnd.kafka.v2+json'
const AVRO = 'application/vnd.kafka.avro.v2+json'
const url = process.env.SCHEMA_REGISTRY_URL
const skip = url === undefined
  ? 'no schema registry in this run (SCHEMA_REGISTRY_URL is unset: scripts/run-tests.ts starts one with scripts/schema-registry)'
  : nginxSkip
const USER = 'kosha-registry'
const PASSWORD = 'S3cret-registry'
const SCHEMA = JSON.stringify({ type: 'record', name: 'Payment', namespace: 'kosha.test', fields: [{ name: 'id', type: 'int' }, { name: 'amount', type: 'double' }] })

/**
 * The registry's URL through an nginx: one that lets only USER:PASSWORD by (nginx's own 401 for anything else), or
 * with `down`, one whose upstream is a closed port (nginx's own 502, as an ingress answers for a registry that is down).
 */
async function proxiedRegistry (t: Test, options: { down?: boolean } = {}): Promise<string> {
  const registry = new URL(url ?? '')
  const nginx = await startNginx(t, {
    server: options.down === true
      ? ['location / {', '  proxy_pass http://127.0.0.1:9;', '}']
      : [
          'location / {',
          '  auth_basic "schema registry";',
          '  auth_basic_user_file users;',
          `  proxy_pass ${registry.origin};`,
          '}'
        ]
  })
  // nginx reads the file when a request comes, from its prefix directory; {PLAIN} is its scheme for a clear password.
  writeFileSync(path.join(nginx.dir, 'users'), `${USER}:{PLAIN}${PASSWORD}\n`, { mode: 0o644 })
  return `http://127.0.0.1:${nginx.port}${registry.pathname}`
}

async function app (t: Test, registryUrl: string, credentials?: { username: string, password: string }): Promise<FastifyInstance> {
  return await build(t, {
    env: {
      SCHEMA_REGISTRY_URL: registryUrl,
      ...(credentials !== undefined ? { SCHEMA_REGISTRY_USERNAME: credentials.username, SCHEMA_REGISTRY_PASSWORD: credentials.password } : {})
    }
  })
}

const produce = async (api: FastifyInstance, topic: string, body: object): Promise<LightMyRequestResponse> =>
  await api.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': AVRO }, payload: body })

t.test('with the registry\'s credentials, avro records are produced and read back through a registry that asks for them', { skip }, async (t) => {
  const registryUrl = await proxiedRegistry(t)
  const anonymous = await fetch(`${registryUrl}/subjects`)
  t.equal(anonymous.status, 401, 'the proxy refuses a request without credentials')
  const api = await app(t, registryUrl, { username: USER, password: PASSWORD })
  const topic = await createTopic(t, { prefix: 'avro-credentials' })
  const sent = await produce(api, topic, { value_schema: SCHEMA, records: [{ value: { id: 1, amount: 9.5 } }, { value: { id: 2, amount: 0.25 } }] })
  t.equal(sent.statusCode, 200, sent.body)
  t.type(sent.json().value_schema_id, 'number')
  // A second service: it has never seen the schema id, so reading asks the registry for it, with the credentials.
  const reader = await app(t, registryUrl, { username: USER, password: PASSWORD })
  const group = uniqueName('credentials')
  const created = await reader.inject({ method: 'POST', url: `/consumers/${group}`, headers: { 'content-type': V2 }, payload: { format: 'avro', 'auto.offset.reset': 'earliest' } })
  t.equal(created.statusCode, 200, created.body)
  const base = `/consumers/${group}/instances/${created.json().instance_id as string}`
  await reader.inject({ method: 'POST', url: `${base}/subscription`, headers: { 'content-type': V2 }, payload: { topics: [topic] } })
  const got: Array<{ value: unknown }> = []
  const deadline = Date.now() + 20_000
  while (got.length < 2 && Date.now() < deadline) {
    const res = await reader.inject({ method: 'GET', url: `${base}/records?timeout=2000`, headers: { accept: AVRO } })
    t.equal(res.statusCode, 200, res.body)
    if (res.statusCode !== 200) break
    got.push(...res.json() as typeof got)
  }
  t.same(got.map((r) => r.value), [{ id: 1, amount: 9.5 }, { id: 2, amount: 0.25 }])
})

t.test('a wrong password or none: 502 (50002) saying the registry refused the credentials, and nothing is produced', { skip }, async (t) => {
  const registryUrl = await proxiedRegistry(t)
  const topic = await createTopic(t, { prefix: 'avro-refused' })
  for (const [what, credentials] of [['a wrong password', { username: USER, password: 'not-it' }], ['no credentials', undefined]] as const) {
    const api = await app(t, registryUrl, credentials)
    const res = await produce(api, topic, { value_schema: SCHEMA, records: [{ value: { id: 1, amount: 1 } }] })
    t.equal(res.statusCode, 502, `${what}: ${res.body}`)
    t.match(res.json(), { error_code: 50002, message: /refused this service's credentials \(401, SCHEMA_REGISTRY_USERNAME\)/ }, what)
    // A schema given by id is looked up, and refused the same way.
    const byId = await produce(api, topic, { value_schema_id: 1, records: [{ value: { id: 1, amount: 1 } }] })
    t.equal(byId.statusCode, 502, `${what}, a schema id: ${byId.body}`)
    t.equal(byId.json().error_code, 50002)
    const offsets = await api.inject({ method: 'GET', url: `/topics/${topic}/partitions/0/offsets` })
    t.equal(offsets.json().end_offset, 0, `${what}: nothing was produced`)
  }
})

t.test('a registry that is down behind its proxy (the proxy answers 502): 503 with Retry-After and 50002, and nothing is produced', { skip }, async (t) => {
  const registryUrl = await proxiedRegistry(t, { down: true })
  t.equal((await fetch(`${registryUrl}/subjects`)).status, 502, 'the proxy answers 502 for the registry')
  const api = await app(t, registryUrl)
  const topic = await createTopic(t, { prefix: 'avro-proxy-down' })
  const res = await produce(api, topic, { value_schema: SCHEMA, records: [{ value: { id: 1, amount: 1 } }] })
  t.equal(res.statusCode, 503, res.body)
  t.equal(res.headers['retry-after'], '5')
  t.match(res.json(), { error_code: 50002, message: /schema registry is unavailable \(502, from it or a proxy in front of it\) while registering a schema/ })
  const offsets = await api.inject({ method: 'GET', url: `/topics/${topic}/partitions/0/offsets` })
  t.equal(offsets.json().end_offset, 0, 'nothing was produced')
})
