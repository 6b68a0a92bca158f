// How deep JSON may nest here: V8 parses any depth, but whatever walks a value recursively afterwards (the response
// serializer, JSON.stringify) overflows the stack on a few thousand levels. Bodies deeper than this are refused
// (http/json-body.ts); consumed values deeper than this are shown as text (kafka/consumers/decode.ts).
export const MAX_JSON_DEPTH = 1000

/**
 * Whether brackets outside strings nest deeper than `max`. A byte scan (no parse): a document with at most `max`
 * opening brackets cannot, so most bodies are passed after counting them with indexOf.
 */
export function exceedsDepth (bytes: Buffer, max: number): boolean {
  let opening = 0
  for (const c of [0x5b, 0x7b]) {
    for (let i = bytes.indexOf(c); i >= 0 && opening <= max; i = bytes.indexOf(c, i + 1)) opening++
  }
  if (opening <= max) return false
  let depth = 0
  let inString = false
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]
    if (inString) {
      if (c === 0x5c) i++ // the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) { if (++depth > max) return true } else if (c === 0x5d || c === 0x7d) depth--
  }
  return false
}
