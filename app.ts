// The application as a Fastify plugin: the HTTP layer, the docs and the live view, the Kafka-backed plugins in dependency order (each a
// thin wrapper of a kafka/ module), then the routes by API family. server.ts and the tests both build it with the
// options of server-options.ts, so that tests and production cannot differ.
import type { FastifyInstance } from 'fastify'
import type { Config } from './lib/config'
import { httpLayer } from './http/layer'
import swagger from './plugins/swagger'
import ui from './plugins/ui'
import kafkaConnection from './plugins/kafka-connection'
import cluster from './plugins/cluster'
import topics from './plugins/topics'
import configs from './plugins/configs'
import produce from './plugins/produce'
import consumerGroups from './plugins/consumer-groups'
import acls from './plugins/acls'
import consumers from './plugins/consumers'
import reads from './plugins/reads'
import streams from './plugins/streams'
import forward from './plugins/forward'
import kafkaApi from './plugins/kafka-api'
import schemaRegistry from './plugins/schema-registry'
import routes from './routes'

export default async function app (fastify: FastifyInstance, options: { config: Config }): Promise<void> {
  await httpLayer(fastify, options.config)
  await fastify.register(swagger)
  await fastify.register(ui)
  await fastify.register(kafkaConnection)
  await fastify.register(topics)
  await fastify.register(produce)
  await fastify.register(cluster)
  await fastify.register(configs)
  await fastify.register(consumers)
  await fastify.register(reads)
  await fastify.register(streams)
  await fastify.register(forward)
  await fastify.register(consumerGroups)
  await fastify.register(acls)
  await fastify.register(kafkaApi)
  await fastify.register(schemaRegistry)
  await fastify.register(routes)
}
