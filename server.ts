// The process: read the configuration (stop with a message naming the variable when it is wrong), build the app,
// listen; on SIGTERM/SIGINT stop accepting, let in-flight requests finish, close consumers, flush the producer,
// disconnect, exit 0.
import Fastify from 'fastify'
import closeWithGrace from 'close-with-grace'
import app from './app'
import { serverOptions } from './server-options'
import { ConfigError, loadConfig, type Config } from './lib/config'

async function main (): Promise<void> {
  let config: Config
  try {
    config = loadConfig(process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`kosha-kafka-connector: ${err.message}`)
      process.exit(78) // EX_CONFIG
    }
    throw err
  }
  const fastify = Fastify(serverOptions(config))
  await fastify.register(app, { config })

  closeWithGrace({ delay: config.shutdownGraceMs }, async ({ err, signal }) => {
    if (err) fastify.log.error({ err }, 'closing after an uncaught error')
    else fastify.log.info({ signal }, 'closing: draining requests, closing consumers, flushing the producer')
    await fastify.close()
    fastify.log.info('closed')
  })

  await fastify.listen({ port: config.port, host: config.host })
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
