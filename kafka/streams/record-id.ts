// A record's id on a stream, in events, acks and commit calls: `<topic>:<partition>:<offset>`. A topic name cannot
// contain ':', so the last two ':' split it.
import type { Message } from '@confluentinc/kafka-javascript'

export interface RecordId { topic: string, partition: number, offset: number }

export function recordId (m: Pick<Message, 'topic' | 'partition' | 'offset'>): string {
  return `${m.topic}:${m.partition}:${m.offset}`
}

const DIGITS = /^\d{1,15}$/

/** The parts of an id, or undefined when the text is not one. */
export function parseRecordId (text: string): RecordId | undefined {
  const last = text.lastIndexOf(':')
  const middle = last > 0 ? text.lastIndexOf(':', last - 1) : -1
  if (middle <= 0) return undefined
  const topic = text.slice(0, middle)
  const partition = text.slice(middle + 1, last)
  const offset = text.slice(last + 1)
  if (!DIGITS.test(partition) || !DIGITS.test(offset) || topic.includes(':')) return undefined
  return { topic, partition: Number(partition), offset: Number(offset) }
}
