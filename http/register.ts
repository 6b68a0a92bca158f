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
