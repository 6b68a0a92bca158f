// The service's configuration: read from the environment once, validated as a whole. Every problem is named,
// so that a wrong deployment stops at start with a message that says which variable to fix.
import { accessSync, constants, readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { createSecureContext } from 'node:tls'
import { hostname } from 'node:os'
import { getHeapStatistics } from 'node:v8'

export type SaslMechanism = 'SCRAM-SHA-512' | 'SCRAM-SHA-256' | 'PLAIN'
const MECHANISMS: readonly SaslMechanism[] = ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN']
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]
const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const
export type SamplerName = typeof SAMPLERS[number]
const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const
export type OtlpProtocol = typeof OTLP_PROTOCOLS[number]

/** OpenTelemetry tracing, from the standard OTEL_* variables: on only when an OTLP endpoint is set. */
export interface TracingConfig {
  /** Where spans are sent: OTLP over HTTP, to this URL (the traces endpoint itself). */
  url: string
  protocol: OtlpProtocol
  serviceName: string
  sampler: SamplerName
  /** The ratio of the traceidratio samplers, from 0 to 1. */
  samplerRatio: number
  /** OTEL_RESOURCE_ATTRIBUTES: attributes every span's resource carries. */
  resourceAttributes: Record<string, string>
}

/** A SASL login to Kafka: a user and password (PLAIN, SCRAM), or an OAuth bearer token (OAUTHBEARER). */
export type SaslSettings = { mechanism: SaslMechanism, username: string, password: string } | { mechanism: 'OAUTHBEARER', token: string }

/**
 * Whose Kafka identity a request acts as: `service`, the connector's own (USERNAME / PASSWORD), for every caller;
 * `caller`, the caller's own, from its HTTP credentials (Basic: a SASL login with SASL_MECHANISM; Bearer: an
 * OAUTHBEARER token), so that Kafka's ACLs decide what each caller may do (kafka/identities.ts).
 */
export type KafkaIdentityMode = 'service' | 'caller'

export interface Config {
  brokers: string[]
  sasl?: SaslSettings
  kafkaIdentity: KafkaIdentityMode
  /** KAFKA_IDENTITY=caller: the callers whose Kafka clients are kept at once; the least recently used goes first. */
  identityCacheMax: number
  /** KAFKA_IDENTITY=caller: a caller's Kafka clients unused this long are closed. */
  identityIdleMs: number
  /** TLS to the brokers: the CA to verify them with (else the system's), a client certificate and key for mTLS. */
  tls?: { caFile?: string, certFile?: string, keyFile?: string }
  /** This service serves HTTPS with this certificate and key; with clientCaFile, only to clients it signed. */
  https?: { certFile: string, keyFile: string, clientCaFile?: string }
  port: number
  host: string
  logLevel: LogLevel
  kafkaTimeoutMs: number
  consumerIdleTimeoutMs: number
  consumerMax: number
  /** Live streams (GET /api/v1/streams/{group}) at most in this process. */
  streamMax: number
  /** Records a stream holds for a client that reads slowly, in bytes of keys and values; past it, it pauses. */
  streamBufferBytes: number
  /** Records a stream delivers without their acknowledgement; past it, it pauses until acks come. */
  streamMaxUnacked: number
  /** How often an idle stream writes a heartbeat (an SSE comment, a WebSocket ping). */
  streamHeartbeatMs: number
  bodyLimit: number
  /** Bytes of the request line and headers together at most (Node's maxHeaderSize); 431 above. */
  maxHeaderSize: number
  /** Characters of the URL (path and query) at most; 414 above. Below maxHeaderSize, which counts the URL too. */
  maxUrlLength: number
  /** Requests one caller (API key, Basic user, else client address) may make per rateLimitWindowMs; 0: no limit. */
  rateLimitPerCaller: number
  /** Requests all callers together may make per rateLimitWindowMs in this process; 0: no limit. */
  rateLimitGlobal: number
  rateLimitWindowMs: number
  /**
   * Whose X-Forwarded-For names the client: no one (false: the client is the connection's peer), any proxy (true),
   * the nearest n proxies, or the proxies at these addresses or CIDR ranges (Fastify's trustProxy).
   */
  trustProxy: boolean | number | string[]
  /** Load shedding: 503 for new requests while the event loop's mean delay (ms) is above this; 0: never. */
  shedMaxEventLoopDelayMs: number
  /** Load shedding: 503 while V8's used heap is above this many bytes; 0: never. */
  shedMaxHeapUsedBytes: number
  /** Load shedding: 503 while the process's resident set is above this many bytes; 0: never. */
  shedMaxRssBytes: number
  /** How often the event loop delay and memory are sampled for load shedding. */
  shedSampleIntervalMs: number
  apiKeys: string[]
  basicUsers: Array<{ username: string, password: string }>
  corsOrigins: string[] | '*'
  shutdownGraceMs: number
  /** The URL clients reach this service at (behind an ingress the Host header lies); links and base_uri use it. */
  advertisedUrl?: string
  /** This process's URL as the other replicas reach it: requests for a consumer held here are forwarded to it. */
  replicaUrl: string
  /** The compacted topic where replicas record which of them holds each consumer. */
  stateTopic: string
  /** OpenTelemetry tracing; unset: off, and no SDK is started. */
  tracing?: TracingConfig
  /** SCHEMA_REGISTRY_URL and its credentials: the avro, jsonschema and protobuf formats; without it they are refused (415). */
  schemaRegistry?: SchemaRegistryConfig
}

export class ConfigError extends Error {
  readonly problems: string[]
  constructor (problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

type Env = Record<string, string | undefined>

/**
 * A process whose used heap nears V8's limit (--max-old-space-size) spends its time collecting garbage and then dies
 * out of memory: past 90 % of it, it sheds new requests so that those in flight can finish and memory come back.
 */
export const DEFAULT_SHED_HEAP_BYTES = Math.floor(getHeapStatistics().heap_size_limit * 0.9)

// proxy-addr's names for address ranges, which Fastify's trustProxy accepts beside addresses and CIDR ranges.
const PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal']

/** TRUST_PROXY: false (default), true, a number of hops, or a comma-separated list of addresses and CIDR ranges. */
function trustedProxies (raw: string | undefined, problems: string[]): Config['trustProxy'] {
  if (raw === undefined || ['false', '0', 'no', 'off'].includes(raw.toLowerCase())) return false
  if (['true', 'yes', 'on'].includes(raw.toLowerCase())) return true
  if (/^\d+$/.test(raw)) return Number(raw)
  const entries = raw.split(',').map((s) => s.trim()).filter(Boolean)
  const bad = entries.filter((e) => {
    if (PROXY_RANGES.includes(e)) return false
    const [address = '', bits, ...rest] = e.split('/')
    const family = isIP(address)
    if (family === 0 || rest.length > 0) return true
    return bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128))
  })
  if (bad.length > 0) {
    problems.push(`TRUST_PROXY must be true, false, a number of proxies, or addresses and CIDR ranges (or ${PROXY_RANGES.join(', ')}), comma-separated (not '${bad.join(', ')}')`)
    return false
  }
  return entries
}

export function loadConfig (env: Env): Config {
  const problems: string[] = []
  const get = (name: string): string | undefined => {
    const v = env[name]?.trim()
    return v === undefined || v === '' ? undefined : v
  }
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = get(name)
    if (raw === undefined) return fallback
    const n = Number(raw)
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got '${raw}')`)
      return fallback
    }
    return n
  }
  const bool = (name: string): boolean => {
    const raw = get(name)?.toLowerCase()
    if (raw === undefined || ['false', '0', 'no', 'off'].includes(raw)) return false
    if (['true', '1', 'yes', 'on'].includes(raw)) return true
    problems.push(`${name} must be true or false (got '${get(name) ?? ''}')`)
    return false
  }
  const list = (name: string): string[] => (get(name) ?? '').split(',').map((s) => s.trim()).filter(Boolean)

  const brokers = list('BROKER_ADDRESS')
  if (brokers.length === 0) problems.push('BROKER_ADDRESS is required: the Kafka bootstrap address(es), host:port[,host:port...]')
  for (const b of brokers) {
    const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(b)
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) problems.push(`BROKER_ADDRESS entry '${b}' is not host:port`)
  }

  const username = get('USERNAME')
  const password = env.PASSWORD ?? ''
  const mechanism = (get('SASL_MECHANISM') ?? 'SCRAM-SHA-512').toUpperCase()
  if (!MECHANISMS.includes(mechanism as SaslMechanism)) problems.push(`SASL_MECHANISM must be one of ${MECHANISMS.join(', ')} (got '${mechanism}')`)
  if (username === undefined && password !== '') problems.push('PASSWORD is set but USERNAME is not: set both, or neither')
  if (username !== undefined && password === '') problems.push('USERNAME is set but PASSWORD is not: set both, or neither')

  /** A path that must name a readable file (checked now, so that a wrong mount stops the start, not a request). */
  const file = (name: string): string | undefined => {
    const path = get(name)
    if (path !== undefined) {
      try { accessSync(path, constants.R_OK) } catch { problems.push(`${name} '${path}' cannot be read`) }
    }
    return path
  }
  const bothOrNeither = (a: string, b: string): void => {
    if ((get(a) === undefined) !== (get(b) === undefined)) problems.push(`${a} and ${b} go together: set both, or neither`)
  }
  /** A certificate and its key that TLS can use (PEM, matching, the key unencrypted): else the start, or the first connection, would fail obscurely. */
  const keyPair = (certName: string, keyName: string): void => {
    const cert = get(certName)
    const key = get(keyName)
    if (cert === undefined || key === undefined || problems.some((p) => p.startsWith(`${certName} '`) || p.startsWith(`${keyName} '`))) return
    try {
      createSecureContext({ cert: readFileSync(cert), key: readFileSync(key) })
    } catch (err) {
      problems.push(`${certName} and ${keyName} must be a PEM certificate and its unencrypted PEM private key (${(err as Error).message})`)
    }
  }

  const tlsOn = bool('KAFKA_TLS')
  const caFile = file('KAFKA_TLS_CA_FILE')
  const certFile = file('KAFKA_TLS_CERT_FILE')
  const keyFile = file('KAFKA_TLS_KEY_FILE')
  bothOrNeither('KAFKA_TLS_CERT_FILE', 'KAFKA_TLS_KEY_FILE')
  keyPair('KAFKA_TLS_CERT_FILE', 'KAFKA_TLS_KEY_FILE')
  for (const name of ['KAFKA_TLS_CA_FILE', 'KAFKA_TLS_CERT_FILE', 'KAFKA_TLS_KEY_FILE']) {
    if (get(name) !== undefined && !tlsOn) problems.push(`${name} is set but KAFKA_TLS is not true`)
  }

  const httpsCert = file('HTTPS_CERT_FILE')
  const httpsKey = file('HTTPS_KEY_FILE')
  const httpsClientCa = file('HTTPS_CLIENT_CA_FILE')
  bothOrNeither('HTTPS_CERT_FILE', 'HTTPS_KEY_FILE')
  keyPair('HTTPS_CERT_FILE', 'HTTPS_KEY_FILE')
  if (httpsClientCa !== undefined && httpsCert === undefined) problems.push('HTTPS_CLIENT_CA_FILE is set but HTTPS_CERT_FILE and HTTPS_KEY_FILE are not: client certificates need HTTPS')
  const https = httpsCert !== undefined && httpsKey !== undefined
    ? { certFile: httpsCert, keyFile: httpsKey, ...(httpsClientCa !== undefined ? { clientCaFile: httpsClientCa } : {}) }
    : undefined

  const logLevel = (get('LOG_LEVEL') ?? 'info').toLowerCase()
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got '${logLevel}')`)

  const basicUsers: Config['basicUsers'] = []
  for (const entry of list('BASIC_AUTH_USERS')) {
    const i = entry.indexOf(':')
    if (i <= 0 || i === entry.length - 1) problems.push('BASIC_AUTH_USERS entries must be user:password (an entry is not)')
    else basicUsers.push({ username: entry.slice(0, i), password: entry.slice(i + 1) })
  }
  const origins = list('CORS_ORIGINS')
  const advertised = get('ADVERTISED_URL')?.replace(/\/+$/, '')
  if (advertised !== undefined && !/^https?:\/\/[^/\s]+(\/[^\s]*)?$/.test(advertised)) problems.push(`ADVERTISED_URL must be an http(s) URL (got '${advertised}')`)

  const port = int('PORT', 8000, 1, 65535)
  const replicaUrl = (get('REPLICA_URL') ?? `${https ? 'https' : 'http'}://${hostname()}:${port}`).replace(/\/+$/, '')
  if (!/^https?:\/\/[^/\s?#]+$/.test(replicaUrl)) problems.push(`REPLICA_URL must be an http(s) URL without a path (got '${replicaUrl}')`)
  const stateTopic = get('STATE_TOPIC') ?? '_kosha_state'
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(stateTopic) || stateTopic === '.' || stateTopic === '..') {
    problems.push(`STATE_TOPIC must be a Kafka topic name: [a-zA-Z0-9._-], 1 to 249 characters, not . or .. (got '${stateTopic}')`)
  }

  // 64 KiB of headers and 56 KiB of URL: the longest URL openapi.json allows (a 4096-character key or topic list on a
  // query, percent-encoded UTF-8) must be validated, not refused by size.
  const maxHeaderSize = int('MAX_HEADER_SIZE', 65_536, 1_024, 1_048_576)
  const maxUrlLength = int('MAX_URL_LENGTH', 57_344, 256, 1_048_576)
  if (maxUrlLength >= maxHeaderSize) {
    problems.push(`MAX_URL_LENGTH (${maxUrlLength}) must be below MAX_HEADER_SIZE (${maxHeaderSize}): the URL counts towards the header size, so a longer one would be refused with 431 first`)
  }
  const trustProxy = trustedProxies(get('TRUST_PROXY'), problems)
  const tracing = tracingConfig(get, bool, problems)
  const schemaRegistry = schemaRegistryConfig(get, problems)
  const kafkaIdentity = (get('KAFKA_IDENTITY') ?? 'service').toLowerCase()
  if (kafkaIdentity !== 'service' && kafkaIdentity !== 'caller') problems.push(`KAFKA_IDENTITY must be service or caller (got '${kafkaIdentity}')`)
  if (kafkaIdentity === 'caller') {
    if (username === undefined) problems.push('KAFKA_IDENTITY=caller needs SASL (USERNAME, PASSWORD, SASL_MECHANISM): the callers log in to Kafka with SASL_MECHANISM, the service itself with USERNAME')
    if (get('API_KEYS') !== undefined || get('BASIC_AUTH_USERS') !== undefined) problems.push('KAFKA_IDENTITY=caller: Kafka checks the callers\' credentials, so API_KEYS and BASIC_AUTH_USERS must be unset')
  }

  const config: Config = {
    brokers,
    ...(username !== undefined ? { sasl: { mechanism: mechanism as SaslMechanism, username, password } } : {}),
    kafkaIdentity: kafkaIdentity as KafkaIdentityMode,
    identityCacheMax: int('IDENTITY_CACHE_MAX', 100, 1, 100_000),
    identityIdleMs: int('IDENTITY_IDLE_MS', 300_000, 1_000, 86_400_000),
    ...(tlsOn
      ? {
          tls: {
            ...(caFile !== undefined ? { caFile } : {}),
            ...(certFile !== undefined && keyFile !== undefined ? { certFile, keyFile } : {})
          }
        }
      : {}),
    ...(https ? { https } : {}),
    port,
    host: get('HOST') ?? '0.0.0.0',
    logLevel: logLevel as LogLevel,
    kafkaTimeoutMs: int('KAFKA_TIMEOUT_MS', 10_000, 100, 300_000),
    consumerIdleTimeoutMs: int('CONSUMER_IDLE_TIMEOUT_MS', 300_000, 1_000, 86_400_000),
    consumerMax: int('CONSUMER_MAX', 100, 1, 10_000),
    streamMax: int('STREAM_MAX', 100, 1, 10_000),
    streamBufferBytes: int('STREAM_BUFFER_BYTES', 1_048_576, 1_024, 1_073_741_824),
    streamMaxUnacked: int('STREAM_MAX_UNACKED', 1000, 1, 1_000_000),
    streamHeartbeatMs: int('STREAM_HEARTBEAT_MS', 15_000, 100, 3_600_000),
    bodyLimit: int('BODY_LIMIT', 1_048_576, 1_024, 104_857_600),
    maxHeaderSize,
    maxUrlLength,
    rateLimitPerCaller: int('RATE_LIMIT_PER_CALLER', 0, 0, 1_000_000_000),
    rateLimitGlobal: int('RATE_LIMIT_GLOBAL', 0, 0, 1_000_000_000),
    rateLimitWindowMs: int('RATE_LIMIT_WINDOW_MS', 60_000, 1_000, 86_400_000),
    trustProxy,
    shedMaxEventLoopDelayMs: int('SHED_MAX_EVENT_LOOP_DELAY_MS', 0, 0, 600_000),
    shedMaxHeapUsedBytes: int('SHED_MAX_HEAP_USED_BYTES', DEFAULT_SHED_HEAP_BYTES, 0, Number.MAX_SAFE_INTEGER),
    shedMaxRssBytes: int('SHED_MAX_RSS_BYTES', 0, 0, Number.MAX_SAFE_INTEGER),
    shedSampleIntervalMs: int('SHED_SAMPLE_INTERVAL_MS', 1_000, 50, 60_000),
    apiKeys: list('API_KEYS'),
    basicUsers,
    corsOrigins: origins.length === 0 || origins.includes('*') ? '*' : origins,
    shutdownGraceMs: int('SHUTDOWN_GRACE_MS', 25_000, 0, 600_000),
    ...(advertised !== undefined ? { advertisedUrl: advertised } : {}),
    replicaUrl,
    stateTopic,
    ...(tracing !== undefined ? { tracing } : {}),
    ...(schemaRegistry !== undefined ? { schemaRegistry } : {})
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return config
}

export interface SchemaRegistryConfig {
  /** The base of Confluent's Schema Registry API: Confluent's or Karapace's root, Apicurio's /apis/ccompat/v7. */
  url: string
  username?: string
  password?: string
  timeoutMs: number
  /** How long a subject's latest version is kept before the registry is asked again (0: asked each time). */
  latestTtlMs: number
}

/** SCHEMA_REGISTRY_URL (unset: no registry), SCHEMA_REGISTRY_USERNAME and _PASSWORD (HTTP Basic), _TIMEOUT_MS, _LATEST_TTL_MS. */
function schemaRegistryConfig (get: (name: string) => string | undefined, problems: string[]): SchemaRegistryConfig | undefined {
  const url = get('SCHEMA_REGISTRY_URL')
  const username = get('SCHEMA_REGISTRY_USERNAME')
  const password = get('SCHEMA_REGISTRY_PASSWORD')
  const raw = get('SCHEMA_REGISTRY_TIMEOUT_MS')
  const timeoutMs = raw === undefined ? 5_000 : Number(raw)
  if (raw !== undefined && (!/^\d+$/.test(raw) || timeoutMs < 100 || timeoutMs > 300_000)) problems.push(`SCHEMA_REGISTRY_TIMEOUT_MS must be a whole number from 100 to 300000 (got '${raw}')`)
  const rawTtl = get('SCHEMA_REGISTRY_LATEST_TTL_MS')
  const latestTtlMs = rawTtl === undefined ? 5_000 : Number(rawTtl)
  if (rawTtl !== undefined && (!/^\d+$/.test(rawTtl) || latestTtlMs > 3_600_000)) problems.push(`SCHEMA_REGISTRY_LATEST_TTL_MS must be a whole number from 0 to 3600000 (got '${rawTtl}')`)
  if ((username === undefined) !== (password === undefined)) problems.push('SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD go together (both or neither)')
  if (url === undefined) {
    if (username !== undefined) problems.push('SCHEMA_REGISTRY_USERNAME is set but SCHEMA_REGISTRY_URL is not')
    return undefined
  }
  if (!/^https?:\/\/[^/\s?#]+(\/[^\s?#]*)?$/.test(url)) problems.push(`SCHEMA_REGISTRY_URL must be an http(s) URL without a query (got '${url}')`)
  return { url: url.replace(/\/+$/, ''), timeoutMs, latestTtlMs, ...(username !== undefined && password !== undefined ? { username, password } : {}) }
}

/**
 * The OpenTelemetry SDK's standard variables, as far as this service honours them: tracing is on when an OTLP
 * endpoint is set (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces) unless
 * OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none say otherwise. The exporter reads its other variables itself
 * (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION, the certificates), as does the batch span processor (OTEL_BSP_*).
 */
function tracingConfig (get: (name: string) => string | undefined, bool: (name: string) => boolean, problems: string[]): TracingConfig | undefined {
  const exporter = (get('OTEL_TRACES_EXPORTER') ?? 'otlp').toLowerCase()
  if (exporter !== 'otlp' && exporter !== 'none') problems.push(`OTEL_TRACES_EXPORTER must be otlp or none (got '${exporter}')`)
  const disabled = bool('OTEL_SDK_DISABLED')
  const specific = get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')
  const general = get('OTEL_EXPORTER_OTLP_ENDPOINT')
  const url = specific ?? (general !== undefined ? `${general.replace(/\/+$/, '')}/v1/traces` : undefined)
  if (url === undefined || disabled || exporter === 'none') return undefined
  if (!/^https?:\/\/[^/\s?#]+(\/[^\s]*)?$/.test(url)) {
    problems.push(`${specific !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT'} must be an http(s) URL (got '${specific ?? general ?? ''}')`)
  }
  const protocolVar = get('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL'
  const protocol = (get(protocolVar) ?? 'http/protobuf').toLowerCase()
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(protocol)) problems.push(`${protocolVar} must be one of ${OTLP_PROTOCOLS.join(', ')} (got '${protocol}'; grpc is not supported)`)
  const sampler = (get('OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on').toLowerCase()
  if (!(SAMPLERS as readonly string[]).includes(sampler)) problems.push(`OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(', ')} (got '${sampler}')`)
  const ratioRaw = get('OTEL_TRACES_SAMPLER_ARG')
  const ratio = ratioRaw === undefined ? 1 : Number(ratioRaw)
  if (sampler.endsWith('traceidratio') && (!/^\d*\.?\d+$/.test(ratioRaw ?? '1') || ratio > 1)) problems.push(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 (got '${ratioRaw ?? ''}')`)
  const resourceAttributes: Record<string, string> = {}
  for (const pair of (get('OTEL_RESOURCE_ATTRIBUTES') ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = pair.indexOf('=')
    let key = ''
    let value = ''
    try {
      key = decodeURIComponent(pair.slice(0, Math.max(0, i)).trim())
      value = decodeURIComponent(pair.slice(i + 1).trim())
    } catch { key = '' }
    if (i <= 0 || key === '') problems.push(`OTEL_RESOURCE_ATTRIBUTES entries must be key=value, percent-encoded (got '${pair}')`)
    else resourceAttributes[key] = value
  }
  return {
    url,
    protocol: protocol as OtlpProtocol,
    // OTEL_SERVICE_NAME wins over a service.name in OTEL_RESOURCE_ATTRIBUTES, as the specification says.
    serviceName: get('OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? 'kosha-kafka-connector',
    sampler: sampler as SamplerName,
    samplerRatio: Number.isFinite(ratio) ? Math.min(1, Math.max(0, ratio)) : 1,
    resourceAttributes
  }
}
