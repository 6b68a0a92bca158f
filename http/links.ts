// Absolute URLs of this service's resources (Confluent's metadata.self, related links and v2 base_uri): HTTP-side, so
// they read the request and the configuration the config plugin decorates.
import type { FastifyRequest } from 'fastify'

/** ADVERTISED_URL when set (behind an ingress the Host header is the ingress's), else what the request reached. */
export function baseUrl (request: FastifyRequest): string {
  const advertised = request.server.config.advertisedUrl
  return advertised ?? `${request.protocol}://${request.host}`
}

/**
 * An absolute URL for a path of this service as its routes spell it, e.g. link(request, '/v3/clusters/abc'), under
 * the prefix the request's route was mounted at: a request to /kafka/v3/... (routes/index.ts mounts v3 there too)
 * gets links under /kafka/v3, as Confluent Server writes them, and a client keeps to the base path it chose.
 */
export function link (request: FastifyRequest, path: string): string {
  // request.server is the route's own context, whose prefix is that of its mount ('' for the unprefixed ones).
  return `${baseUrl(request)}${request.server.prefix}${path}`
}
