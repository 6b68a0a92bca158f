// The real broker the whole test run shares, and small helpers around it.
// scripts/run-tests.ts chooses the broker (an external cluster, testcontainers, or the local Maven-built Kafka)
// and passes its addresses in the environment; nothing here starts or fakes a broker.
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import { promisify } from 'node:util'
import { KafkaJS } from '@confluentinc/kafka-javascript'
import { Admin } from '@platformatic/kafka'

export type Mechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'
export interface SaslUser { username: string, password: string }

// The users that scripts/kafka (and the testcontainers broker) create. Test-only secrets.
export const USERS = {
  admin: { username: 'admin', password: 'admin-secret' },
  test: { username: 'kosha', password: 'kosha-secret' },
  noAcl: { username: 'noacl', password: 'noacl-secret' }
} as const satisfies Record<string, SaslUser>

function required (name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: run the tests with "npm test", which chooses and starts a broker`)
  return value
}

/** PLAINTEXT bootstrap addresses, comma-separated. */
export const bootstrap = (): string => required('KAFKA_BOOTSTRAP')

/** SASL_PLAINTEXT bootstrap addresses, or undefined where the chosen cluster has no SASL listener. */
export const saslBootstrap = (): string | undefined => process.env.KAFKA_SASL_BOOTSTRAP || undefined

/** The broker's TLS listeners and the files of their test PKI (scripts/kafka makes them in its directory). */
export interface TlsListeners {
  /** SSL: TLS only (the ANONYMOUS super user, as PLAINTEXT). */
  ssl: string
  /** SASL_SSL: TLS, then the SASL users of USERS with PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512. */
  saslSsl: string
  /** SSL with ssl.client.auth=required: a client certificate signed by `ca`; its CN is the user. */
  mtls: string
  /** The CA (PEM) that signed the brokers' and the client's certificates. */
  ca: string
  /** A client certificate (CN=kosha: the test user) and its key, PEM. */
  clientCert: string
  clientKey: string
  /** A CA that signed nothing the brokers present. */
  otherCa: string
}

const TLS_ENV = {
  ssl: 'KAFKA_SSL_BOOTSTRAP',
  saslSsl: 'KAFKA_SASL_SSL_BOOTSTRAP',
  mtls: 'KAFKA_MTLS_BOOTSTRAP',
  ca: 'KAFKA_SSL_CA',
  clientCert: 'KAFKA_SSL_CLIENT_CERT',
  clientKey: 'KAFKA_SSL_CLIENT_KEY',
  otherCa: 'KAFKA_SSL_OTHER_CA'
} as const satisfies Record<keyof TlsListeners, string>

/** The TLS listeners, or undefined where the chosen cluster has none (an external cluster without the KAFKA_SSL_* variables). */
export function tlsListeners (): TlsListeners | undefined {
  const entries = Object.entries(TLS_ENV).map(([key, name]) => [key, process.env[name]] as const)
  if (entries.some(([, value]) => !value)) return undefined
  return Object.fromEntries(entries) as unknown as TlsListeners
}

/** A tap skip reason when the cluster has no TLS listeners. */
export const TLS_SKIP = `the cluster has no TLS listeners (${Object.values(TLS_ENV).join(', ')} are not all set)`

/** A topic or group name no other test uses. */
export function uniqueName (prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`
}

export interface ClientOptions {
  sasl?: { mechanism: Mechanism, user: SaslUser }
}

export function kafkaClient (options: ClientOptions = {}): KafkaJS.Kafka {
  const sasl = options.sasl
  const brokers = (sasl ? saslBootstrap() ?? '' : bootstrap()).split(',')
  return new KafkaJS.Kafka({
    kafkaJS: {
      brokers,
      logLevel: KafkaJS.logLevel.NOTHING,
      connectionTimeout: 5000,
      ...(sasl
        ? {
            sasl: {
              mechanism: sasl.mechanism.toLowerCase() as 'plain' | 'scram-sha-256' | 'scram-sha-512',
              username: sasl.user.username,
              password: sasl.user.password
            }
          }
        : {})
    }
  })
}

interface Teardown { teardown: (fn: () => unknown) => void }

/** An admin client over PLAINTEXT (the ANONYMOUS super user), disconnected when the test ends. */
export async function adminClient (t: Teardown): Promise<KafkaJS.Admin> {
  const admin = kafkaClient().admin()
  await admin.connect()
  t.teardown(() => admin.disconnect())
  return admin
}

/** Creates a topic (a unique name unless one is given), waits until the broker's metadata shows it, and deletes
 * it when the test ends. */
export async function createTopic (t: Teardown, options: { prefix?: string, name?: string, partitions?: number, config?: Record<string, string> } = {}): Promise<string> {
  const admin = await adminClient(t)
  const topic = options.name ?? uniqueName(options.prefix ?? 'test')
  const configEntries = Object.entries(options.config ?? {}).map(([name, value]) => ({ name, value }))
  await admin.createTopics({ topics: [{ topic, numPartitions: options.partitions ?? 1, configEntries }] })
  t.teardown(() => admin.deleteTopics({ topics: [topic] }).catch(() => undefined))
  for (let i = 0; i < 50; i++) {
    const [md] = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => [])
    if (md && md.partitions.length === (options.partitions ?? 1) && md.partitions.every((p) => p.leader >= 0)) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return topic
}

/** The cluster's id, as Kafka itself reports it (not through the service). */
export async function clusterId (t: Teardown): Promise<string> {
  const admin = new Admin({ clientId: 'kosha-test', bootstrapBrokers: bootstrap().split(',') })
  t.teardown(() => admin.close())
  return (await admin.metadata({ topics: [] })).id
}

// Kafka's own ConfigCommand (kafka-configs.sh), from the jars scripts/kafka runs the broker with: an admin client that
// shares no code with the service, to read what a config write did.
const execFileAsync = promisify(execFile)
const KAFKA_LIB = path.resolve(__dirname, '..', 'scripts', 'local-kafka', 'lib')

/**
 * The dynamic configs Kafka holds for one broker, or for every broker (`'default'`: the cluster-wide ones), by name,
 * as `kafka-configs.sh --describe` prints them.
 */
export async function kafkaDynamicConfigs (broker: number | 'default'): Promise<Map<string, string>> {
  const entity = broker === 'default' ? ['--entity-default'] : ['--entity-name', String(broker)]
  const { stdout } = await execFileAsync('java', ['-cp', `${KAFKA_LIB}/*`, 'kafka.admin.ConfigCommand', '--bootstrap-server', bootstrap().split(',')[0] ?? '',
    '--entity-type', 'brokers', ...entity, '--describe'], { timeout: 60_000 })
  // "  log.cleaner.backoff.ms=21000 sensitive=false synonyms={...}"
  return new Map([...stdout.matchAll(/^ {2}([a-z0-9._-]+)=(.*?) sensitive=/gm)].map((m) => [m[1] ?? '', m[2] ?? '']))
}
