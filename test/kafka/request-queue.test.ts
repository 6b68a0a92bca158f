// The queue of a consumer's HTTP requests (kafka/consumers/request-queue.ts): one at a time in arrival order, an idle
// countdown restarted by each, and none once stopped. No broker: only the queue.
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { RequestQueue } from '../../kafka/consumers/request-queue'

t.test('requests are served one at a time, in arrival order', async (t) => {
  const queue = new RequestQueue(60_000, () => undefined)
  const order: string[] = []
  const first = await queue.enqueue()
  const second = queue.enqueue().then((release) => { order.push('second'); release() })
  await sleep(20)
  t.same(order, [], 'the second waits while the first holds the queue')
  order.push('first')
  first()
  await second
  t.same(order, ['first', 'second'])
  queue.stop()
})

t.test('idle for idleMs after its last request, the consumer expires; a busy one does not', async (t) => {
  let idle = 0
  const queue = new RequestQueue(50, () => { idle++ })
  const release = await queue.enqueue()
  await sleep(150)
  t.equal(idle, 0, 'a request in progress keeps it alive')
  release()
  await sleep(150)
  t.equal(idle, 1, 'idle once the last request was done')
  queue.stop()
})

t.test('once stopped (the consumer closed), a request released after it starts no countdown that would keep it', async (t) => {
  let idle = 0
  const queue = new RequestQueue(50, () => { idle++ })
  const release = await queue.enqueue()
  queue.stop()
  release()
  await sleep(150)
  t.equal(idle, 0, 'no countdown ran after stop(): nothing holds the closed consumer for idleMs')
})
