// `docker compose up` as the README tells users to run it (here with Debian's docker-compose, the host-network
// variant and the images scripts/containers built): Kafka and the connector come up healthy, and every curl example of
// the README's API section, run as written, succeeds against it: a topic created, a record produced and consumed
// back, the consumer and the topic deleted. `down` stops the connector gracefully.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { docker, IMAGE, KAFKA_IMAGE, skipReason } from './docker'

const root = path.resolve(__dirname, '..', '..')
const PORTS = [8000, 9092, 9093, 9094] // the connector, Kafka's client, controller and internal listeners

/** Debian's docker-compose (1.x), else the compose plugin. */
function composeCommand (): string[] | undefined {
  if (spawnSync('docker-compose', ['version'], { timeout: 20_000 }).status === 0) return ['docker-compose']
  if (spawnSync('docker', ['compose', 'version'], { timeout: 20_000 }).status === 0) return ['docker', 'compose']
  return undefined
}

function portFree (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

/** The curl commands of the README's API section, continuation lines joined, comments dropped. */
export function readmeCurls (): string[] {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('\n## The API'))
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? ''
  return block.replace(/\\\n\s*/g, ' ').split('\n')
    .filter((line) => line.startsWith('curl '))
    .map((line) => line.replace(/\s+#\s.*$/, '').trim())
}

const compose = composeCommand()
const skip = skipReason([IMAGE, KAFKA_IMAGE]) ?? (compose === undefined ? 'neither docker-compose nor docker compose is installed' : undefined)

t.test('docker compose up: Kafka and the connector, and the README\'s curl examples work against them', { skip }, async (t) => {
  if (compose === undefined) throw new Error('unreachable')
  const busy = (await Promise.all(PORTS.map(async (p) => await portFree(p) ? undefined : p))).filter((p) => p !== undefined)
  if (busy.length > 0) {
    t.fail(`ports ${busy.join(', ')} are taken on 127.0.0.1: the compose file needs them; stop what holds them`)
    return
  }
  const env = { ...process.env, KAFKA_IMAGE, CONNECTOR_IMAGE: IMAGE }
  const files = ['-p', `koshatest${process.pid}`, '-f', 'docker-compose.yml', '-f', 'docker-compose.host.yml']
  const run = (args: string[], timeoutMs = 180_000): ReturnType<typeof docker> => {
    const [command, ...rest] = compose
    if (command === 'docker') return docker([...rest, ...files, ...args], { env, cwd: root, timeoutMs })
    return new Promise((resolve) => {
      const r = spawnSync(command ?? 'docker-compose', [...files, ...args], { env, cwd: root, encoding: 'utf8', timeout: timeoutMs })
      resolve({ code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr })
    })
  }
  t.teardown(async () => {
    if (!t.passing()) {
      const logs = await run(['logs', '--tail', '40'])
      t.comment(`compose logs:\n${logs.stdout}`)
    }
    await run(['down', '-v'])
  })

  const up = await run(['up', '-d', '--no-build'])
  t.equal(up.code, 0, `up: ${up.stderr}`)
  const deadline = Date.now() + 120_000
  while ((await fetch('http://localhost:8000/readyz').catch(() => undefined))?.status !== 200) {
    if (Date.now() > deadline) throw new Error('the connector was not ready within 120 s')
    await sleep(500)
  }
  t.pass('the connector is ready on localhost:8000, its Kafka reachable')

  const curls = readmeCurls()
  t.ok(curls.length >= 10, `the README's API section has its curl examples (${curls.length})`)
  const outputs = new Map<string, string>()
  for (const command of curls) {
    // As written, but failing on an HTTP error (the body still printed) and bounded in time.
    const r = spawnSync('bash', ['-c', command.replace(/^curl -s /, 'curl -sS --fail-with-body --max-time 40 ')], { encoding: 'utf8', timeout: 60_000 })
    t.equal(r.status, 0, `${command}\n  -> ${r.stdout.slice(0, 300)}${r.stderr}`)
    outputs.set(command, r.stdout)
  }
  const out = (part: string): string => [...outputs].find(([c]) => c.includes(part))?.[1] ?? ''
  t.match(out('/api/v1/create'), /"topic":"orders","error":null/, 'the topic is created')
  t.match(out('/api/v1/produce/orders'), /"result":"success"/, 'the record is produced')
  t.match(out('/consume?timeout'), /"orderId":42/, 'and consumed back')
  t.match(out('/readyz'), /"status":"ready"/)

  const down = await run(['stop', '-t', '30', 'connector'])
  t.equal(down.code, 0, `stop: ${down.stderr}`)
  const ps = await run(['ps', '-q', 'connector'])
  const id = ps.stdout.trim()
  const exit = await docker(['inspect', '-f', '{{.State.ExitCode}}', id])
  t.equal(exit.stdout.trim(), '0', 'the connector stops gracefully (exit 0) on compose\'s SIGTERM')
})
