import t from 'tap'
import { hostname } from 'node:os'
import { getHeapStatistics } from 'node:v8'
import { ConfigError, DEFAULT_SHED_HEAP_BYTES, loadConfig } from '../../lib/config'
import { makePki } from '../tls'

t.test('defaults for a minimal environment', async (t) => {
  const c = loadConfig({ BROKER_ADDRESS: 'localhost:9092' })
  t.match(c, { brokers: ['localhost:9092'], port: 8000, host: '0.0.0.0', logLevel: 'info', consumerIdleTimeoutMs: 300_000, bodyLimit: 1_048_576, corsOrigins: '*' })
  t.equal(c.sasl, undefined, 'no SASL without a username')
  t.equal(c.tls, undefined)
})

t.test('a list of brokers, SASL with the default SCRAM-SHA-512, TLS', async (t) => {
  const c = loadConfig({ BROKER_ADDRESS: 'a:9092, b:9093,[::1]:9094', USERNAME: 'u', PASSWORD: 'p', KAFKA_TLS: 'true' })
  t.same(c.brokers, ['a:9092', 'b:9093', '[::1]:9094'])
  t.same(c.sasl, { mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' })
  t.same(c.tls, {})
  t.equal(loadConfig({ BROKER_ADDRESS: 'a:1', USERNAME: 'u', PASSWORD: 'p', SASL_MECHANISM: 'plain' }).sasl?.mechanism, 'PLAIN')
})

t.test('every problem is named at once', async (t) => {
  const err = t.throws(() => loadConfig({ PORT: '0', SASL_MECHANISM: 'X', PASSWORD: 'p', KAFKA_TLS: 'maybe', LOG_LEVEL: 'loud', KAFKA_TLS_CA_FILE: '/nonexistent' })) as ConfigError
  t.ok(err instanceof ConfigError)
  for (const name of ['BROKER_ADDRESS', 'PORT', 'SASL_MECHANISM', 'PASSWORD is set but USERNAME', 'KAFKA_TLS must be', 'LOG_LEVEL', 'KAFKA_TLS_CA_FILE']) {
    t.ok(err.problems.some((p) => p.includes(name)), `names ${name}`)
  }
  t.notMatch(err.message, /\bp\b.*secret/, 'never echoes a password')
})

t.test('auth and CORS settings', async (t) => {
  const c = loadConfig({ BROKER_ADDRESS: 'a:1', API_KEYS: 'k1, k2', BASIC_AUTH_USERS: 'alice:s3:cret', CORS_ORIGINS: 'https://a.example,https://b.example' })
  t.same(c.apiKeys, ['k1', 'k2'])
  t.same(c.basicUsers, [{ username: 'alice', password: 's3:cret' }], 'a password may contain a colon')
  t.same(c.corsOrigins, ['https://a.example', 'https://b.example'])
  t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', BASIC_AUTH_USERS: 'nopassword' }), /BASIC_AUTH_USERS/)
})

t.test('stream settings: defaults, values, and out-of-range values named', async (t) => {
  const c = loadConfig({ BROKER_ADDRESS: 'a:1' })
  t.match(c, { streamMax: 100, streamBufferBytes: 1_048_576, streamMaxUnacked: 1000, streamHeartbeatMs: 15_000 })
  const set = loadConfig({ BROKER_ADDRESS: 'a:1', STREAM_MAX: '5', STREAM_BUFFER_BYTES: '65536', STREAM_MAX_UNACKED: '10', STREAM_HEARTBEAT_MS: '1000' })
  t.match(set, { streamMax: 5, streamBufferBytes: 65_536, streamMaxUnacked: 10, streamHeartbeatMs: 1000 })
  const err = t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', STREAM_MAX: '0', STREAM_BUFFER_BYTES: '10', STREAM_MAX_UNACKED: 'many', STREAM_HEARTBEAT_MS: '-1' })) as ConfigError
  for (const name of ['STREAM_MAX must', 'STREAM_BUFFER_BYTES must', 'STREAM_MAX_UNACKED must', 'STREAM_HEARTBEAT_MS must']) {
    t.ok(err.problems.some((p) => p.startsWith(name)), `names ${name}`)
  }
})

t.test('replicas: REPLICA_URL defaults to this host and PORT; STATE_TOPIC to _kosha_state; both validated', async (t) => {
  const c = loadConfig({ BROKER_ADDRESS: 'a:1', PORT: '8123' })
  t.equal(c.replicaUrl, `http://${hostname()}:8123`, 'the host name and the port the service listens on')
  t.equal(c.stateTopic, '_kosha_state')
  const set = loadConfig({ BROKER_ADDRESS: 'a:1', REPLICA_URL: 'https://kosha-2.kosha.svc:8000/', STATE_TOPIC: 'team.kosha-state' })
  t.equal(set.replicaUrl, 'https://kosha-2.kosha.svc:8000', 'a trailing slash is dropped')
  t.equal(set.stateTopic, 'team.kosha-state')
  for (const bad of ['kosha-2:8000', 'ftp://kosha-2', 'http://kosha-2/some/path', 'http://']) {
    t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', REPLICA_URL: bad }), /REPLICA_URL must be an http\(s\) URL/, `REPLICA_URL '${bad}' is refused`)
  }
  for (const bad of ['has space', 'a/b', '..', 'x'.repeat(250)]) {
    t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', STATE_TOPIC: bad }), /STATE_TOPIC must be a Kafka topic name/, `STATE_TOPIC '${bad.slice(0, 20)}' is refused`)
  }
})

t.test('limits: defaults (rate limits off, shedding on the heap only), values, and what is refused', async (t) => {
  const c = loadConfig({ BROKER_ADDRESS: 'a:1' })
  t.match(c, { maxHeaderSize: 65_536, maxUrlLength: 57_344, rateLimitPerCaller: 0, rateLimitGlobal: 0, rateLimitWindowMs: 60_000, trustProxy: false })
  t.match(c, { shedMaxEventLoopDelayMs: 0, shedMaxRssBytes: 0, shedSampleIntervalMs: 1_000 })
  t.equal(c.shedMaxHeapUsedBytes, DEFAULT_SHED_HEAP_BYTES)
  t.ok(DEFAULT_SHED_HEAP_BYTES > 100 * 2 ** 20 && DEFAULT_SHED_HEAP_BYTES < getHeapStatistics().heap_size_limit, '90 % of V8\'s heap limit')

  const env = { MAX_HEADER_SIZE: '32768', MAX_URL_LENGTH: '16000', RATE_LIMIT_PER_CALLER: '600', RATE_LIMIT_GLOBAL: '10000', RATE_LIMIT_WINDOW_MS: '1000' }
  const shed = { SHED_MAX_EVENT_LOOP_DELAY_MS: '1000', SHED_MAX_HEAP_USED_BYTES: '0', SHED_MAX_RSS_BYTES: '2147483648', SHED_SAMPLE_INTERVAL_MS: '500' }
  const set = loadConfig({ BROKER_ADDRESS: 'a:1', ...env, ...shed })
  t.match(set, { maxHeaderSize: 32_768, maxUrlLength: 16_000, rateLimitPerCaller: 600, rateLimitGlobal: 10_000, rateLimitWindowMs: 1000 })
  t.match(set, { shedMaxEventLoopDelayMs: 1000, shedMaxHeapUsedBytes: 0, shedMaxRssBytes: 2_147_483_648, shedSampleIntervalMs: 500 })

  const err = t.throws(() => loadConfig({
    BROKER_ADDRESS: 'a:1', RATE_LIMIT_PER_CALLER: '-1', RATE_LIMIT_GLOBAL: 'lots', RATE_LIMIT_WINDOW_MS: '10', SHED_SAMPLE_INTERVAL_MS: '1', MAX_HEADER_SIZE: '100'
  })) as ConfigError
  for (const name of ['RATE_LIMIT_PER_CALLER must', 'RATE_LIMIT_GLOBAL must', 'RATE_LIMIT_WINDOW_MS must', 'SHED_SAMPLE_INTERVAL_MS must', 'MAX_HEADER_SIZE must']) {
    t.ok(err.problems.some((p) => p.startsWith(name)), `names ${name}`)
  }
  t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', MAX_HEADER_SIZE: '16384', MAX_URL_LENGTH: '16384' }), /MAX_URL_LENGTH \(16384\) must be below MAX_HEADER_SIZE \(16384\)/,
    'a URL limit the header limit would always hit first is refused')
})

t.test('TRUST_PROXY: off, any proxy, the nearest n, or addresses and ranges; anything else is named', async (t) => {
  t.equal(loadConfig({ BROKER_ADDRESS: 'a:1', TRUST_PROXY: 'false' }).trustProxy, false)
  t.equal(loadConfig({ BROKER_ADDRESS: 'a:1', TRUST_PROXY: 'true' }).trustProxy, true)
  t.equal(loadConfig({ BROKER_ADDRESS: 'a:1', TRUST_PROXY: '2' }).trustProxy, 2)
  t.same(loadConfig({ BROKER_ADDRESS: 'a:1', TRUST_PROXY: '10.0.0.0/8, 192.168.1.7,fd00::/8, loopback' }).trustProxy, ['10.0.0.0/8', '192.168.1.7', 'fd00::/8', 'loopback'])
  for (const bad of ['ingress', '10.0.0.0/33', '300.1.1.1', '10.0.0.1/8/1', '::1/129']) {
    t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', TRUST_PROXY: bad }), /TRUST_PROXY must be/, `'${bad}' is refused`)
  }
})

t.test('TLS to Kafka: a client certificate and key for mTLS, both or neither, usable, and only with KAFKA_TLS', async (t) => {
  const pki = makePki(t)
  const c = loadConfig({ BROKER_ADDRESS: 'a:1', KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: pki.ca, KAFKA_TLS_CERT_FILE: pki.clientCert, KAFKA_TLS_KEY_FILE: pki.clientKey })
  t.same(c.tls, { caFile: pki.ca, certFile: pki.clientCert, keyFile: pki.clientKey })
  t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', KAFKA_TLS: 'true', KAFKA_TLS_CERT_FILE: pki.clientCert }), /KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE go together/)
  t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', KAFKA_TLS: 'true', KAFKA_TLS_CERT_FILE: pki.clientCert, KAFKA_TLS_KEY_FILE: '/nonexistent.key' }), /KAFKA_TLS_KEY_FILE '\/nonexistent.key' cannot be read/)
  t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', KAFKA_TLS_CERT_FILE: pki.clientCert, KAFKA_TLS_KEY_FILE: pki.clientKey }), /KAFKA_TLS_CERT_FILE is set but KAFKA_TLS is not true/)
  t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', KAFKA_TLS: 'true', KAFKA_TLS_CERT_FILE: pki.clientCert, KAFKA_TLS_KEY_FILE: pki.serverKey }),
    /KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE must be a PEM certificate and its unencrypted PEM private key \(.*key values mismatch/, 'a key that is not the certificate\'s is named')
  t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', KAFKA_TLS: 'true', KAFKA_TLS_CERT_FILE: __filename, KAFKA_TLS_KEY_FILE: pki.clientKey }),
    /KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE must be a PEM certificate/, 'a file that is not a certificate is named')
})

t.test('HTTPS: a certificate and key, both or neither, usable; a client CA only with them; REPLICA_URL defaults to https', async (t) => {
  const pki = makePki(t)
  t.equal(loadConfig({ BROKER_ADDRESS: 'a:1' }).https, undefined, 'plain HTTP by default')
  const c = loadConfig({ BROKER_ADDRESS: 'a:1', PORT: '8443', HTTPS_CERT_FILE: pki.serverCert, HTTPS_KEY_FILE: pki.serverKey, HTTPS_CLIENT_CA_FILE: pki.ca })
  t.same(c.https, { certFile: pki.serverCert, keyFile: pki.serverKey, clientCaFile: pki.ca })
  t.equal(c.replicaUrl, `https://${hostname()}:8443`, 'the other replicas reach this one over HTTPS')
  t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', HTTPS_KEY_FILE: pki.serverKey }), /HTTPS_CERT_FILE and HTTPS_KEY_FILE go together/)
  t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', HTTPS_CERT_FILE: '/nonexistent.pem', HTTPS_KEY_FILE: pki.serverKey }), /HTTPS_CERT_FILE '\/nonexistent.pem' cannot be read/)
  t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', HTTPS_CERT_FILE: pki.serverCert, HTTPS_KEY_FILE: pki.clientKey }), /HTTPS_CERT_FILE and HTTPS_KEY_FILE must be a PEM certificate and its/)
  t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', HTTPS_CLIENT_CA_FILE: pki.ca }), /HTTPS_CLIENT_CA_FILE is set but HTTPS_CERT_FILE/)
})

t.test('tracing: off without an OTLP endpoint; the standard OTEL_* variables when on; wrong values named', async (t) => {
  t.equal(loadConfig({ BROKER_ADDRESS: 'a:1' }).tracing, undefined, 'off by default')
  t.same(loadConfig({ BROKER_ADDRESS: 'a:1', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing, {
    url: 'http://collector:4318/v1/traces', protocol: 'http/protobuf', serviceName: 'kosha-kafka-connector', sampler: 'parentbased_always_on', samplerRatio: 1, resourceAttributes: {}
  }, 'the general endpoint gets /v1/traces; the defaults')
  const set = loadConfig({
    BROKER_ADDRESS: 'a:1',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector.example/otlp/traces',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '0.25',
    OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attributes, deployment.environment=prod%2Ceu'
  }).tracing
  t.match(set, { url: 'https://collector.example/otlp/traces', protocol: 'http/json', sampler: 'parentbased_traceidratio', samplerRatio: 0.25, serviceName: 'from-attributes' }, 'the traces endpoint as it is')
  t.same(set?.resourceAttributes, { 'service.name': 'from-attributes', 'deployment.environment': 'prod,eu' }, 'percent-decoded')
  t.equal(loadConfig({ BROKER_ADDRESS: 'a:1', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SERVICE_NAME: 'svc', OTEL_RESOURCE_ATTRIBUTES: 'service.name=other' }).tracing?.serviceName, 'svc', 'OTEL_SERVICE_NAME wins')
  for (const off of [{ OTEL_SDK_DISABLED: 'true' }, { OTEL_TRACES_EXPORTER: 'none' }]) {
    t.equal(loadConfig({ BROKER_ADDRESS: 'a:1', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', ...off }).tracing, undefined, `off with ${Object.keys(off)[0] ?? ''}`)
  }
  const err = t.throws(() => loadConfig({
    BROKER_ADDRESS: 'a:1', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4318', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc', OTEL_TRACES_SAMPLER: 'jaeger_remote', OTEL_RESOURCE_ATTRIBUTES: 'novalue'
  })) as ConfigError
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL must', 'OTEL_TRACES_SAMPLER must', 'OTEL_RESOURCE_ATTRIBUTES entries']) {
    t.ok(err.problems.some((p) => p.startsWith(name)), `names ${name}`)
  }
  t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }), /OTEL_TRACES_SAMPLER_ARG/)
  t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', OTEL_TRACES_EXPORTER: 'zipkin' }), /OTEL_TRACES_EXPORTER/)
})

t.test('KAFKA_IDENTITY: service by default; caller needs SASL and no HTTP users of its own', async (t) => {
  const c = loadConfig({ BROKER_ADDRESS: 'a:1' })
  t.match(c, { kafkaIdentity: 'service', identityCacheMax: 100, identityIdleMs: 300_000 })
  const caller = loadConfig({ BROKER_ADDRESS: 'a:1', USERNAME: 'svc', PASSWORD: 'p', KAFKA_IDENTITY: 'Caller', IDENTITY_CACHE_MAX: '5', IDENTITY_IDLE_MS: '60000' })
  t.match(caller, { kafkaIdentity: 'caller', identityCacheMax: 5, identityIdleMs: 60_000 })
  t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', KAFKA_IDENTITY: 'caller' }), /KAFKA_IDENTITY=caller needs SASL/)
  t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', USERNAME: 'svc', PASSWORD: 'p', KAFKA_IDENTITY: 'caller', API_KEYS: 'k' }), /API_KEYS and BASIC_AUTH_USERS must be unset/)
  t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', KAFKA_IDENTITY: 'everyone' }), /KAFKA_IDENTITY must be service or caller/)
  t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', IDENTITY_CACHE_MAX: '0' }), /IDENTITY_CACHE_MAX/)
})

t.test('schema registry settings: defaults, values, and out-of-range values named', async (t) => {
  t.equal(loadConfig({ BROKER_ADDRESS: 'a:1' }).schemaRegistry, undefined, 'no registry without SCHEMA_REGISTRY_URL')
  t.same(loadConfig({ BROKER_ADDRESS: 'a:1', SCHEMA_REGISTRY_URL: 'http://registry:8081/' }).schemaRegistry, { url: 'http://registry:8081', timeoutMs: 5000, latestTtlMs: 5000 })
  t.match(loadConfig({ BROKER_ADDRESS: 'a:1', SCHEMA_REGISTRY_URL: 'https://r/apis/ccompat/v7', SCHEMA_REGISTRY_LATEST_TTL_MS: '0', SCHEMA_REGISTRY_TIMEOUT_MS: '100', SCHEMA_REGISTRY_USERNAME: 'u', SCHEMA_REGISTRY_PASSWORD: 'p' }).schemaRegistry,
    { url: 'https://r/apis/ccompat/v7', latestTtlMs: 0, timeoutMs: 100, username: 'u', password: 'p' })
  for (const [name, value] of [['SCHEMA_REGISTRY_LATEST_TTL_MS', '-1'], ['SCHEMA_REGISTRY_LATEST_TTL_MS', '3600001'], ['SCHEMA_REGISTRY_LATEST_TTL_MS', '1s'], ['SCHEMA_REGISTRY_TIMEOUT_MS', '99']] as const) {
    t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', SCHEMA_REGISTRY_URL: 'http://r', [name]: value }), new RegExp(`${name} must be a whole number`), `${name}=${value}`)
  }
  t.throws(() => loadConfig({ BROKER_ADDRESS: 'a:1', SCHEMA_REGISTRY_URL: 'http://r', SCHEMA_REGISTRY_USERNAME: 'u' }), /go together/)
})
