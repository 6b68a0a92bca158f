// The ceiling arm: a Node process using the same librdkafka client with the service's own producer and consumer
// settings (producerConfig, consumerConfig), producing and consuming the same records with no HTTP between.
// It takes tasks as JSON lines on stdin and answers each with a JSON line on stdout, so the runner can read its CPU
// and memory around every task exactly as it does for the gateways.
import { createInterface } from 'node:readline'
import { KafkaConsumer, Producer, type LibrdKafkaError, type Message } from '@confluentinc/kafka-javascript'
import { loadConfig } from '../lib/config'
import { consumerConfig, producerConfig } from '../kafka/client-config'
import { BATCH, POLL_SLICE_MS, pollBatch } from '../kafka/consumers/session'
import { DrainClock, closedLoop, nowMs, openLoop, percentiles, recordValue, type LoadResult } from './load'

export type CeilingTask =
  | { kind: 'produce', topic: string, batch: number, connections: number, maxRequests: number, durationMs: number, valueBytes: number }
  | { kind: 'open-loop', topic: string, rate: number, durationMs: number, valueBytes: number }
  | { kind: 'drain', topic: string, partitions: number, records: number, durationMs: number }
  | { kind: 'e2e', topic: string, partitions: number, rate: number, durationMs: number, valueBytes: number }

const config = loadConfig({ BROKER_ADDRESS: process.env.BROKER_ADDRESS, KAFKA_TIMEOUT_MS: '30000' })
const producer = new Producer(...producerConfig(config))
const waiting = new Map<number, { resolve: () => void, reject: (err: LibrdKafkaError) => void }>()
let nextOpaque = 1

producer.on('delivery-report', (err, report) => {
  const w = typeof report.opaque === 'number' ? waiting.get(report.opaque) : undefined
  if (!w) return
  waiting.delete(report.opaque as number)
  if (err) w.reject(err)
  else w.resolve()
})

function produceOne (topic: string, value: Buffer): Promise<void> {
  const opaque = nextOpaque++
  return new Promise((resolve, reject) => {
    waiting.set(opaque, { resolve, reject })
    try {
      producer.produce(topic, null, value, undefined, Date.now(), opaque)
    } catch (err) {
      waiting.delete(opaque)
      reject(err)
    }
  })
}

/** Records per call, acknowledged together: the native counterpart of one POST of `batch` records. */
function sender (topic: string, batch: number, value: () => Buffer) {
  return async () => {
    const outcomes = await Promise.allSettled(Array.from({ length: batch }, () => produceOne(topic, value())))
    const ok = outcomes.filter((o) => o.status === 'fulfilled').length
    return { status: ok === batch ? 'ok' : 'error', records: ok }
  }
}

async function consumer (topic: string, partitions: number, group: string): Promise<KafkaConsumer> {
  const c = new KafkaConsumer(...consumerConfig(config, group, group, { offsetReset: 'earliest' }))
  await new Promise<void>((resolve, reject) => c.connect({ timeout: 30_000 }, (err) => err ? reject(err) : resolve()))
  c.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })))
  return c
}

/** Reads as the service's consumer instances do; null after an error (logged), which the caller may wait out. */
async function consume (c: KafkaConsumer): Promise<Message[] | null> {
  try {
    return await pollBatch(c, BATCH, POLL_SLICE_MS)
  } catch (err) {
    process.stderr.write(`ceiling: consume: ${String(err)}\n`)
    await new Promise((resolve) => setTimeout(resolve, 100))
    return null
  }
}

async function disconnect (c: KafkaConsumer): Promise<void> {
  await new Promise<void>((resolve) => c.disconnect(() => resolve()))
}

async function run (task: CeilingTask): Promise<LoadResult> {
  switch (task.kind) {
    case 'produce': {
      const value = Buffer.from(JSON.stringify(recordValue(task.valueBytes)))
      return await closedLoop({ concurrency: task.connections, maxRequests: task.maxRequests, durationMs: task.durationMs, send: sender(task.topic, task.batch, () => value) })
    }
    case 'open-loop': {
      const value = Buffer.from(JSON.stringify(recordValue(task.valueBytes)))
      return await openLoop({ rate: task.rate, durationMs: task.durationMs, send: sender(task.topic, 1, () => value) })
    }
    case 'drain': {
      let c = await consumer(task.topic, task.partitions, `bench-ceiling-${Date.now()}`)
      const drain = new DrainClock(task.records, task.durationMs)
      // A consumer that started while the broker was still creating its offsets topic can keep failing: after 5 s
      // of errors (logged), a new one starts over.
      let failingSince: number | undefined
      while (drain.going()) {
        const batch = await consume(c)
        if (batch !== null) { failingSince = undefined; drain.got(batch.length); continue }
        failingSince ??= nowMs()
        if (nowMs() - failingSince > 5000 && drain.received === 0) {
          await disconnect(c)
          c = await consumer(task.topic, task.partitions, `bench-ceiling-${Date.now()}`)
          failingSince = undefined
        }
      }
      await disconnect(c)
      return { ...drain.result(), statuses: { ok: drain.requests }, latencyMs: percentiles([]) }
    }
    case 'e2e': {
      const c = await consumer(task.topic, task.partitions, `bench-ceiling-${Date.now()}`)
      const pad = recordValue(task.valueBytes)
      const latencies: number[] = []
      const reader = { stop: false }
      const reading = (async () => {
        while (!reader.stop) {
          for (const m of await consume(c) ?? []) {
            const sent = (JSON.parse(m.value?.toString() ?? '{}') as { t?: number }).t
            if (sent !== undefined) latencies.push(nowMs() - sent)
          }
        }
      })()
      const produced = await openLoop({ rate: task.rate, durationMs: task.durationMs, send: sender(task.topic, 1, () => Buffer.from(JSON.stringify({ t: nowMs(), ...pad }))) })
      const deadline = nowMs() + 10_000
      while (latencies.length < produced.records && nowMs() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
      reader.stop = true
      await reading
      await disconnect(c)
      return { ...produced, records: latencies.length, latencyMs: percentiles(latencies) }
    }
  }
}

async function main (): Promise<void> {
  await new Promise<void>((resolve, reject) => producer.connect({ timeout: 30_000 }, (err) => err ? reject(err) : resolve()))
  producer.setPollInBackground(true)
  process.stdout.write(JSON.stringify({ ready: true }) + '\n')
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === '') continue
    const { id, task } = JSON.parse(line) as { id: number, task: CeilingTask }
    try {
      process.stdout.write(JSON.stringify({ id, result: await run(task) }) + '\n')
    } catch (err) {
      process.stdout.write(JSON.stringify({ id, error: String(err) }) + '\n')
    }
  }
  await new Promise<void>((resolve) => producer.flush(10_000, () => resolve()))
  await new Promise<void>((resolve) => producer.disconnect(() => resolve()))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
