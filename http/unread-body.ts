// A client still sending a body the service will not read (too large, or answered before it was read) must still
// read the answer. Node's server ends a `Connection: close` answer by destroying the socket; whatever the client
// sends after that makes the kernel reset the connection, and a reset throws away the answer the client had not read
// yet: curl, or 50 concurrent 4 MB posts from Python's http.client, saw "connection reset" / "broken pipe" instead of
// the 413. So:
//   - `Expect: 100-continue` is answered here, not by Node: 100 is sent only when the body is about to be read
//     (preParsing), after its Content-Length was checked against the route's limit. An oversized body is refused
//     with 413 before the client sends it, and that connection is closed (the client has sent nothing).
//   - An answer that goes out while the client is still sending keeps the connection open: Node discards the rest
//     of the body as it arrives (and the connection is then reused), so the client reads the answer once it has sent
//     its body. A client that goes on sending is cut off after DRAIN_MS or DRAIN_BYTES.
import type { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { BodyTooLargeError } from '../lib/errors'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route reads its body as a stream with limits of its own (the v3 records stream): no total limit here. */
    streamedBody?: boolean
  }
}

const DRAIN_MS = 10_000
const DRAIN_BYTES = 64 * 1024 * 1024

/** Requests that asked for 100 Continue and were sent it. */
const continued = new WeakSet<IncomingMessage>()

function expectsContinue (request: FastifyRequest): boolean {
  return String(request.headers.expect ?? '').toLowerCase() === '100-continue'
}

/**
 * Bounds the discarding of what is left of the body after the answer (Node discards it: the request was dumped, so
 * its data is counted on the socket): past DRAIN_MS or DRAIN_BYTES the connection is closed.
 */
function drain (req: IncomingMessage): void {
  const socket = req.socket
  // Only a real connection has anything to drain (an injected request's socket is a stand-in).
  if (req.complete || !(socket instanceof Socket) || socket.destroyed) return
  const started = Date.now()
  const read = socket.bytesRead
  const check = setInterval(() => {
    if (req.complete || socket.destroyed) clearInterval(check)
    else if (Date.now() - started > DRAIN_MS || socket.bytesRead - read > DRAIN_BYTES) { clearInterval(check); socket.destroy() }
  }, 100).unref()
}

export function answerUnreadBodies (fastify: FastifyInstance, isClosing: () => boolean): void {
  // With a listener, Node no longer sends 100 Continue by itself: the request goes on as any other.
  fastify.server.on('checkContinue', (req, res) => { fastify.server.emit('request', req, res) })

  fastify.addHook('preParsing', async (request, reply, payload) => {
    if (!expectsContinue(request) || continued.has(request.raw)) return payload
    const length = Number(request.headers['content-length'])
    if (length > request.routeOptions.bodyLimit && request.routeOptions.config.streamedBody !== true) {
      throw new BodyTooLargeError(request.routeOptions.bodyLimit)
    }
    reply.raw.writeContinue()
    continued.add(request.raw)
    return payload
  })

  fastify.addHook('onSend', async (request, reply) => {
    const req = request.raw
    if (req.complete || !(req.socket instanceof Socket)) return
    // Asked for 100 Continue and not sent it: the client sends no body, and the connection cannot be reused (the
    // body it declared would be read as the next request), so it is closed.
    if (expectsContinue(request) && !continued.has(req)) {
      reply.header('Connection', 'close')
      return
    }
    // The client is sending the body: the connection stays open while the rest of it is discarded (Fastify asks to
    // close it after a body it refused; Node would then reset it under the client's feet).
    if (!isClosing()) reply.removeHeader('Connection')
    reply.raw.once('finish', () => { drain(req) })
  })
}
