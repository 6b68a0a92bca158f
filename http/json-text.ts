// JSON written by hand where building the objects and serialising them is what costs (the records of a fetch), and
// sent as it is: Fastify sends a string unserialised. The text stays typed by the shape it holds, so a route's
// reply type still names what the client gets.

/** JSON text of a T. */
export type JsonText<T> = string & { readonly shape?: T }

/** Sends the JSON text as the reply of a route whose 200 is a T. */
export function sendJsonText<T, R> (reply: { send: (payload: T) => R }, text: JsonText<T>): R {
  // The one cast: the payload is the text of a T, which Fastify passes through untouched.
  return reply.send(text as unknown as T)
}
