// Proves that the harness talks to a real broker: what @confluentinc/kafka-javascript produces, the independent
// kcat reads back byte for byte, over PLAINTEXT and over SASL_PLAINTEXT with every mechanism the service offers;
// a wrong password and a user without ACLs are refused by the broker itself.
import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { KafkaJS } from '@confluentinc/kafka-javascript'
import { USERS, createTopic, kafkaClient, saslBootstrap, type ClientOptions, type Mechanism } from './kafka'
import { kcatConsume, kcatMetadata, type KcatOptions } from './kcat'

const { ErrorCodes } = KafkaJS

async function produceAndReadBack (t: Test, options: ClientOptions & KcatOptions): Promise<void> {
  const topic = await createTopic(t, { prefix: 'smoke', partitions: 3 })
  const producer = kafkaClient(options).producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())

  const value = `value-${randomBytes(12).toString('hex')} with spaces, "quotes" and ünïcödé`
  const key = `key-${randomBytes(4).toString('hex')}`
  const [sent] = await producer.send({ topic, messages: [{ key, value, headers: { trace: 'abc-123' } }] })
  t.ok(sent, 'the broker acknowledged the record')

  const [record] = await kcatConsume(topic, 1, options)
  t.ok(record, 'kcat read a record')
  t.equal(record?.payload, value, 'kcat reads the same value')
  t.equal(record?.key, key, 'and the same key')
  t.equal(record?.partition, sent?.partition, 'from the partition the producer was told')
  t.equal(String(record?.offset), sent?.baseOffset, 'at the offset the producer was told')
  t.same(record?.headers, ['trace', 'abc-123'], 'with the header')
}

t.test('PLAINTEXT: kcat reads what the JavaScript client produced', async (t) => {
  await produceAndReadBack(t, {})
})

const mechanisms: Mechanism[] = ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN']
for (const mechanism of mechanisms) {
  t.test(`SASL_PLAINTEXT ${mechanism}: kcat reads what the JavaScript client produced`, { skip: saslBootstrap() ? false : 'the cluster has no SASL listener' }, async (t) => {
    await produceAndReadBack(t, { sasl: { mechanism, user: USERS.test } })
  })
}

t.test('a wrong password is refused with an authentication error', { skip: saslBootstrap() ? false : 'the cluster has no SASL listener' }, async (t) => {
  // librdkafka reports SASL failures through its log while the first connection is retried; capture it.
  const errors: string[] = []
  const logger = {
    error: (message: string) => { errors.push(message) },
    warn: () => {},
    info: () => {},
    debug: () => {},
    namespace () { return logger },
    setLogLevel: () => {}
  }
  const admin = new KafkaJS.Kafka({
    kafkaJS: {
      brokers: (saslBootstrap() ?? '').split(','),
      logger,
      sasl: { mechanism: 'scram-sha-512', username: USERS.test.username, password: 'not-the-password' }
    }
  }).admin()
  await admin.connect()
  const refused = await admin.listTopics({ timeout: 3000 }).then(() => undefined, (err: unknown) => err)
  await admin.disconnect()
  t.ok(refused instanceof Error, 'the request is refused')
  t.match(errors.join('\n'), /SASL authentication error: Authentication failed .* invalid credentials with SASL mechanism SCRAM-SHA-512/,
    'the broker said why: invalid credentials')

  await t.rejects(kcatMetadata({ sasl: { mechanism: 'PLAIN', user: { username: USERS.test.username, password: 'not-the-password' } }, timeoutMs: 15_000 }),
    /Authentication failed|Authentication failure/, 'kcat is refused too')
})

t.test('a user without an ACL is denied', { skip: saslBootstrap() ? false : 'the cluster has no SASL listener' }, async (t) => {
  const topic = await createTopic(t, { prefix: 'denied' })
  const producer = kafkaClient({ sasl: { mechanism: 'SCRAM-SHA-512', user: USERS.noAcl } }).producer()
  await producer.connect()
  t.teardown(() => producer.disconnect())

  const err = await producer.send({ topic, messages: [{ value: 'must not land' }] }).then(() => undefined, (e: unknown) => e)
  // The client's error class varies with where librdkafka reports the refusal (once it was not a KafkaJSError under
  // load): what a user sees, and what is checked, is that the produce fails with Kafka's authorization code.
  t.ok(err !== undefined, 'the produce is refused')
  t.equal((err as { code?: number } | undefined)?.code, ErrorCodes.ERR_TOPIC_AUTHORIZATION_FAILED, 'with TOPIC_AUTHORIZATION_FAILED')

  const [record] = await kcatConsume(topic, 1, { timeoutMs: 5000 }).catch(() => [])
  t.notOk(record, 'and nothing reached the topic')
})
