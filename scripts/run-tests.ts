// `npm test`: one real Kafka for the whole run, then tap, then the line CI reads: "N passed, N failed".
// The broker, in this order:
//   1. KAFKA_BOOTSTRAP is set: that external cluster (KAFKA_SASL_BOOTSTRAP for its SASL listener, if it has one
//      with the users of test/kafka.ts; without it the SASL tests are skipped and say so; the KAFKA_SSL_* variables
//      of TLS_VARIABLES for its TLS listeners and their test PKI, as scripts/kafka writes them; without them the TLS
//      tests are skipped and say so);
//   2. a Docker engine answers: testcontainers starts the apache/kafka image (PLAINTEXT and SASL_PLAINTEXT only: the
//      TLS tests are skipped there);
//   3. otherwise the local Kafka that scripts/kafka assembles from Maven Central, in a temporary directory, with
//      every listener (its bootstrap.env names them), and beside it a 3-node cluster for the fault tests
//      (KAFKA_CLUSTER3_BOOTSTRAP, KAFKA_CLUSTER3_DIR; with 1. or 2. there is none, and test/faults.test.ts is
//      skipped, saying why).
// Beside the broker, a Schema Registry (scripts/schema-registry, or SCHEMA_REGISTRY_URL): see schemaRegistry below.
// Arguments are passed to tap (e.g. `npm test -- test/kafka-harness.test.ts`).
// A whole run (no arguments) also fuzzes (scripts/fuzz.ts), which counts as one test. With the local Kafka, on a
// broker of its own started beside the others (the fuzzer writes broker configs and ACLs and deletes what it finds),
// at the same time as the tap files, its output printed after theirs; on an external broker only with KOSHA_FUZZ=1
// (say so only for a cluster nobody else relies on), after the tap files, once nothing else uses it.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Parser, type Result } from 'tap-parser'
import { fuzz } from './fuzz'

interface Broker {
  kind: string
  /** Started by this run, for it alone. */
  owned: boolean
  env: Record<string, string>
  /** A broker for the fuzzer alone, started by this run: it fuzzes while the tap files run. */
  fuzzBootstrap?: string
  stop: () => Promise<void>
}

const root = path.resolve(__dirname, '..')
const portBase = Number(process.env.KAFKA_TEST_PORT_BASE ?? 29092) // below Linux's ephemeral ports (32768-60999), which a client socket may hold
// The 3-node cluster's ports: P, P+10, P+20 (each +1 SASL, +2 controller).
const cluster3PortBase = Number(process.env.KAFKA_TEST_CLUSTER3_PORT_BASE ?? portBase + 700)
// The fuzzer's own broker: P+500 (29592 by default), clear of the others and of the benchmark's (29192, 29292).
const fuzzPortBase = Number(process.env.KAFKA_TEST_FUZZ_PORT_BASE ?? portBase + 500)
const KAFKA_IMAGE = 'apache/kafka:4.2.1'

// What scripts/kafka writes for its TLS listeners (test/kafka.ts reads them).
const TLS_VARIABLES = ['KAFKA_SSL_BOOTSTRAP', 'KAFKA_SASL_SSL_BOOTSTRAP', 'KAFKA_MTLS_BOOTSTRAP', 'KAFKA_SSL_CA', 'KAFKA_SSL_CLIENT_CERT', 'KAFKA_SSL_CLIENT_KEY', 'KAFKA_SSL_OTHER_CA']

async function externalBroker (): Promise<Broker | undefined> {
  const bootstrap = process.env.KAFKA_BOOTSTRAP
  if (!bootstrap) return undefined
  const env: Record<string, string> = { KAFKA_BOOTSTRAP: bootstrap }
  for (const name of ['KAFKA_SASL_BOOTSTRAP', 'KAFKA_SASL_OAUTHBEARER', ...TLS_VARIABLES]) {
    const value = process.env[name]
    if (value) env[name] = value
  }
  return { kind: `external cluster at ${bootstrap}`, owned: false, env, stop: async () => {} }
}

async function containerBroker (): Promise<Broker | undefined> {
  const tc = await import('testcontainers')
  let client: Awaited<ReturnType<typeof tc.getContainerRuntimeClient>>
  try {
    client = await tc.getContainerRuntimeClient()
  } catch {
    return undefined // no Docker engine answers
  }
  const image = process.env.KAFKA_TEST_IMAGE ?? KAFKA_IMAGE
  // An engine without a bridge network (dockerd --bridge=none, as on this project's machines) runs containers on the
  // host's network only: the broker then listens on the test ports itself instead of behind published ports.
  const networks = await client.container.dockerode.listNetworks()
  const hostNetwork = !networks.some((n) => n.Name === 'bridge')
  const sasl = portBase + 1
  const controller = portBase + 2
  const [plainIn, saslIn, controllerIn] = hostNetwork ? [portBase, sasl, controller] : [9092, 9093, 9094]
  const jaasPlain = 'org.apache.kafka.common.security.plain.PlainLoginModule required ' +
    'user_admin="admin-secret" user_kosha="kosha-secret" user_noacl="noacl-secret";'
  const jaasScram = 'org.apache.kafka.common.security.scram.ScramLoginModule required;'
  const jaasOauth = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;'
  const container = new tc.GenericContainer(image)
  if (hostNetwork) container.withNetworkMode('host')
  else container.withExposedPorts({ container: 9092, host: portBase }, { container: 9093, host: sasl })
  const started = await container
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_CONTROLLER_QUORUM_VOTERS: `1@127.0.0.1:${controllerIn}`,
      KAFKA_LISTENERS: `PLAINTEXT://${hostNetwork ? '127.0.0.1' : ''}:${plainIn},SASL_PLAINTEXT://${hostNetwork ? '127.0.0.1' : ''}:${saslIn},CONTROLLER://${hostNetwork ? '127.0.0.1' : ''}:${controllerIn}`,
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${portBase},SASL_PLAINTEXT://127.0.0.1:${sasl}`,
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'PLAINTEXT',
      KAFKA_SASL_ENABLED_MECHANISMS: 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
      // the image maps KAFKA_A_B to a.b, __ to _ and ___ to -
      KAFKA_LISTENER_NAME_SASL__PLAINTEXT_PLAIN_SASL_JAAS_CONFIG: jaasPlain,
      KAFKA_LISTENER_NAME_SASL__PLAINTEXT_SCRAM___SHA___256_SASL_JAAS_CONFIG: jaasScram,
      KAFKA_LISTENER_NAME_SASL__PLAINTEXT_SCRAM___SHA___512_SASL_JAAS_CONFIG: jaasScram,
      KAFKA_LISTENER_NAME_SASL__PLAINTEXT_OAUTHBEARER_SASL_JAAS_CONFIG: jaasOauth,
      KAFKA_AUTHORIZER_CLASS_NAME: 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      KAFKA_SUPER_USERS: 'User:ANONYMOUS;User:admin',
      KAFKA_NUM_PARTITIONS: '1',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0'
    })
    .withWaitStrategy(tc.Wait.forLogMessage('Kafka Server started'))
    .withStartupTimeout(120_000)
    .start()
  try {
    // The users of test/kafka.ts (SCRAM credentials through Kafka's own tool, in the container), and the test user's
    // ACLs through the Admin API (as scripts/local-kafka/Acls.java grants them to the local Kafka).
    // One mechanism a call: Kafka 4 refuses a request that alters one user's credentials twice.
    for (const user of ['admin', 'kosha', 'noacl']) {
      for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
        const r = await started.exec(['/opt/kafka/bin/kafka-configs.sh', '--bootstrap-server', `127.0.0.1:${plainIn}`, '--alter', '--entity-type', 'users',
          '--entity-name', user, '--add-config', `${mechanism}=[password=${user}-secret]`])
        if (r.exitCode !== 0) throw new Error(`kafka-configs.sh failed (${r.exitCode}): ${r.output}`)
      }
    }
    await grantAll(`127.0.0.1:${portBase}`, 'User:kosha')
  } catch (err) {
    await started.stop()
    throw err
  }
  return {
    kind: `testcontainers ${image}${hostNetwork ? ' (host network)' : ''}`,
    owned: true,
    env: { KAFKA_BOOTSTRAP: `127.0.0.1:${portBase}`, KAFKA_SASL_BOOTSTRAP: `127.0.0.1:${sasl}`, KAFKA_SASL_OAUTHBEARER: 'unsecured' },
    stop: async () => { await started.stop() }
  }
}

/** Every operation on every topic, group, transactional id and the cluster, for one principal. */
async function grantAll (bootstrap: string, principal: string): Promise<void> {
  const { Admin, AclOperations, AclPermissionTypes, ResourcePatternTypes, ResourceTypes } = await import('@platformatic/kafka')
  const admin = new Admin({ clientId: 'kosha-tests-acls', bootstrapBrokers: [bootstrap] })
  const entry = { principal, host: '*', operation: AclOperations.ALL, permissionType: AclPermissionTypes.ALLOW }
  try {
    await admin.createAcls({
      creations: [
        { resourceType: ResourceTypes.TOPIC, resourceName: '*', resourcePatternType: ResourcePatternTypes.LITERAL, ...entry },
        { resourceType: ResourceTypes.GROUP, resourceName: '*', resourcePatternType: ResourcePatternTypes.LITERAL, ...entry },
        { resourceType: ResourceTypes.TRANSACTIONAL_ID, resourceName: '*', resourcePatternType: ResourcePatternTypes.LITERAL, ...entry },
        { resourceType: ResourceTypes.CLUSTER, resourceName: 'kafka-cluster', resourcePatternType: ResourcePatternTypes.LITERAL, ...entry }
      ]
    })
  } finally {
    await admin.close()
  }
}

interface LocalCluster { dir: string, env: Record<string, string>, stop: () => Promise<void> }

// One `scripts/kafka` call on a cluster's directory; its output goes through with a prefix, since two clusters
// start side by side.
function kafka (dir: string, prefix: string, ...args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('bash', [path.join(root, 'scripts/kafka'), ...args, '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] })
    for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]] as const) {
      let rest = ''
      from.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString('utf8')).split('\n')
        rest = lines.pop() ?? ''
        for (const line of lines) to.write(`${prefix}${line}\n`)
      })
      from.on('end', () => { if (rest) to.write(`${prefix}${rest}\n`) })
    }
    child.on('exit', (code) => resolve(code ?? 1))
  })
}

async function localCluster (nodes: 1 | 3, base: number): Promise<LocalCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), nodes === 1 ? 'kosha-kafka-test-' : 'kosha-kafka-test3-'))
  const prefix = nodes === 1 ? '' : '[3 nodes] '
  const stop = async (): Promise<void> => {
    await kafka(dir, prefix, 'stop')
    rmSync(dir, { recursive: true, force: true })
  }
  if (await kafka(dir, prefix, 'start', '--nodes', String(nodes), '--port-base', String(base)) !== 0) {
    await stop()
    throw new Error(`the local Kafka (${nodes} node${nodes === 1 ? '' : 's'}) did not start (its log is printed above)`)
  }
  const env = Object.fromEntries(readFileSync(path.join(dir, 'bootstrap.env'), 'utf8').trim().split('\n').map((l) => l.split('=', 2) as [string, string]))
  return { dir, env, stop }
}

// The local Kafka: the one broker every test shares, and beside it, started at the same time, the 3-node cluster
// (replication factor 3, min ISR 2) whose nodes test/faults.test.ts kills. Its ports: KAFKA_TEST_CLUSTER3_PORT_BASE,
// default portBase+700 (29792-29794, 29802-29804, 29812-29814), clear of the single broker's and of the benchmark's.
async function localBroker (wholeRun: boolean): Promise<Broker> {
  const wanted = [localCluster(1, portBase), localCluster(3, cluster3PortBase), ...(wholeRun ? [localCluster(1, fuzzPortBase)] : [])]
  const started = await Promise.allSettled(wanted)
  const [single, three, forFuzz] = started
  if (single?.status !== 'fulfilled' || three?.status !== 'fulfilled' || (forFuzz !== undefined && forFuzz.status !== 'fulfilled')) {
    for (const c of started) if (c.status === 'fulfilled') await c.value.stop()
    const reason: unknown = started.find((c): c is PromiseRejectedResult => c.status === 'rejected')?.reason
    throw reason instanceof Error ? reason : new Error(String(reason))
  }
  const fuzzCluster = forFuzz?.status === 'fulfilled' ? forFuzz.value : undefined
  return {
    kind: `local Kafka (scripts/kafka) in ${single.value.dir}, 3 nodes in ${three.value.dir}${fuzzCluster ? `, and the fuzzer's in ${fuzzCluster.dir}` : ''}`,
    owned: true,
    env: {
      ...single.value.env,
      KAFKA_CLUSTER3_BOOTSTRAP: three.value.env.KAFKA_BOOTSTRAP ?? '',
      KAFKA_CLUSTER3_DIR: three.value.dir
    },
    ...(fuzzCluster?.env.KAFKA_BOOTSTRAP !== undefined ? { fuzzBootstrap: fuzzCluster.env.KAFKA_BOOTSTRAP } : {}),
    stop: async () => { await Promise.all([single.value.stop(), three.value.stop(), fuzzCluster?.stop()]) }
  }
}

interface Registry { kind: string, env: Record<string, string>, stop: () => Promise<void> }

/**
 * The Schema Registry of the run: SCHEMA_REGISTRY_URL when set (an external one), else scripts/schema-registry
 * (Apicurio, in memory) on KAFKA_TEST_PORT_BASE+900 (29992), started beside the brokers. Without one the tests of the
 * schema formats are skipped, saying why.
 */
async function schemaRegistry (): Promise<Registry | undefined> {
  const url = process.env.SCHEMA_REGISTRY_URL
  if (url) return { kind: `external schema registry at ${url}`, env: { SCHEMA_REGISTRY_URL: url }, stop: async () => {} }
  const dir = mkdtempSync(path.join(tmpdir(), 'kosha-registry-test-'))
  const run = (...args: string[]): Promise<number> => new Promise((resolve) => {
    const child = spawn('bash', [path.join(root, 'scripts/schema-registry'), ...args, '--dir', dir], { stdio: ['ignore', 'inherit', 'inherit'] })
    child.on('exit', (code) => resolve(code ?? 1))
  })
  const stop = async (): Promise<void> => { await run('stop'); rmSync(dir, { recursive: true, force: true }) }
  if (await run('start', '--port', String(portBase + 900)) !== 0) {
    await stop()
    console.log('tests: the schema registry did not start (see above): the schema format tests are skipped')
    return undefined
  }
  const env = Object.fromEntries(readFileSync(path.join(dir, 'registry.env'), 'utf8').trim().split('\n').map((l) => l.split('=', 2) as [string, string]))
  return { kind: `schema registry (scripts/schema-registry) in ${dir}`, env, stop }
}

interface Counts { passed: number, failed: number, skipped: number }

// Counts the tests of each file (its top-level t.test()s; a file with none counts as one test), read from
// tap's raw TAP, so that the closing line says how many tests passed, not how many assertions.
function count (tap: string): Counts {
  const counts: Counts = { passed: 0, failed: 0, skipped: 0 }
  const root = new Parser()
  root.on('child', (file: Parser) => {
    let tests = 0
    file.on('assert', (r: Result) => {
      tests++
      if (r.skip || r.todo) counts.skipped++
      else if (r.ok) counts.passed++
      else counts.failed++
    })
    file.on('complete', (result: { ok: boolean }) => {
      if (tests === 0) {
        if (result.ok) counts.passed++
        else counts.failed++
      }
    })
  })
  root.end(tap)
  return counts
}

async function main (): Promise<number> {
  const started = Date.now()
  const wholeRun = process.argv.length <= 2
  const registryStarting = schemaRegistry()
  const broker = await (async () => (await externalBroker()) ?? (await containerBroker()) ?? (await localBroker(wholeRun)))()
    .catch(async (err: unknown) => { await (await registryStarting)?.stop(); throw err })
  const registry = await registryStarting
  const stopAll = async (): Promise<void> => { await Promise.all([broker.stop(), registry?.stop()]) }
  broker.env = { ...broker.env, ...registry?.env }
  // Ctrl-C or a CI time-out must not leave a broker behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => { stopAll().finally(() => process.exit(130)) })
  }
  console.log(`tests: broker: ${broker.kind}${registry !== undefined ? `; ${registry.kind}` : ''}`)
  console.log(`tests: ${Object.entries(broker.env).map(([k, v]) => `${k}=${v}`).join(' ')}`)
  // A terminal gets tap's own reporter; a log (CI) gets plain TAP. Either way the raw TAP is kept to count from.
  const tty = process.stdout.isTTY
  const rawDir = mkdtempSync(path.join(tmpdir(), 'kosha-tap-'))
  const rawTap = path.join(rawDir, 'tap.txt')
  const args = tty ? ['--output-file', rawTap] : ['--reporter', 'tap']
  let status = 1
  let tapText = ''
  let fuzzed: { ok: boolean } | { skipped: string } = { skipped: 'only a whole run fuzzes (tap was given arguments)' }
  // The fuzzer's own broker: it fuzzes meanwhile, its output kept until tap's is done.
  let fuzzOutput = ''
  const fuzzing = wholeRun && broker.fuzzBootstrap !== undefined
    ? fuzz(broker.fuzzBootstrap, { write: (s) => { fuzzOutput += s }, registryUrl: broker.env.SCHEMA_REGISTRY_URL }).catch((err: unknown) => ({ ok: false, summary: String(err), seconds: 0 }))
    : undefined
  try {
    status = await new Promise<number>((resolve) => {
      const tap = spawn(path.join(root, 'node_modules/.bin/tap'), [...args, ...process.argv.slice(2)], {
        cwd: root,
        env: { ...process.env, ...broker.env },
        stdio: ['inherit', tty ? 'inherit' : 'pipe', 'inherit']
      })
      tap.stdout?.on('data', (chunk: Buffer) => {
        process.stdout.write(chunk)
        tapText += chunk.toString('utf8')
      })
      tap.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
    })
    if (fuzzing) {
      const result = await fuzzing
      console.log(`tests: fuzzing: schemathesis against the service on a broker of its own (scripts/fuzz.ts), while the tap files ran\n${fuzzOutput}`)
      console.log(`tests: fuzzing ${result.ok ? 'passed' : 'FAILED'}: ${result.summary} (${result.seconds}s)`)
      fuzzed = { ok: result.ok }
    } else if (wholeRun) {
      if (broker.owned || process.env.KOSHA_FUZZ === '1') {
        console.log('tests: fuzzing: schemathesis against the service on this broker (scripts/fuzz.ts)')
        const result = await fuzz(broker.env.KAFKA_BOOTSTRAP ?? '', { registryUrl: broker.env.SCHEMA_REGISTRY_URL }).catch((err: unknown) => ({ ok: false, summary: String(err), seconds: 0 }))
        console.log(`tests: fuzzing ${result.ok ? 'passed' : 'FAILED'}: ${result.summary} (${result.seconds}s)`)
        fuzzed = { ok: result.ok }
      } else {
        fuzzed = { skipped: 'the broker is external and may be shared: set KOSHA_FUZZ=1 to fuzz it' }
      }
    }
  } finally {
    await stopAll()
  }
  const counts = count(tty ? readFileSync(rawTap, 'utf8') : tapText)
  rmSync(rawDir, { recursive: true, force: true })
  // The fuzzing step is one test more.
  if ('skipped' in fuzzed) {
    console.log(`tests: fuzzing skipped: ${fuzzed.skipped}`)
    counts.skipped++
  } else if (fuzzed.ok) counts.passed++
  else counts.failed++
  // tap also fails a run on a missed coverage floor: that is not a failed test, so say it.
  if (status !== 0 && counts.failed === 0) console.log(`tests: tap exited ${status} (see above: coverage below the floor, or a file that did not run)`)
  console.log(`tests: the whole run took ${Math.round((Date.now() - started) / 1000)}s`)
  console.log(`${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`)
  return status !== 0 && counts.failed === 0 ? status : counts.failed > 0 ? 1 : 0
}

main().then((code) => { process.exitCode = code }, (err: unknown) => {
  console.error(err)
  console.log('0 passed, 1 failed')
  process.exitCode = 1
})
