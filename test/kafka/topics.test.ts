import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { Topics } from '../../kafka/topics'
import { TopicExistsError, TopicNotFoundError } from '../../lib/errors'
import { uniqueName } from '../kafka'
import { connect } from './connect'

t.test('a topic is created, described, grown and deleted', async (t) => {
  const topics = new Topics(await connect(t))
  const name = uniqueName('kafka-topics')
  await topics.create({ topic: name, partitions: 2, configs: { 'retention.ms': '3600000' } })
  await topics.assertExists(name)
  const [described] = await topics.describe([name])
  t.match(described, { name, isInternal: false, replicationFactor: 1 })
  t.same(described?.partitions.map((p) => p.id), [0, 1], 'visible with its partitions once create resolves')
  t.ok(described?.partitions.every((p) => p.leader !== null && p.isr.includes(p.leader)), 'each with a leader in sync')
  t.ok((await topics.describe()).some((d) => d.name === name), 'and among all topics')

  await t.rejects(topics.create({ topic: name }), TopicExistsError, 'creating it again')
  await topics.addPartitions(name, 3)
  t.equal((await topics.describe([name]))[0]?.partitions.length, 3, 'grown to 3 partitions')

  await topics.delete(name)
  // The controller has deleted it when DeleteTopics answers; the metadata may say so a moment later.
  const deadline = Date.now() + 5000
  let gone = false
  while (!gone && Date.now() < deadline) {
    gone = await topics.assertExists(name).then(() => false, (err: unknown) => err instanceof TopicNotFoundError)
    if (!gone) await sleep(100)
  }
  t.ok(gone, 'deleted')
})

t.test('a missing topic is TopicNotFoundError, and asking never creates it', async (t) => {
  const topics = new Topics(await connect(t))
  const name = uniqueName('kafka-topics-missing')
  await t.rejects(topics.assertExists(name), TopicNotFoundError)
  await t.rejects(topics.describe([name]), TopicNotFoundError)
  await t.rejects(topics.delete(name), TopicNotFoundError)
  await t.rejects(topics.addPartitions(name, 2), TopicNotFoundError)
  await t.rejects(topics.assertExists(name), TopicNotFoundError, 'still missing')
})

t.test('validateCreate answers the counts Kafka would use and creates nothing', async (t) => {
  const topics = new Topics(await connect(t))
  const name = uniqueName('kafka-topics-validate')
  t.same(await topics.validateCreate({ topic: name, partitions: 4 }), { partitions: 4, replicationFactor: 1 })
  await t.rejects(topics.assertExists(name), TopicNotFoundError, 'nothing was created')
})
