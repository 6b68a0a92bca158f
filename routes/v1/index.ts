// The Kosha v1 API and the operations routes: their errors in the Kosha shape { status, code, message, requestId }.
import type { FastifyInstance } from 'fastify'
import { errorHandler } from '../../http/errors'
import { refuseOtherMethods, registerOperations, type Handlers } from '../../http/register'
import type { OperationId } from '../../generated/routes'
import { routeToHolder } from '../../http/forward'
import { operations } from '../operations'
import { consumers } from './consumers'
import { metadata } from './metadata'
import { produce } from './produce'
import { reads } from './reads'
import { streamExtras, streams } from './streams'
import { topics } from './topics'

const handlers: Handlers<'topics' | 'produce' | 'metadata' | 'consumers' | 'reads' | 'streams' | 'operations'> = { ...topics, ...produce, ...metadata, ...consumers, ...reads, ...streams, ...operations }

export default async function v1 (fastify: FastifyInstance): Promise<void> {
  fastify.setErrorHandler(errorHandler('kosha'))
  // A request for a consumer another replica holds is answered there.
  fastify.addHook('preHandler', routeToHolder)
  const held = { consumer: 'v1' } as const
  registerOperations(fastify, handlers, { subscribeConsumer: held, consumeRecord: held, deleteConsumer: held }, streamExtras)
  refuseOtherMethods(fastify, Object.keys(handlers) as OperationId[])
}
