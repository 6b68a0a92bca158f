// KAFKA_IDENTITY=caller: each caller acts on Kafka as itself. HTTP Basic credentials become the caller's SASL login
// (SCRAM-SHA-512 here), a Bearer token its OAUTHBEARER token, and Kafka's ACLs decide what it may do. Two users of
// the test broker: kosha, whose ACLs allow everything, and noacl, which holds none until a test grants it some; admin
// is a super user. Consumers and streams belong to the caller that created them. The callers' clients are bounded
// (IDENTITY_CACHE_MAX), closed when idle (IDENTITY_IDLE_MS) and before a token expires.
import t, { type Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { build } from '../helper'
import { USERS, clusterId, createTopic, saslBootstrap, uniqueName, type SaslUser } from '../kafka'
import { kcatConsume } from '../kcat'

const SKIP = saslBootstrap() === undefined ? 'the cluster has no SASL listener (KAFKA_SASL_BOOTSTRAP)' : false
const OAUTH_SKIP = SKIP || (process.env.KAFKA_SASL_OAUTHBEARER === 'unsecured' ? false : 'the cluster takes no unsecured OAUTHBEARER tokens (KAFKA_SASL_OAUTHBEARER)')
const V2 = 'application/vnd.kafka.v2+json'
const V2_JSON = 'application/vnd.kafka.json.v2+json'

const basic = (u: SaslUser): string => `Basic ${Buffer.from(`${u.username}:${u.password}`).toString('base64')}`
/** An unsecured JWT ({"alg":"none"}), as Kafka's unsecured OAUTHBEARER validator takes it: its sub is the user. */
function token (sub: string, lifetimeSeconds = 3600): string {
  const now = Math.floor(Date.now() / 1000)
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${part({ alg: 'none' })}.${part({ sub, iat: now, exp: now + lifetimeSeconds })}.`
}

async function callerApp (t: Test, env: Record<string, string> = {}, logs?: string[]): Promise<FastifyInstance> {
  return await build(t, {
    env: { BROKER_ADDRESS: saslBootstrap() ?? '', USERNAME: USERS.test.username, PASSWORD: USERS.test.password, SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_IDENTITY: 'caller', ...env },
    ...(logs ? { logs } : {})
  })
}

type Call = (method: string, url: string, auth: string | undefined, payload?: object, type?: string) => Promise<LightMyRequestResponse>
const caller = (app: FastifyInstance): Call => async (method, url, auth, payload, type) => await app.inject({
  method: method as 'GET',
  url,
  headers: { ...(auth !== undefined ? { authorization: auth } : {}), ...(payload !== undefined ? { 'content-type': type ?? 'application/json' } : {}) },
  ...(payload !== undefined ? { payload } : {})
})

/** Retries `attempt` until `done` holds (Kafka's ACL changes reach its authorizer within a moment), up to 15 s. */
async function eventually (attempt: () => Promise<LightMyRequestResponse>, done: (r: LightMyRequestResponse) => boolean): Promise<LightMyRequestResponse> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const r = await attempt()
    if (done(r) || Date.now() > deadline) return r
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
}

t.test('credentials are required, and Kafka checks them: none or wrong ones are a 401 naming both schemes', { skip: SKIP }, async (t) => {
  const app = await callerApp(t)
  const call = caller(app)
  const none = await call('GET', '/topics', undefined)
  t.equal(none.statusCode, 401, 'no credentials: 401')
  t.match(none.headers['www-authenticate'], /Basic realm="kosha".*Bearer realm="kosha"/)
  t.match(none.json(), { error_code: 40101, message: /Kafka credentials/ }, 'in Confluent\'s envelope on a v2 path')
  t.equal((await call('GET', '/healthz', undefined)).statusCode, 200, 'liveness stays open')
  t.equal((await call('GET', '/readyz', undefined)).statusCode, 200, 'readiness too: the service\'s own login is fine')
  const wrong = await call('GET', '/topics', basic({ username: USERS.test.username, password: 'not-the-password' }))
  t.equal(wrong.statusCode, 401, 'a password Kafka refuses: 401, not the 503 of a service whose own login fails')
  t.match(wrong.json(), { error_code: 40101, message: /Kafka refused the credentials of User:kosha/ })
  const v1 = await call('GET', `/api/v1/getMetadata/${uniqueName('any')}`, basic({ username: 'nobody', password: 'x' }))
  t.equal(v1.statusCode, 401, 'a user Kafka does not know: 401')
  t.match(v1.json(), { code: 'KOSHA_UNAUTHORIZED', message: /Kafka refused the credentials of User:nobody/ }, 'in the Kosha shape on v1')
  t.equal((await call('GET', '/topics', basic(USERS.test))).statusCode, 200, 'the right password: served')
})

t.test('each caller sees and does exactly what its ACLs allow', { skip: SKIP }, async (t) => {
  const app = await callerApp(t)
  const call = caller(app)
  const id = await clusterId(t)
  const topic = await createTopic(t, { prefix: 'identity' })
  const other = await createTopic(t, { prefix: 'identity-other' })

  const produced = await call('POST', `/topics/${topic}`, basic(USERS.test), { records: [{ value: { n: 1 } }] }, V2_JSON)
  t.equal(produced.statusCode, 200, 'kosha (allowed everything) produces')
  const listed = (await call('GET', `/v3/clusters/${id}/topics`, basic(USERS.test))).json() as { data: Array<{ topic_name: string }> }
  t.ok(listed.data.some((d) => d.topic_name === topic) && listed.data.some((d) => d.topic_name === other), 'and sees both topics')

  const denied = await call('POST', `/topics/${topic}`, basic(USERS.noAcl), { records: [{ value: { n: 2 } }] }, V2_JSON)
  t.equal(denied.statusCode, 403, 'noacl (no ACL) may not produce: 403')
  t.match(denied.json(), { error_code: 40301 })
  const noneListed = (await call('GET', `/v3/clusters/${id}/topics`, basic(USERS.noAcl))).json() as { data: Array<{ topic_name: string }> }
  t.notOk(noneListed.data.some((d) => d.topic_name === topic || d.topic_name === other), 'and sees neither topic in the list')
  const create = await call('POST', `/v3/clusters/${id}/topics`, basic(USERS.noAcl), { topic_name: uniqueName('identity-denied') })
  t.equal(create.statusCode, 403, 'nor create one')

  // admin (a super user) grants noacl reading one topic, through this API, as itself.
  for (const operation of ['READ', 'DESCRIBE']) {
    const grant = await call('POST', `/v3/clusters/${id}/acls`, basic(USERS.admin), {
      resource_type: 'TOPIC', resource_name: topic, pattern_type: 'LITERAL', principal: 'User:noacl', host: '*', operation, permission: 'ALLOW'
    })
    t.equal(grant.statusCode, 201, `admin grants ${operation}`)
  }
  t.teardown(async () => {
    await call('DELETE', `/v3/clusters/${id}/acls?resource_type=TOPIC&resource_name=${topic}&pattern_type=LITERAL&principal=User%3Anoacl&host=*&operation=ANY&permission=ALLOW`, basic(USERS.admin))
  })
  const seen = await eventually(async () => await call('GET', `/v3/clusters/${id}/topics/${topic}`, basic(USERS.noAcl)), (r) => r.statusCode === 200)
  t.equal(seen.statusCode, 200, 'noacl now sees the topic it may read')
  const read = await eventually(async () => await call('GET', `/api/v1/topics/${topic}/partitions/0/records?offset=earliest&limit=10`, basic(USERS.noAcl)), (r) => r.statusCode === 200)
  t.equal(read.statusCode, 200, 'and reads it')
  t.same((read.json() as { records: Array<{ value: unknown }> }).records.map((r) => r.value), [{ n: 1 }], 'the record kosha produced')
  t.notOk(((await call('GET', `/v3/clusters/${id}/topics`, basic(USERS.noAcl))).json() as { data: Array<{ topic_name: string }> }).data.some((d) => d.topic_name === other),
    'still not the other topic')
  const write = await call('POST', `/topics/${topic}`, basic(USERS.noAcl), { records: [{ value: 3 }] }, V2_JSON)
  t.equal(write.statusCode, 403, 'nor may it write')
  t.match(write.json(), { error_code: 40301 }, 'denied by its ACLs')
  t.same((await kcatConsume(topic, 1)).map((r) => r.payload), ['{"n":1}'], 'Kafka holds only what the allowed caller produced')
})

t.test('a consumer belongs to the caller that created it: another caller gets 404, never its records', { skip: SKIP }, async (t) => {
  const app = await callerApp(t)
  const call = caller(app)
  const topic = await createTopic(t, { prefix: 'identity-consumer' })
  await call('POST', `/topics/${topic}`, basic(USERS.test), { records: [{ value: 'secret' }] }, V2_JSON)
  const group = uniqueName('identity-g')
  const created = await call('POST', `/consumers/${group}`, basic(USERS.test), { name: 'mine', format: 'json', 'auto.offset.reset': 'earliest' }, V2)
  t.equal(created.statusCode, 200, 'kosha creates an instance')
  const base = `/consumers/${group}/instances/mine`
  t.equal((await call('POST', `${base}/subscription`, basic(USERS.test), { topics: [topic] }, V2)).statusCode, 204)
  for (const [who, user] of [['admin, a super user', USERS.admin], ['noacl', USERS.noAcl]] as const) {
    const records = await call('GET', `${base}/records?timeout=2000`, basic(user))
    t.equal(records.statusCode, 404, `${who}: 404 for kosha's instance`)
    t.match(records.json(), { error_code: 40403 })
    t.equal((await call('DELETE', base, basic(user))).statusCode, 404, `${who} cannot delete it`)
  }
  const mine = await eventually(async () => await call('GET', `${base}/records?timeout=3000`, basic(USERS.test)), (r) => r.statusCode === 200 && r.body !== '[]')
  t.same((mine.json() as Array<{ value: unknown }>).map((r) => r.value), ['secret'], 'its creator reads its records')
  t.equal((await call('DELETE', base, basic(USERS.test))).statusCode, 204, 'and deletes it')

  // A v1 consumer the same way.
  const v1 = await call('POST', '/api/v1/consumers', basic(USERS.test), { name: uniqueName('identity-v1'), offset: 'earliest' })
  t.equal(v1.statusCode, 200)
  const name = (v1.json() as { name: string }).name
  t.equal((await call('DELETE', `/api/v1/consumers/${name}`, basic(USERS.noAcl))).statusCode, 404, 'another caller\'s v1 consumer: 404')
  t.equal((await call('DELETE', `/api/v1/consumers/${name}`, basic(USERS.test))).statusCode, 200, 'its own: deleted')
})

t.test('a Bearer token is the caller\'s OAUTHBEARER login: its sub is the user; an expired token is a 401', { skip: OAUTH_SKIP }, async (t) => {
  const app = await callerApp(t)
  const call = caller(app)
  const topic = await createTopic(t, { prefix: 'identity-oauth' })
  const ok = await call('POST', `/topics/${topic}`, `Bearer ${token('kosha')}`, { records: [{ value: 'by token' }] }, V2_JSON)
  t.equal(ok.statusCode, 200, 'a token for kosha produces')
  const denied = await call('POST', `/topics/${topic}`, `Bearer ${token('noacl')}`, { records: [{ value: 'denied' }] }, V2_JSON)
  t.equal(denied.statusCode, 403, 'a token for noacl is denied by its ACLs')
  const expired = await call('GET', '/topics', `Bearer ${token('kosha', -60)}`)
  t.equal(expired.statusCode, 401, 'an expired token: 401')
  t.match(expired.json(), { error_code: 40101, message: /expired/ })
  t.same((await kcatConsume(topic, 1)).map((r) => r.payload), ['"by token"'])
})

t.test('the callers\' clients are bounded: least recently used out past IDENTITY_CACHE_MAX, idle ones closed, a token\'s before it expires', { skip: OAUTH_SKIP }, async (t) => {
  const logs: string[] = []
  const app = await callerApp(t, { IDENTITY_CACHE_MAX: '1', IDENTITY_IDLE_MS: '2000' }, logs)
  const call = caller(app)
  const closings = (why: RegExp): number => logs.filter((l) => l.includes('closing a caller\'s Kafka clients') && why.test(l)).length
  t.equal((await call('GET', '/topics', basic(USERS.test))).statusCode, 200)
  t.equal((await call('GET', '/topics', basic(USERS.admin))).statusCode, 200, 'a second caller, with room for one')
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal(closings(/least recently used/), 1, 'the first caller\'s clients were closed')
  t.equal((await call('GET', '/topics', basic(USERS.test))).statusCode, 200, 'and it is served again, on new ones')
  await new Promise((resolve) => setTimeout(resolve, 3500))
  t.ok(closings(/idle/) >= 1, 'unused for IDENTITY_IDLE_MS: closed')

  const shortLived = token('kosha', 5)
  // Used every 800 ms, so that it is never idle: what closes its clients is its expiry.
  for (let i = 0; i < 4; i++) {
    t.equal((await call('GET', '/topics', `Bearer ${shortLived}`)).statusCode, 200, `a token valid for 5 s at most is served (${i})`)
    await new Promise((resolve) => setTimeout(resolve, 800))
  }
  await new Promise((resolve) => setTimeout(resolve, 2500))
  t.ok(closings(/token expires/) >= 1, 'its clients were closed before it expired')
  t.equal((await call('GET', '/topics', `Bearer ${shortLived}`)).statusCode, 401, 'and once expired it is refused')
})
