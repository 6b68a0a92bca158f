// Kosha v1 consumers: each a session of the consumer engine (kafka/consumers/) asked for one record at a time.
import type { FastifyInstance } from 'fastify'
import type { Message } from '@confluentinc/kafka-javascript'
import { routes, type RouteTypes } from '../generated/routes'
import { ConsumerNotSubscribedError } from '../lib/errors'
import { decodeText, decodeValue, headersOf } from '../kafka/consumers/decode'
import { settleWhenWritten } from '../http/deliver-once'

type ConsumedRecord = RouteTypes['consumeRecord']['Reply'][200]

function consumedRecord (m: Message): ConsumedRecord {
  const key = decodeText(m.key)
  const value = decodeValue(m.value)
  return {
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    key: key.text,
    keyEncoding: key.encoding,
    value: value.value,
    valueEncoding: value.encoding,
    timestamp: m.timestamp ?? 0,
    headers: headersOf(m).map((h) => {
      const d = decodeText(h.value)
      return { key: h.name, value: d.text, valueEncoding: d.encoding ?? 'text' }
    })
  }
}

export default async function consumerRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.route<RouteTypes['createConsumer']>({
    ...routes.createConsumer,
    handler: async (request, reply) => {
      const { name, groupId, offset } = request.body
      const session = await fastify.consumers.create({
        id: { name },
        groupId: groupId ?? `kosha-${name}`,
        offsetReset: offset ?? 'latest',
        autoCommit: true,
        format: 'json',
        requestTimeoutMs: 10_000
      })
      return reply.code(200).send({ result: 'success', name, groupId: session.groupId })
    }
  })

  fastify.route<RouteTypes['subscribeConsumer']>({
    ...routes.subscribeConsumer,
    handler: async (request, reply) => {
      const session = fastify.consumers.get({ name: request.params.name })
      await fastify.topics.assertExists(request.body.name)
      const topics = await session.subscribe({ topics: [request.body.name], add: true })
      return reply.code(200).send({ result: 'success', topics })
    }
  })

  fastify.route<RouteTypes['consumeRecord']>({
    ...routes.consumeRecord,
    handler: async (request, reply) => {
      const name = request.params.name
      const session = fastify.consumers.get({ name })
      if (session.mode === 'none') throw new ConsumerNotSubscribedError(name)
      const fetched = await session.fetch({ max: 1, timeoutMs: request.query.timeout ?? 10_000, abandoned: () => request.raw.destroyed })
      const [message] = fetched.messages
      if (message === undefined) return reply.code(204).send()
      settleWhenWritten(reply, fetched)
      return reply.code(200).send(consumedRecord(message))
    }
  })

  fastify.route<RouteTypes['deleteConsumer']>({
    ...routes.deleteConsumer,
    handler: async (request, reply) => {
      await fastify.consumers.delete({ name: request.params.name })
      return reply.code(200).send({ result: 'success', name: request.params.name })
    }
  })
}
