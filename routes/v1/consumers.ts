// Kosha v1 consumers: each a session of the consumer engine (kafka/consumers/) asked for one record at a time.
import type { Handlers } from '../../http/register'
import { ConsumerNotSubscribedError } from '../../lib/errors'
import { settleWhenWritten } from '../../http/deliver-once'
import { consumedRecord } from './records'

/** KAFKA_IDENTITY=caller: a consumer belongs to the caller that created it. */
const ownerOf = (request: { kafkaCaller: { principal: string } | null }): { owner?: string } =>
  request.kafkaCaller ? { owner: request.kafkaCaller.principal } : {}

export const consumers = {
  createConsumer: async (request, reply) => {
    const { name, groupId, offset } = request.body
    const session = await request.server.consumers.create({
      id: { name, ...ownerOf(request) },
      groupId: groupId ?? `kosha-${name}`,
      offsetReset: offset ?? 'latest',
      autoCommit: true,
      format: 'json',
      requestTimeoutMs: 10_000
    }, request.kafkaCaller?.sasl)
    return reply.code(200).send({ result: 'success', name, groupId: session.groupId })
  },

  subscribeConsumer: async (request, reply) => {
    const session = request.server.consumers.get({ name: request.params.name, ...ownerOf(request) })
    await request.kafkaApi.topics.assertExists(request.body.name)
    const topics = await session.subscribe({ topics: [request.body.name], add: true })
    return reply.code(200).send({ result: 'success', topics })
  },

  consumeRecord: async (request, reply) => {
    const name = request.params.name
    const session = request.server.consumers.get({ name, ...ownerOf(request) })
    if (session.mode === 'none') throw new ConsumerNotSubscribedError(name)
    const fetched = await session.fetch({ max: 1, timeoutMs: request.query.timeout ?? 10_000, abandoned: () => request.raw.destroyed })
    const [message] = fetched.messages
    if (message === undefined) return reply.code(204).send()
    settleWhenWritten(reply, fetched)
    return reply.code(200).send(consumedRecord(message))
  },

  deleteConsumer: async (request, reply) => {
    await request.server.consumers.delete({ name: request.params.name, ...ownerOf(request) })
    return reply.code(200).send({ result: 'success', name: request.params.name })
  }
} satisfies Handlers<'consumers'>
