import t from 'tap'
import { Configs } from '../../kafka/configs'
import { InvalidResourceTypeError, ResourceNotFoundError, TopicNotFoundError } from '../../lib/errors'
import { createTopic, uniqueName } from '../kafka'
import { connect } from './connect'

t.test('a topic\'s configs are read and changed, and a change is visible when alterConfigs resolves', async (t) => {
  const configs = new Configs(await connect(t))
  const topic = await createTopic(t, { prefix: 'kafka-configs', config: { 'retention.ms': '3600000' } })
  const read = async (name: string): Promise<unknown> => (await configs.configs('topic', topic)).find((c) => c.name === name)
  t.match(await read('retention.ms'), { value: '3600000', source: 'DYNAMIC_TOPIC_CONFIG', isDefault: false, isSensitive: false, synonyms: Array })
  await configs.alterConfigs({ type: 'topic', name: topic }, [{ name: 'retention.ms', operation: 'SET', value: '7200000' }])
  t.match(await read('retention.ms'), { value: '7200000' })
  await configs.alterConfigs({ type: 'topic', name: topic }, [{ name: 'retention.ms', operation: 'DELETE' }])
  t.notMatch(await read('retention.ms'), { source: 'DYNAMIC_TOPIC_CONFIG' }, 'reset to the default')
  await configs.alterConfigs({ type: 'topic', name: topic }, [{ name: 'retention.ms', operation: 'SET', value: '1000' }], true)
  t.notMatch(await read('retention.ms'), { value: '1000' }, 'validateOnly changes nothing')

  const described = await configs.describe('topic', topic)
  t.match(described, { type: 'topic', name: topic })
  t.same(described.configs.map((c) => c.name), [...described.configs.map((c) => c.name)].sort(), 'by name')
})

t.test('describe names a missing resource', async (t) => {
  const configs = new Configs(await connect(t))
  await t.rejects(configs.describe('topic', uniqueName('kafka-configs-missing')), TopicNotFoundError)
  await t.rejects(configs.describe('broker', 'one'), InvalidResourceTypeError)
  await t.rejects(configs.describe('broker', '987654'), ResourceNotFoundError)
  await t.rejects(configs.describe('group', uniqueName('kafka-configs-group')), ResourceNotFoundError)
})
