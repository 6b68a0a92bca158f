// At least once, on the HTTP side: the records a response carries count as delivered only once that response was
// handed to the client's connection; when it could not be written (the client went away), they are given back and
// the next fetch returns them again. A crash between writing a response and committing can deliver a record twice.
import type { FastifyReply } from 'fastify'
import type { Fetched } from '../kafka/consumers/session'

/** Settles `fetched` by what becomes of `reply`: written with a 200 → delivered; anything else → lost. */
export function settleWhenWritten (reply: FastifyReply, fetched: Fetched): void {
  if (fetched.messages.length === 0) return
  const settle = (written: boolean): void => { if (written) fetched.delivered(); else fetched.lost() }
  reply.raw.once('finish', () => settle(reply.statusCode === 200))
  reply.raw.once('close', () => settle(reply.raw.writableFinished))
  // The client may have gone while the records were fetched: then 'close' was emitted already and 'finish' never
  // will be, so without this the records would be neither delivered nor given back, and the consumer held forever.
  if (reply.raw.destroyed) settle(false)
}
