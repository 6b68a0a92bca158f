// Confluent REST Proxy v3 (/v3/clusters/...): errors in Confluent's v3 envelope { error_code, message }.
import type { FastifyInstance } from 'fastify'
import { errorHandler } from '../../http/errors'
import { refuseOtherMethods, registerOperations, type Handlers } from '../../http/register'
import type { OperationId } from '../../generated/routes'
import { acls } from './acls'
import { cluster } from './cluster'
import { configs } from './configs'
import { consumerGroups } from './consumer-groups'
import { BATCH_NOT_JSON, recordStreamContext, records } from './records'
import { replicas } from './replicas'
import { topics } from './topics'

const handlers: Handlers<'confluent-v3'> = { ...cluster, ...topics, ...configs, ...replicas, ...consumerGroups, ...acls, ...records }

export default async function v3 (fastify: FastifyInstance): Promise<void> {
  fastify.setErrorHandler(errorHandler('v3'))
  // POST .../records reads its body as a stream, in a context of its own (routes/v3/records.ts).
  const { produceRecordV3: _stream, ...rest } = handlers
  registerOperations(fastify, rest, { produceRecordsBatchV3: { malformedBody: BATCH_NOT_JSON } })
  await fastify.register(recordStreamContext)
  refuseOtherMethods(fastify, Object.keys(handlers) as OperationId[])
}
