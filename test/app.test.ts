import t from 'tap'
import Fastify from 'fastify'
import app, { serverOptions } from '../app'

t.test('GET /healthz answers 200 while the process is up', async (t) => {
  const fastify = Fastify({ ...serverOptions, logger: false })
  await fastify.register(app)
  t.teardown(() => fastify.close())
  const res = await fastify.inject({ method: 'GET', url: '/healthz' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
})
