// Records stay bytes on the way in: a JSON value a client sends is produced as the very text it sent (its exact
// numbers, its own spacing), cut out of the request body, instead of being parsed and serialised again.
//
// The body parsers remember each parsed body's raw bytes (`rememberRaw`); a route asks for the texts at some paths
// of it (`JsonPaths`). The body is always parsed (and schema-checked) as well: the spans only replace
// JSON.stringify of a value the parser has already proved to be JSON.

const raw = new WeakMap<object, Buffer>()

/** Keeps the bytes a parsed JSON body came from (UTF-8: http/json-body.ts), for as long as the parsed body lives. */
export function rememberRaw (parsed: unknown, bytes: Buffer): void {
  if (typeof parsed === 'object' && parsed !== null) raw.set(parsed, bytes)
}

/** The bytes a parsed body came from, when a body parser remembered them. */
export function rawOf (parsed: unknown): Buffer | undefined {
  return typeof parsed === 'object' && parsed !== null ? raw.get(parsed) : undefined
}

const QUOTE = 0x22
const BACKSLASH = 0x5c

function isSpace (c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

function skipSpace (b: Buffer, i: number): number {
  while (isSpace(b[i])) i++
  return i
}

/** The index after the string that starts at b[i] (a quote). */
function skipString (b: Buffer, i: number): number {
  for (;;) {
    const q = b.indexOf(QUOTE, i + 1)
    if (q < 0) throw new SyntaxError('unterminated string')
    let slashes = 0
    while (b[q - 1 - slashes] === BACKSLASH) slashes++
    if (slashes % 2 === 0) return q + 1
    i = q
  }
}

/** The index after the JSON value that starts at b[i]. */
function skipValue (b: Buffer, i: number): number {
  const c = b[i]
  if (c === QUOTE) return skipString(b, i)
  if (c === 0x7b || c === 0x5b) {
    let depth = 0
    for (;;) {
      const d = b[i]
      if (d === undefined) throw new SyntaxError('unterminated value')
      if (d === QUOTE) { i = skipString(b, i); continue }
      if (d === 0x7b || d === 0x5b) depth++
      else if ((d === 0x7d || d === 0x5d) && --depth === 0) return i + 1
      i++
    }
  }
  // A number, true, false or null: up to the next delimiter.
  while (i < b.length) {
    const d = b[i]
    if (d === 0x2c || d === 0x7d || d === 0x5d || isSpace(d)) break
    i++
  }
  return i
}

function escaped (b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] === BACKSLASH) return true
  return false
}

/** A compiled set of paths: the members to descend into by name, `*` for every element of an array. */
interface Node { leaf: number, names: Array<{ name: Buffer, text: string, node: Node }>, any: Node | undefined }

function compile (patterns: ReadonlyArray<readonly string[]>): Node {
  const root: Node = { leaf: -1, names: [], any: undefined }
  patterns.forEach((pattern, id) => {
    let node = root
    for (const step of pattern) {
      if (step === '*') {
        node.any ??= { leaf: -1, names: [], any: undefined }
        node = node.any
      } else {
        let named = node.names.find((n) => n.text === step)
        if (!named) { named = { name: Buffer.from(step), text: step, node: { leaf: -1, names: [], any: undefined } }; node.names.push(named) }
        node = named.node
      }
    }
    node.leaf = id
  })
  return root
}

/** The child for the key b[from, to) (its quotes excluded), compared as bytes unless it has escapes. */
function child (node: Node, b: Buffer, from: number, to: number): Node | undefined {
  if (escaped(b, from, to)) {
    const key = JSON.parse(b.toString('utf8', from - 1, to + 1)) as string
    return node.names.find((n) => n.text === key)?.node
  }
  for (const n of node.names) {
    if (n.name.length === to - from && b.compare(n.name, 0, n.name.length, from, to) === 0) return n.node
  }
  return undefined
}

/** Where the values at a set of paths lie in one document: per path, per array index (0 without one). */
export class Spans {
  private readonly starts: number[][]
  private readonly ends: number[][]
  constructor (private readonly b: Buffer, paths: number) {
    this.starts = Array.from({ length: paths }, () => [])
    this.ends = Array.from({ length: paths }, () => [])
  }

  add (path: number, index: number, start: number, end: number): void {
    this.starts[path]![index] = start
    this.ends[path]![index] = end
  }

  clear (): void { for (const s of this.starts) s.length = 0 }

  /** The bytes of path number `path` (in the order given) at array index `index`. */
  get (path: number, index = 0): Buffer | undefined {
    const start = this.starts[path]?.[index]
    return start === undefined ? undefined : this.b.subarray(start, this.ends[path]![index])
  }
}

/** Scans the value at b[i] (array index `index` on the way), keeping the spans of the paths that end here; returns the index after it. */
function scan (b: Buffer, i: number, node: Node, index: number, out: Spans): number {
  if (node.leaf >= 0) {
    const end = skipValue(b, i)
    out.add(node.leaf, index, i, end)
    return end
  }
  const c = b[i]
  if (c === 0x7b && node.names.length > 0) {
    i = skipSpace(b, i + 1)
    if (b[i] === 0x7d) return i + 1
    for (;;) {
      const keyEnd = skipString(b, i)
      const next = child(node, b, i + 1, keyEnd - 1)
      i = skipSpace(b, skipSpace(b, keyEnd) + 1) // past the colon
      i = next !== undefined ? scan(b, i, next, index, out) : skipValue(b, i)
      i = skipSpace(b, i)
      if (b[i] === 0x7d) return i + 1
      i = skipSpace(b, i + 1) // past the comma
    }
  }
  if (c === 0x5b && node.any !== undefined) {
    i = skipSpace(b, i + 1)
    if (b[i] === 0x5d) return i + 1
    for (let at = 0; ; at++) {
      i = scan(b, i, node.any, at, out)
      i = skipSpace(b, i)
      if (b[i] === 0x5d) return i + 1
      i = skipSpace(b, i + 1)
    }
  }
  return skipValue(b, i)
}

/**
 * Finds the JSON texts at these paths of a document already known to be valid JSON (JSON.parse accepted it), e.g.
 * `new JsonPaths([['records', '*', 'value']]).find(body).get(0, 3)` is the text of records[3].value. Where a key is
 * repeated the last one counts, as in JSON.parse. Nothing is found when the document is not what the scan expects.
 */
export class JsonPaths {
  private readonly root: Node
  private readonly count: number
  constructor (paths: ReadonlyArray<readonly string[]>) {
    this.root = compile(paths)
    this.count = paths.length
  }

  find (b: Buffer): Spans {
    const out = new Spans(b, this.count)
    try {
      scan(b, skipSpace(b, 0), this.root, 0, out)
    } catch {
      out.clear()
    }
    return out
  }
}

/** The document's own text without the spacing around it. */
export function trimmed (b: Buffer): Buffer {
  let start = 0
  let end = b.length
  while (start < end && isSpace(b[start])) start++
  while (end > start && isSpace(b[end - 1])) end--
  return b.subarray(start, end)
}
