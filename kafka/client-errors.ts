// The binding emits 'error' on a client when it cannot hand librdkafka an OAUTHBEARER token (the token expired, or
// the client is no longer in a state to take one). An EventEmitter's 'error' with no listener throws, and there it
// throws inside a promise: an unhandled rejection, which ends the process. So every client the service makes listens,
// and what it hears is a warning: the login then fails as any refused login does.
import { EventEmitter } from 'node:events'
import type { Log } from './log'

/** `client`: a Producer or a KafkaConsumer (EventEmitters whose typings leave 'error' out). */
export function listenForErrors (client: EventEmitter | object, log: Log | undefined): void {
  EventEmitter.prototype.on.call(client, 'error', (err: Error) => { log?.warn({ err }, `kafka client: ${err.message}`) })
}
