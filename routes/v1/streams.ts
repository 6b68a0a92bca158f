// Streams: GET /api/v1/streams/{group} as Server-Sent Events, or as a WebSocket when the request is an upgrade; and
// the SSE clients' commit call. The preHandler checks the request and opens the stream (a member of the group)
// before anything is written, so every refusal is an HTTP answer in the Kosha shape, a WebSocket upgrade's too.
import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RouteTypes } from '../../generated/routes'
import type { Handlers, RouteExtras } from '../../http/register'
import { SSE_HEADERS, SseOutlet } from '../../http/sse'
import { WebSocketOutlet, parseClientMessage } from '../../http/websocket'
import { InternalError, RecordNotDeliveredError, StreamNotFoundError, ValidationError } from '../../lib/errors'
import type { StreamMember, StreamOptions } from '../../kafka/streams/member'
import { parseRecordId, type RecordId } from '../../kafka/streams/record-id'
import { replicaOfStream } from '../../kafka/streams/registry'
import { consumedRecordJson } from './records'

type StreamRequest = FastifyRequest<RouteTypes['streamRecords']>
const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/

function recordIdOf (text: string, where: string): RecordId {
  const id = parseRecordId(text)
  if (!id) throw new ValidationError(`${where} '${text.slice(0, 300)}' is not a record id: <topic>:<partition>:<offset>.`)
  return id
}

/** The stream the request asks for; ValidationError for what is malformed. */
function streamOptions (request: StreamRequest): Omit<StreamOptions, 'id'> {
  const { topics, pattern, offset, commit, lastEventId } = request.query
  if ((topics === undefined) === (pattern === undefined)) {
    throw new ValidationError('Give topics (comma-separated topic names) or pattern (a regular expression): one of them.')
  }
  let subscription: StreamOptions['subscription']
  if (topics !== undefined) {
    const names = [...new Set(topics.split(',').map((t) => t.trim()).filter((t) => t !== ''))]
    const bad = names.find((t) => !TOPIC.test(t) || t === '.' || t === '..')
    if (bad !== undefined) throw new ValidationError(`querystring/topics: '${bad}' is not a topic name ([a-zA-Z0-9._-]{1,249}, not . or ..).`)
    if (names.length === 0) throw new ValidationError('querystring/topics names no topic.')
    subscription = { topics: names }
  } else {
    try { new RegExp(pattern ?? '') } catch { throw new ValidationError(`querystring/pattern is not a regular expression: '${pattern ?? ''}'.`) } // eslint-disable-line no-new
    subscription = { pattern: pattern ?? '' }
  }
  // A reconnecting EventSource sends the header; clients that cannot set headers use the query parameter.
  const header = request.headers['last-event-id']
  const resume = typeof header === 'string' && header.trim() !== '' ? { text: header.trim(), where: 'Last-Event-ID' } : lastEventId !== undefined ? { text: lastEventId, where: 'querystring/lastEventId' } : undefined
  return {
    group: request.params.group,
    subscription,
    offsetReset: offset ?? 'latest',
    commit: commit ?? 'manual',
    ...(resume ? { resumeAfter: recordIdOf(resume.text, resume.where) } : {})
  }
}

/** Checks the request, the topics, the stream limit; opens the stream (connected, not yet subscribed). */
async function openStream (request: StreamRequest, reply: FastifyReply): Promise<void> {
  if (request.method === 'HEAD') {
    await reply.code(200).headers(SSE_HEADERS).send()
    return
  }
  const options = streamOptions(request)
  if ('topics' in options.subscription) {
    for (const topic of options.subscription.topics) await request.kafkaApi.topics.assertExists(topic)
  }
  // Behind several replicas the stream's id names this one, so a commit call reaching another is forwarded here.
  const { replicas } = request.server
  const caller = request.kafkaCaller
  const owned = caller ? { ...options, owner: caller.principal } : options
  const member = await request.server.streams.open(owned, await replicas.announce() ? replicas.replicaId : undefined, caller?.sasl)
  try {
    member.subscribe()
  } catch (err) {
    await member.close('refused')
    throw err
  }
  request.streamMember = member
  // Whatever happens next (the upgrade may fail, the client may leave), the stream ends with its connection.
  request.raw.socket.once('close', () => { member.close('client gone').catch(() => undefined) })
  request.log.info({ stream: member.id, group: member.group, transport: request.ws ? 'websocket' : 'sse' }, 'stream opened')
}

function memberOf (request: FastifyRequest): StreamMember {
  const member = request.streamMember
  if (!member) throw new InternalError(new Error('a stream request reached its handler without a stream'))
  return member
}

const openEvent = (member: StreamMember): { stream: string, group: string, commit: string } => ({ stream: member.id, group: member.group, commit: member.commitMode })

export const streams = {
  streamRecords: async (request, reply) => {
    const member = memberOf(request)
    // From here the response is the stream's: Fastify no longer writes it, so the headers its hooks set are copied.
    reply.hijack()
    const res = reply.raw
    const headers: OutgoingHttpHeaders = {}
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value
    res.writeHead(200, { ...headers, ...SSE_HEADERS, 'x-request-id': request.id })
    const outlet = new SseOutlet(res, consumedRecordJson, request.server.config.streamHeartbeatMs, () => { member.drained() })
    res.once('close', () => { member.close('client gone').catch(() => undefined) })
    outlet.open(openEvent(member))
    member.start(outlet)
  },

  commitStream: async (request, reply) => {
    const { group, stream } = request.params
    const member = request.server.streams.find(group, stream, request.kafkaCaller?.principal)
    if (!member) {
      // A stream of another replica: its commit is answered there (a forwarded call is never forwarded again).
      const holder = replicaOfStream(stream)
      if (holder !== undefined && await request.server.forwarder.toReplica(request, reply, holder)) return reply
      throw new StreamNotFoundError(stream, group)
    }
    const id = recordIdOf(request.body.lastEventId, 'body/lastEventId')
    const { result, committed } = await member.commitThrough(id)
    if (result === 'not-delivered') throw new RecordNotDeliveredError(request.body.lastEventId, member.id)
    return reply.code(200).send({ committed })
  }
} satisfies Handlers<'streams'>

export const streamExtras: { streamRecords: RouteExtras<'streamRecords'> } = {
  streamRecords: {
    preHandler: openStream,
    wsHandler: (socket, request) => {
      const member = memberOf(request)
      const outlet = new WebSocketOutlet(socket, consumedRecordJson, request.server.config.streamHeartbeatMs, () => { member.drained() })
      socket.on('message', (data, isBinary) => {
        const message = parseClientMessage(data, isBinary)
        if ('error' in message) return outlet.error(message.error)
        if (member.ack(message.ack) === 'not-delivered') outlet.error(`Record '${message.id}' was never delivered on this stream: acknowledge an id it sent.`)
      })
      socket.once('close', () => { member.close('client gone').catch(() => undefined) })
      outlet.send({ type: 'open', ...openEvent(member) })
      member.start(outlet)
    }
  }
}
