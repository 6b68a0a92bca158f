// Confluent REST Proxy v2 (/topics, /brokers, /consumers): errors in Confluent's v2 envelope { error_code, message }.
import type { FastifyInstance } from 'fastify'
import { errorHandler } from '../../http/errors'
import { refuseOtherMethods, registerOperations, type Handlers } from '../../http/register'
import type { OperationId } from '../../generated/routes'
import { routeToHolder } from '../../http/forward'
import { consumers } from './consumers'
import { metadata } from './metadata'
import { produce } from './produce'

export const handlers: Handlers<'confluent-v2'> = { ...metadata, ...produce, ...consumers }

export default async function v2 (fastify: FastifyInstance): Promise<void> {
  fastify.setErrorHandler(errorHandler('v2'))
  // A request for a consumer instance another replica holds is answered there.
  fastify.addHook('preHandler', routeToHolder)
  const held = { consumer: 'v2' } as const
  registerOperations(fastify, handlers, {
    deleteConsumerInstanceV2: held,
    subscribeV2: held,
    getSubscriptionV2: held,
    unsubscribeV2: held,
    assignPartitionsV2: held,
    getAssignmentsV2: held,
    seekV2: held,
    seekToBeginningV2: held,
    seekToEndV2: held,
    commitOffsetsV2: held,
    getCommittedOffsetsV2: held,
    getRecordsV2: held
  })
  refuseOtherMethods(fastify, Object.keys(handlers) as OperationId[])
}
