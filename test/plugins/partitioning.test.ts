// Keys are partitioned as the Java producer does (murmur2), so HTTP and Java producers of one key share a partition.
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { build } from '../helper'
import { createTopic } from '../kafka'

const root = path.resolve(__dirname, '..', '..')

t.test('a keyed record lands on the partition the Java client picks for that key', async (t) => {
  const app = await build(t)
  const topic = await createTopic(t, { partitions: 6 })
  const keys = ['a', 'b', 'customer-7', 'order-1234', 'ünïcödé', 'x'.repeat(100), '42']
  const { stdout } = await promisify(execFile)('java', ['-cp', path.join(root, 'scripts/local-kafka/lib/*'), path.join(root, 'test/tools/JavaPartitioner.java'), '6', ...keys])
  const expected = stdout.trim().split('\n').map(Number)
  t.equal(new Set(expected).size > 2, true, 'the keys spread over several partitions, so a wrong hash would show')
  for (const [i, key] of keys.entries()) {
    const res = await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}?key=${encodeURIComponent(key)}`, payload: { i } })
    t.equal(res.json().partition, expected[i], `key ${JSON.stringify(key)}: partition ${expected[i]}`)
  }
})
