// What a JSON body must be before it is parsed, beyond JSON's grammar:
//   - UTF-8 (RFC 8259 §8.1). Bytes that are not would be read with replacement characters (U+FFFD), and the record
//     produced would not be what the client sent, while it is told 200. Refused instead (nothing is produced).
//   - nested at most MAX_JSON_DEPTH arrays and objects deep. V8 parses any depth, but everything that walks the value
//     afterwards recursively (the response serializer, JSON.stringify of a consumed record) overflows the stack, a
//     500 long after the record was accepted. No record or request of this API needs that depth.
import { isUtf8 } from 'node:buffer'
import { InvalidJsonError } from '../lib/errors'
import { MAX_JSON_DEPTH, exceedsDepth } from '../lib/json-depth'

/** Why these bytes are not a JSON body this service takes (a sentence), or undefined when they may be one. */
export function jsonBodyProblem (bytes: Buffer): string | undefined {
  if (!isUtf8(bytes)) return 'is not valid UTF-8: JSON is UTF-8 text'
  if (exceedsDepth(bytes, MAX_JSON_DEPTH)) return `is nested more than ${MAX_JSON_DEPTH} arrays or objects deep`
  return undefined
}

/** InvalidJsonError naming the problem of a body (`what`: "The body", "records/3"), or undefined. */
export function checkJsonBody (bytes: Buffer, what = 'The body'): InvalidJsonError | undefined {
  const problem = jsonBodyProblem(bytes)
  return problem === undefined ? undefined : new InvalidJsonError(`${what} ${problem}.`)
}
