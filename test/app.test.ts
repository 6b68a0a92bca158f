import t from 'tap'
import { build } from './helper'

t.test('GET /healthz answers 200 while the process is up', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/healthz' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
})
