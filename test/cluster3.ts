// The run's 3-node cluster, for the tests that kill brokers (test/faults.test.ts). scripts/run-tests.ts starts it
// beside the 1-node broker when the run uses the local Kafka of scripts/kafka, and passes its bootstrap addresses and
// its directory (where scripts/kafka keeps each node's pid, data and log); with an external cluster or testcontainers
// there is none: nodes cannot be killed there, and the fault tests are skipped.
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { Admin } from '@platformatic/kafka'

const execFileAsync = promisify(execFile)
const KAFKA = path.resolve(__dirname, '..', 'scripts', 'kafka')

export interface Cluster3 {
  /** PLAINTEXT bootstrap addresses of the three nodes, comma-separated. */
  bootstrap: string
  /** scripts/kafka's --dir of the cluster. */
  dir: string
  /** Node (and broker) ids: scripts/kafka numbers them 1..3. */
  nodes: readonly number[]
}

/** Why the fault tests do not run, or undefined when the run has a 3-node cluster. */
export const noCluster3 = (): string | undefined => process.env.KAFKA_CLUSTER3_BOOTSTRAP && process.env.KAFKA_CLUSTER3_DIR
  ? undefined
  : 'no 3-node cluster in this run: scripts/run-tests.ts starts one only with the local Kafka of scripts/kafka ' +
    '(an external cluster or testcontainers gives no way to kill a broker); KAFKA_CLUSTER3_BOOTSTRAP and KAFKA_CLUSTER3_DIR are unset'

export function cluster3 (): Cluster3 {
  const bootstrap = process.env.KAFKA_CLUSTER3_BOOTSTRAP
  const dir = process.env.KAFKA_CLUSTER3_DIR
  if (!bootstrap || !dir) throw new Error(noCluster3())
  return { bootstrap, dir, nodes: [1, 2, 3] }
}

async function kafka (c: Cluster3, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('bash', [KAFKA, ...args, '--dir', c.dir], { timeout: 180_000 })
  return stdout
}

/** SIGKILLs one node (every node without an id), as a crash would: no controlled shutdown, nothing handed over. */
export async function killNode (c: Cluster3, node?: number): Promise<void> {
  await kafka(c, 'kill', ...(node !== undefined ? ['--node', String(node)] : []))
}

/** Starts one node again (every stopped node without an id), with its data, and resolves once it is ready. */
export async function startNodes (c: Cluster3, node?: number): Promise<void> {
  await kafka(c, 'start-node', ...(node !== undefined ? ['--node', String(node)] : []))
}

/** The node id of the active KRaft controller (the metadata quorum's leader). */
export async function activeController (c: Cluster3): Promise<number> {
  return Number((await kafka(c, 'controller')).trim())
}

/** A test-side admin client on the cluster (not the service's), closed when the test ends. */
export function clusterAdmin (t: { teardown: (fn: () => unknown) => void }, c: Cluster3): Admin {
  const admin = new Admin({ clientId: 'kosha-faults-test', bootstrapBrokers: c.bootstrap.split(','), retries: 3, timeout: 5000, connectTimeout: 2000 })
  t.teardown(() => admin.close())
  return admin
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls until `check` resolves true (errors count as false); rejects after `ms`, naming what was awaited. */
export async function until (what: string, ms: number, check: () => Promise<boolean>, every = 250): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`)
    await sleep(every)
  }
}

/** Resolves once every partition of these topics has all three replicas in sync (after a node came back). */
export async function fullyReplicated (admin: Admin, topics: string[], ms = 60_000): Promise<void> {
  await until(`every partition of ${topics.join(', ')} has 3 in-sync replicas`, ms, async () => {
    const md = await admin.metadata({ topics, forceUpdate: true })
    return topics.every((name) => {
      const topic = md.topics.get(name)
      return topic !== undefined && topic.partitions.every((p) => p.leader >= 0 && p.isr.length === 3)
    })
  }, 500)
}

/** The sum of the partitions' end offsets (every record ever written, acknowledged or not). */
export async function endOffsets (admin: Admin, topic: string, partitions: number): Promise<number> {
  const [listed] = await admin.listOffsets({
    topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n })) }]
  })
  return (listed?.partitions ?? []).reduce((sum, p) => sum + Number(p.offset), 0)
}
