// The Docker engine for the deploy tests: the `docker` command line, as a user runs it. These tests run where an
// engine answers and scripts/containers built the images (KOSHA_IMAGE, KOSHA_KAFKA_IMAGE); elsewhere (CI has no
// engine: see README, Deploying) they skip and say why.
import { spawn, spawnSync } from 'node:child_process'

export interface Run { code: number, stdout: string, stderr: string }

/** docker <args>, waited for; never throws. */
export function docker (args: string[], options: { timeoutMs?: number, env?: NodeJS.ProcessEnv, cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn('docker', args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    child.on('error', (err) => { clearTimeout(timer); resolve({ code: 127, stdout, stderr: stderr + String(err) }) })
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? 1, stdout, stderr }) })
  })
}

/** Why these tests cannot run here, or undefined when they can: an engine answers and the images exist. */
export function skipReason (images: string[]): string | undefined {
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 20_000 })
  if (info.error !== undefined || info.status !== 0) return 'no Docker engine answers (scripts/containers starts one and builds the images)'
  for (const image of images) {
    if (spawnSync('docker', ['image', 'inspect', image], { timeout: 20_000 }).status !== 0) {
      return `the image ${image} is not built (scripts/containers images builds it)`
    }
  }
  return undefined
}

export const IMAGE = process.env.KOSHA_IMAGE ?? 'kosha-kafka-connector:dev'
export const KAFKA_IMAGE = process.env.KOSHA_KAFKA_IMAGE ?? 'kosha-kafka:4.2.1'
