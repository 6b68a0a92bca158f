// Routes from openapi.json's operationIds: each API family hands a map operationId → handler, typed by the operation
// (params, query, body, reply by status: generated/routes.ts), and the route's method, URL and schema come from the
// generated record of that operationId. A family's map must name every operation of its tags, so `tsc` fails when
// an operation of openapi.json has no handler (routes/index.ts checks that every tag has a family).
import type {
  FastifyContextConfig, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault,
  RequestGenericInterface, RouteHandlerMethod, RouteOptions, preHandlerAsyncHookHandler
} from 'fastify'
import type { WebsocketHandler } from '@fastify/websocket'
import { routes, type OperationId, type OperationsByTag, type RouteTypes } from '../generated/routes'
import { MethodNotAllowedError } from '../lib/errors'

export type Tag = keyof OperationsByTag
export type Handler<Id extends OperationId> =
  RouteHandlerMethod<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, RouteTypes[Id]>
/** One handler for every operation of the tags. */
export type Handlers<T extends Tag> = { [Id in OperationsByTag[T]]: Handler<Id> }
/** What a route may add to its handler: a preHandler hook, and (a GET) a handler of WebSocket upgrades on its path. */
export interface RouteExtras<Id extends OperationId> {
  preHandler?: preHandlerAsyncHookHandler<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, RouteTypes[Id]>
  wsHandler?: WebsocketHandler<RawServerDefault, RawRequestDefaultExpression, RouteTypes[Id] & RequestGenericInterface>
}

/** Registers one route per handler, with its operation's method, URL and schema, and the route config given. */
export function registerOperations<Id extends OperationId> (
  fastify: FastifyInstance,
  handlers: { [K in Id]: Handler<K> },
  config: { [K in Id]?: FastifyContextConfig } = {},
  extras: { [K in Id]?: RouteExtras<K> } = {}
): void {
  for (const id of Object.keys(handlers) as Id[]) {
    // The one cast of the join: TypeScript cannot follow that handlers[id] and routes[id] name the same operation.
    fastify.route({ ...routes[id], ...extras[id], handler: handlers[id], config: config[id] ?? {} } as unknown as RouteOptions)
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route that only answers 405 for the methods its path does not serve (no operation of openapi.json). */
    methodNotAllowed?: boolean
  }
}

/**
 * On the paths of these operations (an API family's, so that its error handler answers), every other method is
 * 405 with an Allow header naming the methods served, before any body is read; not a 404 as for a path that does
 * not exist. HEAD comes with GET (Fastify serves it); OPTIONS is left to the CORS preflight.
 */
export function refuseOtherMethods (fastify: FastifyInstance, ids: readonly OperationId[]): void {
  const served = new Map<string, Set<string>>()
  for (const id of ids) {
    const { url, method } = routes[id]
    served.set(url, (served.get(url) ?? new Set<string>()).add(method))
    if (method === 'GET') served.get(url)?.add('HEAD')
  }
  for (const [url, methods] of served) {
    const allow = [...methods].sort().join(', ')
    const others = fastify.supportedMethods.filter((m) => !methods.has(m) && m !== 'OPTIONS')
    const refuse = async (request: { method: string, url: string }): Promise<never> => {
      throw new MethodNotAllowedError(request.method, request.url.split('?')[0] ?? url, allow)
    }
    fastify.route({ method: others, url, config: { methodNotAllowed: true }, onRequest: refuse, handler: refuse })
  }
}
