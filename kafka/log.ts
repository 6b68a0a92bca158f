// The logger the Kafka layer writes to: pino's methods, so Fastify's logger (or a bare pino) can be handed in.
import type { LogFn } from 'pino'

export interface Log {
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  child: (bindings: Record<string, unknown>) => Log
}
