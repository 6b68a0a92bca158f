import t from 'tap'
import { Produce } from '../../kafka/produce'
import { TopicNotFoundError } from '../../lib/errors'
import { createTopic, uniqueName } from '../kafka'
import { connect } from './connect'

t.test('send: one outcome per record, in order, each reported to onProduced', async (t) => {
  const reported: Array<[number, number]> = []
  const produce = new Produce(await connect(t), { onProduced: (ok, failed) => { reported.push([ok, failed]) } })
  const topic = await createTopic(t, { prefix: 'kafka-produce', partitions: 2 })
  const outcomes = await produce.send(topic, [
    { value: Buffer.from('a'), partition: 1 },
    { value: Buffer.from('b'), partition: 1 },
    { value: null, key: 'k', partition: 0 }
  ])
  t.match(outcomes, [
    { ok: true, delivery: { partition: 1, offset: 0, timestamp: Number } },
    { ok: true, delivery: { partition: 1, offset: 1 } },
    { ok: true, delivery: { partition: 0, offset: 0 } }
  ])
  t.same(reported, [[3, 0]], 'one send, one report')
})

t.test('a missing topic fails the whole send', async (t) => {
  const produce = new Produce(await connect(t))
  await t.rejects(produce.send(uniqueName('kafka-produce-missing'), [{ value: Buffer.from('a') }]), TopicNotFoundError)
  await t.rejects(produce.assertTopic(uniqueName('kafka-produce-missing')), TopicNotFoundError)
})
