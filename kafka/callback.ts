// The one bridge from the clients' callback APIs to promises: librdkafka's binding answers through Node-style
// callbacks (err first), whose error the caller then classifies (kafka/errors.ts).

type Done<T> = (err: unknown, value?: T) => void

/** Runs `work` with a callback and resolves with the value it is called with, or rejects with its error. */
export function fromCallback<T = void> (work: (done: Done<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    work((err, value) => { if (err) reject(err); else resolve(value as T) })
  })
}
