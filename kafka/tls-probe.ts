// Why a TLS connection to a broker fails, when neither client says: librdkafka only logs it, and @platformatic/kafka
// reports a broker that rejects our client certificate as "Connection closed" (under TLS 1.3 the broker's alert comes
// after the handshake, on the first read). One TLS connection of our own, with the clients' settings, and one
// ApiVersions request (which a broker answers before any SASL exchange) tell a refused handshake from the rest.
import { connect, type ConnectionOptions } from 'node:tls'

// ApiVersions v0 with correlation id 1 and client id "kosha-tls-probe": the smallest request every broker answers.
const CLIENT_ID = Buffer.from('kosha-tls-probe')
const API_VERSIONS = (() => {
  const body = Buffer.alloc(10 + CLIENT_ID.length)
  body.writeInt16BE(18, 0) // api key: ApiVersions
  body.writeInt16BE(0, 2) // api version
  body.writeInt32BE(1, 4) // correlation id
  body.writeInt16BE(CLIENT_ID.length, 8)
  CLIENT_ID.copy(body, 10)
  const size = Buffer.alloc(4)
  size.writeInt32BE(body.length, 0)
  return Buffer.concat([size, body])
})()

/**
 * The error of a TLS connection to `broker` (host:port) with these options and an ApiVersions request on it, or
 * undefined when the broker answers (or closes, or is silent for `timeoutMs`). The caller classifies the error
 * (kafka/errors.ts: Node's TLS codes are a TLS failure; ECONNREFUSED is not). Never rejects.
 */
export function tlsConnectionError (broker: string, options: ConnectionOptions, timeoutMs: number): Promise<Error | undefined> {
  const i = broker.lastIndexOf(':')
  const host = broker.slice(0, i).replace(/^\[(.*)\]$/, '$1')
  const port = Number(broker.slice(i + 1))
  return new Promise((resolve) => {
    const socket = connect({ ...options, host, port })
    const done = (error: Error | undefined): void => {
      clearTimeout(timer)
      socket.removeAllListeners()
      socket.on('error', () => {})
      socket.destroy()
      resolve(error)
    }
    const timer = setTimeout(() => { done(undefined) }, timeoutMs)
    socket.once('secureConnect', () => { socket.write(API_VERSIONS) })
    socket.once('data', () => { done(undefined) })
    // Before the handshake completes: the broker's certificate (untrusted, another host's); after it, the broker's
    // alert (it required a certificate we did not send, or refused ours).
    socket.once('error', (err: Error) => { done(err) })
    socket.once('close', () => { done(undefined) })
  })
}
