// The cluster (kafka/cluster.ts) as `fastify.cluster`: its id, brokers, topics, partitions and watermarks, behind
// /api/v1/getMetadata, the v2 metadata routes and the v3 cluster resources.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Cluster } from '../kafka/cluster'

declare module 'fastify' {
  interface FastifyInstance { cluster: Cluster }
}

async function cluster (fastify: FastifyInstance): Promise<void> {
  fastify.decorate('cluster', new Cluster(fastify.kafka))
}

export default fp(cluster, { name: 'cluster', dependencies: ['kafka-connection'] })
