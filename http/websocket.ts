// A stream's outlet over a WebSocket: JSON text frames {"type": "open" | "record" | "assigned" | "revoked" |
// "error"}, a ping while idle, close 1001 at shutdown. The client acknowledges with {"type": "ack", "id": "..."}.
import type { Message, TopicPartition } from '@confluentinc/kafka-javascript'
import type { WebSocket } from 'ws'
import type { Outlet } from '../kafka/streams/member'
import { parseRecordId, recordId, type RecordId } from '../kafka/streams/record-id'

/** Bytes queued on the connection past which the stream holds records back. */
const HIGH_WATER = 64 * 1024
const SHUTDOWN = 1001
const SERVER_ERROR = 1011

export class WebSocketOutlet implements Outlet {
  private blocked = false
  private readonly heartbeat: NodeJS.Timeout

  constructor (private readonly socket: WebSocket, private readonly format: (m: Message) => string,
    heartbeatMs: number, private readonly onDrain: () => void) {
    this.heartbeat = setInterval(() => { if (socket.readyState === socket.OPEN) socket.ping() }, heartbeatMs)
    this.heartbeat.unref()
    socket.once('close', () => { clearInterval(this.heartbeat) })
  }

  send (message: object, written?: () => void): void {
    this.sendText(JSON.stringify(message), written)
  }

  private sendText (text: string, written?: () => void): void {
    if (this.socket.readyState !== this.socket.OPEN) return
    this.socket.send(text, (err) => {
      if (!err) written?.()
      if (this.blocked && this.socket.bufferedAmount < HIGH_WATER) {
        this.blocked = false
        this.onDrain()
      }
    })
  }

  records (messages: readonly Message[], written: () => void): boolean {
    const last = messages.length - 1
    // {"type":"record","id":...} followed by the record's own fields (its JSON text without its opening brace).
    messages.forEach((m, i) => { this.sendText(`{"type":"record","id":"${recordId(m)}",${this.format(m).slice(1)}`, i === last ? written : undefined) })
    this.blocked = this.socket.readyState === this.socket.OPEN && this.socket.bufferedAmount >= HIGH_WATER
    return !this.blocked
  }

  assigned (partitions: TopicPartition[]): void { this.send({ type: 'assigned', partitions }) }

  revoked (partitions: TopicPartition[]): void { this.send({ type: 'revoked', partitions }) }

  error (message: string): void { this.send({ type: 'error', message }) }

  end (reason: string): void {
    clearInterval(this.heartbeat)
    if (this.socket.readyState === this.socket.OPEN) this.socket.close(reason === 'shutdown' ? SHUTDOWN : SERVER_ERROR, reason.slice(0, 120))
  }
}

/** A client's message: an ack of a record id, or what is wrong with it (the stream answers an error frame). */
export function parseClientMessage (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): { ack: RecordId, id: string } | { error: string } {
  if (isBinary) return { error: 'Binary messages are not understood: send {"type":"ack","id":"<topic>:<partition>:<offset>"} as text.' }
  const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8')
  let message: unknown
  try { message = JSON.parse(text) } catch { return { error: 'The message is not JSON: send {"type":"ack","id":"<topic>:<partition>:<offset>"}.' } }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return { error: 'The message must be a JSON object {"type":"ack","id":"..."}.' }
  const { type, id } = message as { type?: unknown, id?: unknown }
  if (type !== 'ack') return { error: `Unknown message type ${JSON.stringify(type) ?? 'undefined'}: the only message a client sends is {"type":"ack","id":"..."}.` }
  if (typeof id !== 'string') return { error: 'An ack needs "id": the id of a record the stream sent (<topic>:<partition>:<offset>).' }
  const ack = parseRecordId(id)
  if (!ack) return { error: `'${id.slice(0, 300)}' is not a record id: <topic>:<partition>:<offset>.` }
  return { ack, id }
}
