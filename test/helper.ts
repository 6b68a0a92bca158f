// Builds the real app, with the same factory options as production, against the real broker of this test run.
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import app, { serverOptions } from '../app'
import { loadConfig } from '../lib/config'
import { bootstrap } from './kafka'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface BuildOptions {
  /** Environment variables on top of BROKER_ADDRESS (the test broker's PLAINTEXT listener). */
  env?: Record<string, string>
  /** Collects every log line (JSON) the app writes. */
  logs?: string[]
}

export async function build (t: Teardown, options: BuildOptions = {}): Promise<FastifyInstance> {
  const config = loadConfig({ BROKER_ADDRESS: bootstrap(), LOG_LEVEL: options.logs ? 'info' : 'silent', ...options.env })
  const base = serverOptions(config)
  const logs = options.logs
  const fastify = Fastify(logs
    ? {
        ...base,
        logger: {
          ...(base.logger as object),
          stream: new Writable({ write (chunk: Buffer, _enc, done) { logs.push(chunk.toString('utf8')); done() } })
        }
      }
    : base)
  await fastify.register(app, { config })
  await fastify.ready()
  t.teardown(() => fastify.close())
  return fastify
}
