// Absolute URLs of this service's resources (Confluent's metadata.self, related links and v2 base_uri): HTTP-side, so
// they read the request and the configuration the config plugin decorates.
import type { FastifyRequest } from 'fastify'

/** ADVERTISED_URL when set (behind an ingress the Host header is the ingress's), else what the request reached. */
export function baseUrl (request: FastifyRequest): string {
  const advertised = request.server.config.advertisedUrl
  return advertised ?? `${request.protocol}://${request.host}`
}

/** An absolute URL for a path of this service, e.g. link(request, '/v3/clusters/abc'). */
export function link (request: FastifyRequest, path: string): string {
  return `${baseUrl(request)}${path}`
}
