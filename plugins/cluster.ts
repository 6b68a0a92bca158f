// The cluster itself behind the Confluent v3 API: its id (a v3 path names it) and its brokers.
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ResourceNotFoundError, fromKafkaError } from '../lib/errors'

export interface ClusterBroker { id: number, host: string, port: number, rack: string | null }

export interface ClusterService {
  /** The cluster's id and controller; ResourceNotFoundError unless clusterId is this cluster's id. */
  assert: (request: FastifyRequest, clusterId: string) => Promise<{ id: string, controllerId: number }>
  /** The brokers, by id. */
  brokers: (request: FastifyRequest) => Promise<ClusterBroker[]>
  /** One broker; ResourceNotFoundError when no broker has this id. */
  broker: (request: FastifyRequest, brokerId: number) => Promise<ClusterBroker>
}

declare module 'fastify' {
  interface FastifyInstance { cluster: ClusterService }
}

async function cluster (fastify: FastifyInstance): Promise<void> {
  const service: ClusterService = {
    async assert (request, clusterId) {
      const found = await fastify.kafka.cluster(request)
      if (found.id !== clusterId) throw new ResourceNotFoundError(`Cluster ${clusterId} cannot be found.`)
      return found
    },
    async brokers (request) {
      // librdkafka's metadata has no rack; @platformatic/kafka's has. A fresh answer, so a broker that left is gone.
      const md = await fastify.kafka.clientsFor(request).configAdmin.metadata({ topics: [], forceUpdate: true })
        .catch((err: unknown) => { throw fromKafkaError(err, { resource: 'the cluster' }, request.id) })
      return [...md.brokers.entries()]
        .map(([id, b]) => ({ id, host: b.host, port: b.port, rack: b.rack ?? null }))
        .sort((a, b) => a.id - b.id)
    },
    async broker (request, brokerId) {
      const found = (await service.brokers(request)).find((b) => b.id === brokerId)
      if (!found) throw new ResourceNotFoundError(`Broker ${brokerId} cannot be found.`)
      return found
    }
  }
  fastify.decorate('cluster', service)
}

export default fp(cluster, { name: 'cluster', dependencies: ['kafka-connection'] })
