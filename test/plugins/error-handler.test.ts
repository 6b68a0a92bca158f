import t from 'tap'
import Fastify from 'fastify'
import { Writable } from 'node:stream'
import configPlugin from '../../plugins/config'
import errorHandler from '../../plugins/error-handler'
import { loadConfig } from '../../lib/config'
import { InternalError, KafkaTimeoutError, TopicNotFoundError, KafkaNotAuthorizedError } from '../../lib/errors'
import { fromKafkaError } from '../../kafka/errors'

t.test('an unclassified error is a 500 with a generic message, logged in full under the request id', async (t) => {
  const logs: string[] = []
  const app = Fastify({ logger: { level: 'info', stream: new Writable({ write (c: Buffer, _e, done) { logs.push(c.toString()); done() } }) } })
  await app.register(configPlugin, { config: loadConfig({ BROKER_ADDRESS: 'localhost:9092' }) })
  await app.register(errorHandler)
  app.get('/boom', async () => { throw new Error('internal detail 7f3a') })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'GET', url: '/boom' })
  t.equal(res.statusCode, 500)
  const body = res.json()
  t.match(body, { status: 500, code: 'KOSHA_INTERNAL_ERROR', requestId: String })
  t.notMatch(body.message, /7f3a/, 'the detail stays out of the answer')
  t.match(body.message, body.requestId, 'the message names the request id')
  const logged = logs.find((l) => l.includes('internal detail 7f3a'))
  t.ok(logged, 'the detail is in the log')
  t.match(logged, `"reqId":"${body.requestId}"`, 'under the request id')
})

t.test('Kafka errors are classified by their numeric code', async (t) => {
  t.type(fromKafkaError({ code: 3, message: 'x' }, { topic: 'a' }), TopicNotFoundError)
  t.type(fromKafkaError({ code: 29 }, {}), KafkaNotAuthorizedError)
  t.type(fromKafkaError({ code: 7 }, {}), KafkaTimeoutError)
  t.type(fromKafkaError({ apiCode: 3 }, { topic: 'a' }), TopicNotFoundError, '@platformatic/kafka errors too')
  t.type(fromKafkaError({ code: 99999 }, {}), InternalError, 'an unknown code is internal')
  t.type(fromKafkaError(new Error('no code'), {}), InternalError)
})
