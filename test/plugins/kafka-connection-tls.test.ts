// The service over TLS to the broker, configured like a deployment: SASL_SSL with SCRAM-SHA-512 and with PLAIN, mTLS
// with a client certificate, and the failures an operator meets first (a CA that did not sign the brokers'
// certificates, a broker that requires a client certificate the service lacks). Each mode is one service; its calls
// go through both Kafka clients (librdkafka: produce, consume, create topics; @platformatic/kafka: readiness, the
// cluster, configs), and kcat reads back, over the same TLS listener, what the service wrote.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../helper'
import { USERS, adminClient, tlsListeners, TLS_SKIP, uniqueName, type Mechanism } from '../kafka'
import { kcatConsume, type KcatOptions } from '../kcat'

const tls = tlsListeners()
const needsTls = { skip: tls ? false : TLS_SKIP }
const V2 = 'application/vnd.kafka.v2+json'
const JSONV2 = 'application/vnd.kafka.json.v2+json'

/** Readiness, a v3 topic with its configs, a v2 and a v1 produce, a v2 consumer, and kcat's own read. */
async function roundTrip (t: Test, app: FastifyInstance, kcat: KcatOptions, label: string): Promise<void> {
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 200, `ready (${ready.body})`)
  const clusters = await app.inject({ method: 'GET', url: '/v3/clusters' })
  t.equal(clusters.statusCode, 200, 'v3: the cluster')
  const cluster = clusters.json().data[0].cluster_id as string

  const topic = uniqueName('tls')
  const admin = await adminClient(t)
  t.teardown(() => admin.deleteTopics({ topics: [topic] }).catch(() => undefined))
  const created = await app.inject({ method: 'POST', url: `/v3/clusters/${cluster}/topics`, payload: { topic_name: topic, partitions_count: 1 } })
  t.equal(created.statusCode, 201, `v3: topic created (${created.body})`)
  const configs = await app.inject({ method: 'GET', url: `/v3/clusters/${cluster}/topics/${topic}/configs` })
  t.equal(configs.statusCode, 200, 'v3: its configs (DescribeConfigs)')
  t.ok(configs.json().data.some((c: { name: string }) => c.name === 'cleanup.policy'), 'with cleanup.policy among them')

  const v2 = await app.inject({ method: 'POST', url: `/topics/${topic}`, headers: { 'content-type': JSONV2 }, payload: { records: [{ key: 'k', value: { via: label, api: 'v2' } }] } })
  t.equal(v2.statusCode, 200, `v2: produced (${v2.body})`)
  t.match(v2.json().offsets, [{ partition: 0, offset: 0 }])
  const v1 = await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}`, payload: { via: label, api: 'v1' } })
  t.equal(v1.statusCode, 200, `v1: produced (${v1.body})`)
  t.match(v1.json(), { partition: 0, offset: 1 })

  const read = await kcatConsume(topic, 2, kcat)
  t.same(read.map((r) => JSON.parse(r.payload ?? 'null')), [{ via: label, api: 'v2' }, { via: label, api: 'v1' }], 'kcat reads both records over the same listener')
  t.equal(read[0]?.key, '"k"', 'with the key (JSON, as v2 json produced it)')

  const group = uniqueName('tls-g')
  const consumer = await app.inject({ method: 'POST', url: `/consumers/${group}`, headers: { 'content-type': V2 }, payload: { format: 'json', 'auto.offset.reset': 'earliest' } })
  t.equal(consumer.statusCode, 200, 'v2: consumer created')
  const base = `/consumers/${group}/instances/${consumer.json().instance_id as string}`
  t.equal((await app.inject({ method: 'POST', url: `${base}/subscription`, headers: { 'content-type': V2 }, payload: { topics: [topic] } })).statusCode, 204, 'subscribed')
  const records = await app.inject({ method: 'GET', url: `${base}/records?timeout=15000`, headers: { accept: JSONV2 } })
  t.equal(records.statusCode, 200, 'v2: records')
  t.same(records.json().map((r: { value: unknown }) => r.value), [{ via: label, api: 'v2' }, { via: label, api: 'v1' }], 'the consumer reads both, in order')
  t.equal((await app.inject({ method: 'DELETE', url: base })).statusCode, 204, 'consumer deleted')
  t.equal((await app.inject({ method: 'DELETE', url: `/v3/clusters/${cluster}/topics/${topic}` })).statusCode, 204, 'v3: topic deleted')
}

for (const mechanism of ['SCRAM-SHA-512', 'PLAIN'] as Mechanism[]) {
  t.test(`SASL_SSL with ${mechanism}: KAFKA_TLS, KAFKA_TLS_CA_FILE and the SASL user; every API works end to end`, needsTls, async (t) => {
    const listeners = tls!
    const app = await build(t, {
      env: {
        BROKER_ADDRESS: listeners.saslSsl,
        KAFKA_TLS: 'true',
        KAFKA_TLS_CA_FILE: listeners.ca,
        USERNAME: USERS.test.username,
        PASSWORD: USERS.test.password,
        SASL_MECHANISM: mechanism
      }
    })
    await roundTrip(t, app, { tls: { brokers: listeners.saslSsl, ca: listeners.ca }, sasl: { mechanism, user: USERS.test } }, `sasl_ssl ${mechanism}`)
  })
}

t.test('mTLS: KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE; the broker requires the certificate and maps it to the user', needsTls, async (t) => {
  const listeners = tls!
  const app = await build(t, {
    env: {
      BROKER_ADDRESS: listeners.mtls,
      KAFKA_TLS: 'true',
      KAFKA_TLS_CA_FILE: listeners.ca,
      KAFKA_TLS_CERT_FILE: listeners.clientCert,
      KAFKA_TLS_KEY_FILE: listeners.clientKey
    }
  })
  await roundTrip(t, app, { tls: { brokers: listeners.mtls, ca: listeners.ca, cert: listeners.clientCert, key: listeners.clientKey } }, 'mtls')
})

/** A service that cannot complete the TLS handshake: not ready, naming TLS; alive; every call a quick 503. */
async function refusedOverTls (t: Test, app: FastifyInstance, logs: string[]): Promise<void> {
  const started = Date.now()
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 503, 'not ready')
  t.match(ready.json(), { status: 503, code: 'KOSHA_KAFKA_TLS_FAILED', message: /TLS connection to Kafka failed/ })
  t.ok(ready.headers['retry-after'], 'with Retry-After')
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'alive: liveness does not depend on Kafka')
  const v1 = await app.inject({ method: 'POST', url: '/api/v1/produce/anything', payload: { a: 1 } })
  t.same([v1.statusCode, v1.json().code], [503, 'KOSHA_KAFKA_TLS_FAILED'], 'v1 produce: 503 naming TLS')
  const v2 = await app.inject({ method: 'POST', url: '/topics/anything', headers: { 'content-type': JSONV2 }, payload: { records: [{ value: 1 }] } })
  t.same([v2.statusCode, v2.json().error_code], [503, 50003], 'v2 produce: 503')
  t.match(v2.json().message, /TLS/, 'naming TLS')
  const v3 = await app.inject({ method: 'GET', url: '/v3/clusters' })
  t.same([v3.statusCode, v3.json().error_code], [503, 50003], 'v3: 503')
  t.match(v3.json().message, /TLS/, 'naming TLS')
  t.ok(Date.now() - started < 20_000, `every answer came quickly (${Date.now() - started} ms for all of them), none hung`)
  t.match(logs.join(''), /SSL handshake failed|certificate/i, 'the log says why (librdkafka\'s own words)')
}

t.test('a CA that did not sign the brokers\' certificates: the service starts (default timeouts), not ready, naming TLS; alive; calls are 503', needsTls, async (t) => {
  const listeners = tls!
  const logs: string[] = []
  // The default KAFKA_TIMEOUT_MS (10 s): librdkafka retries the handshake until its connect gives up, and the start
  // must not outlast Fastify's 10 s for a plugin.
  const app = await build(t, { env: { BROKER_ADDRESS: listeners.ssl, KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: listeners.otherCa }, logs })
  await refusedOverTls(t, app, logs)
})

t.test('a broker that requires a client certificate the service lacks: not ready, naming TLS; calls are 503', needsTls, async (t) => {
  const listeners = tls!
  const logs: string[] = []
  const app = await build(t, { env: { BROKER_ADDRESS: listeners.mtls, KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: listeners.ca, KAFKA_TIMEOUT_MS: '3000' }, logs })
  await refusedOverTls(t, app, logs)
})
