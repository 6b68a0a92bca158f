// Confluent REST Proxy v2 (/topics, /brokers, /consumers): errors in Confluent's v2 envelope { error_code, message }.
import type { FastifyInstance } from 'fastify'
import { errorHandler } from '../../http/errors'
import { registerOperations, type Handlers } from '../../http/register'
import { consumers } from './consumers'
import { metadata } from './metadata'
import { produce } from './produce'

export const handlers: Handlers<'confluent-v2'> = { ...metadata, ...produce, ...consumers }

export default async function v2 (fastify: FastifyInstance): Promise<void> {
  fastify.setErrorHandler(errorHandler('v2'))
  registerOperations(fastify, handlers)
}
