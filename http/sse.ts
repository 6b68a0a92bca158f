// A stream's outlet over Server-Sent Events: one `record` event per record (its id the record's id), `assigned` /
// `revoked` on rebalances, a `: heartbeat` comment while idle, `end` before the response ends. Writes go to the
// response as they come; when it wants draining the stream holds records back until it drains.
import type { ServerResponse } from 'node:http'
import type { Message, TopicPartition } from '@confluentinc/kafka-javascript'
import type { Outlet } from '../kafka/streams/member'
import { recordId } from '../kafka/streams/record-id'

/** One SSE event; its data is JSON on one line (JSON.stringify escapes line breaks). */
export function sseEvent (event: string, data: unknown, id?: string): string {
  return `event: ${event}\n${id !== undefined ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`
}

/**
 * A record event, its data JSON text written as it is: a line break inside it (a value produced as pretty-printed
 * JSON) starts another data line, which the client joins back with a line break, so it reads the same text.
 */
function recordEvent (json: string, id: string): string {
  const data = json.includes('\n') || json.includes('\r') ? json.split(/\r\n|\r|\n/).join('\ndata: ') : json
  return `event: record\nid: ${id}\ndata: ${data}\n\n`
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  // nginx and similar proxies buffer responses unless told not to: events would arrive in lumps.
  'x-accel-buffering': 'no'
} as const

export class SseOutlet implements Outlet {
  private readonly heartbeat: NodeJS.Timeout

  constructor (private readonly res: ServerResponse, private readonly format: (m: Message) => string,
    heartbeatMs: number, private readonly onDrain: () => void) {
    this.heartbeat = setInterval(() => { if (!res.writableNeedDrain && !res.writableEnded) res.write(': heartbeat\n\n') }, heartbeatMs)
    this.heartbeat.unref()
    res.once('close', () => { clearInterval(this.heartbeat) })
  }

  open (data: unknown): void {
    this.res.write(sseEvent('open', data))
  }

  records (messages: readonly Message[], written: () => void): boolean {
    let text = ''
    for (const m of messages) text += recordEvent(this.format(m), recordId(m))
    const ok = this.res.write(text, (err) => { if (!err) written() })
    if (!ok && !this.res.destroyed) this.res.once('drain', this.onDrain)
    return ok
  }

  assigned (partitions: TopicPartition[]): void {
    this.res.write(sseEvent('assigned', { partitions }))
  }

  revoked (partitions: TopicPartition[]): void {
    this.res.write(sseEvent('revoked', { partitions }))
  }

  end (reason: string): void {
    clearInterval(this.heartbeat)
    if (this.res.writableEnded || this.res.destroyed) return
    this.res.end(sseEvent('end', { reason }))
  }
}
