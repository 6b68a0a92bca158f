import t from 'tap'
import { Cluster } from '../../kafka/cluster'
import { PartitionNotFoundError, ResourceNotFoundError, TopicNotFoundError } from '../../lib/errors'
import { clusterId, createTopic, uniqueName } from '../kafka'
import { connect } from './connect'

t.test('the cluster: its id, checked against a path\'s, and its brokers', async (t) => {
  const cluster = new Cluster(await connect(t))
  const id = await clusterId(t)
  t.equal((await cluster.describe()).id, id)
  t.match(await cluster.assertCluster(id), { id, controllerId: Number })
  await t.rejects(cluster.assertCluster('no-such-cluster'), new ResourceNotFoundError('Cluster no-such-cluster cannot be found.'))
  const brokers = await cluster.brokers()
  t.ok(brokers.length > 0)
  t.match(brokers[0], { id: Number, host: String, port: Number })
  t.same(await cluster.brokerIds(), brokers.map((b) => b.id), 'the ids are those of the brokers: one list')
  t.same(await cluster.broker(brokers[0]?.id ?? -1), brokers[0])
  await t.rejects(cluster.broker(987654), new ResourceNotFoundError('Broker 987654 cannot be found.'))
})

t.test('a topic\'s partitions, watermarks and metadata', async (t) => {
  const cluster = new Cluster(await connect(t))
  const topic = await createTopic(t, { prefix: 'kafka-cluster', partitions: 2 })
  t.ok((await cluster.topicNames()).includes(topic))
  const partitions = await cluster.partitions(topic)
  t.same(partitions.map((p) => p.id), [0, 1])
  t.match(await cluster.partition(topic, 1), { id: 1, leader: Number, replicas: Array, isrs: Array })
  t.same(await cluster.watermarks(topic, 0), { low: 0, high: 0 }, 'an empty partition')
  const md = await cluster.topicMetadata(topic)
  t.equal(md.topic, topic)
  t.same(md.partitions, partitions)
  t.ok(md.brokers.some((b) => b.id === md.originatingBroker.id), 'the broker that answered is one of the brokers')

  const missing = uniqueName('kafka-cluster-missing')
  await t.rejects(cluster.partitions(missing), TopicNotFoundError)
  await t.rejects(cluster.partition(missing, 0), PartitionNotFoundError)
  await t.rejects(cluster.partition(topic, 2), PartitionNotFoundError)
  await t.rejects(cluster.watermarks(topic, 2), PartitionNotFoundError)
})
