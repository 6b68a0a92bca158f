import Fastify from 'fastify'
import closeWithGrace from 'close-with-grace'
import app, { serverOptions } from './app'

async function main (): Promise<void> {
  const fastify = Fastify(serverOptions)
  await fastify.register(app)

  // SIGTERM/SIGINT: stop accepting, let in-flight requests finish, release every resource, exit 0.
  closeWithGrace({ delay: 25_000 }, async ({ err, signal }) => {
    if (err) fastify.log.error({ err }, 'closing after an uncaught error')
    else fastify.log.info({ signal }, 'closing')
    await fastify.close()
  })

  const port = Number(process.env.PORT ?? 8000)
  await fastify.listen({ port, host: process.env.HOST ?? '0.0.0.0' })
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
