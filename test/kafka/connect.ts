// A KafkaConnection to the test broker, without an app, closed when the test ends: the Kafka layer's modules are
// tested on it directly.
import pino from 'pino'
import { KafkaConnection } from '../../kafka/connection'
import { loadConfig } from '../../lib/config'
import { bootstrap } from '../kafka'

export async function connect (t: { teardown: (fn: () => unknown) => void }): Promise<KafkaConnection> {
  const kafka = new KafkaConnection(loadConfig({ BROKER_ADDRESS: bootstrap(), LOG_LEVEL: 'silent' }), pino({ level: 'silent' }))
  await kafka.connect()
  t.teardown(() => kafka.close())
  return kafka
}
