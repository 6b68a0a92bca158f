// Protobuf keys and values: a schema is the text of a .proto file, as a registry keeps it; a record is written with
// the file's first message, as Confluent's serializers and REST Proxy write it. The payload after Confluent's header
// is the message indexes (which message of the file: [0], the first, is the single byte 0), then the message in
// Protobuf's binary encoding.
//
// A value's JSON is Protobuf's JSON mapping (proto3 JSON): fields by their .proto name or their lowerCamelCase JSON
// name; 64-bit integers as decimal text or numbers; enums by name or number; bytes as base64; Timestamp, Duration,
// FieldMask, the wrappers, Struct, Value and ListValue in their JSON forms. Unknown fields, wrong types and two
// fields of one oneof are refused, each naming the field. Read back, every field is given (defaults included, as
// Confluent's JSON printer does with includingDefaultValueFields), by its .proto name; unset message fields and
// oneof members are left out.
//
// Imports: the well-known types (google/protobuf/*.proto that protobufjs bundles), and the files the schema's
// references name (registry/serdes.ts fetches them from the registry).
import protobuf from 'protobufjs'
import { InvalidSchemaError, SchemaMismatchError } from '../lib/errors'

/** A parsed schema: writes a value with the file's first message, reads any message of the file. */
export interface ProtobufCodec {
  /** The first message's full name (package.Message): the record name of RECORD_NAME subjects. */
  recordName: string
  /** Message indexes and the message, for the JSON value (checked against the first message). */
  write: (value: unknown, where: string) => Buffer
  /** A payload (message indexes and message) as JSON text. */
  read: (payload: Buffer) => string
}

/** A schema another refers to (a Confluent schema reference): the name it is imported by, and its text. */
export interface ProtobufImport { name: string, schema: string }

export function protobufCodec (text: string, what: string, imports: readonly ProtobufImport[] = []): ProtobufCodec {
  const messages = parse(text, what, imports)
  const first = messages[0] as protobuf.Type
  return {
    recordName: first.fullName.replace(/^\./, ''),
    write: (value, where) => {
      // toMessage checks every field (protobufjs's verify would refuse the bool map keys it makes).
      return Buffer.concat([Buffer.of(0), first.encode(toMessage(first, value, where)).finish()])
    },
    read: (payload) => {
      const { indexes, offset } = readIndexes(payload)
      const type = messageAt(messages, indexes)
      return JSON.stringify(fromMessage(type, type.decode(payload.subarray(offset))))
    }
  }
}

const OPTIONS = { keepCase: true, alternateCommentMode: true }

/**
 * The file's top-level messages, in the order written (what message indexes count). Its imports are the well-known
 * types and `imports` (the files its schema references name, each after those it imports itself).
 */
function parse (text: string, what: string, imports: readonly ProtobufImport[]): protobuf.Type[] {
  const root = new protobuf.Root()
  const named = new Set(imports.map((i) => i.name))
  const bundledIn = new Set<string>()
  const parseInto = (source: string, whose: string): protobuf.IParserResult => {
    let parsed: protobuf.IParserResult
    try {
      parsed = protobuf.parse(source, root, OPTIONS)
    } catch (err) {
      throw new InvalidSchemaError(`${capital(whose)} is not a valid Protobuf schema: ${err instanceof Error ? err.message : String(err)}.`)
    }
    for (const name of parsed.imports ?? []) {
      if (named.has(name) || bundledIn.has(name)) continue
      const bundled = (protobuf.common as unknown as Record<string, protobuf.INamespace | undefined>)[name]
      if (bundled === undefined) throw new InvalidSchemaError(`${capital(whose)} imports '${name}', which is neither a well-known type nor one of its schema references.`)
      root.addJSON(bundled.nested ?? {})
      bundledIn.add(name)
    }
    return parsed
  }
  for (const i of imports) parseInto(i.schema, `${what}'s reference '${i.name}'`)
  const parsed = parseInto(text, what)
  try {
    root.resolveAll()
  } catch (err) {
    throw new InvalidSchemaError(`${capital(what)} is not a valid Protobuf schema: ${err instanceof Error ? err.message : String(err)}.`)
  }
  // Which of the package's messages this file declares, in its order: the imports may share its package.
  const own = protobuf.parse(text, OPTIONS)
  const ownPkg = own.package === undefined ? own.root : own.root.lookup(own.package)
  const names = ownPkg instanceof protobuf.Namespace ? ownPkg.nestedArray.filter((n) => n instanceof protobuf.Type).map((n) => n.name) : []
  const pkg = parsed.package === undefined ? root : root.lookup(parsed.package)
  const messages = pkg instanceof protobuf.Namespace ? names.map((n) => pkg.get(n)).filter((n): n is protobuf.Type => n instanceof protobuf.Type) : []
  if (messages.length === 0) throw new InvalidSchemaError(`${capital(what)} has no message: a Protobuf schema for records declares at least one.`)
  return messages
}

// ---- Message indexes -----------------------------------------------------------------------------------------------

/** Confluent's message indexes: a count then each index, zigzag varints; [0] alone as the count 0. */
function readIndexes (payload: Buffer): { indexes: number[], offset: number } {
  let offset = 0
  const next = (): number => {
    let result = 0
    let shift = 0
    for (;;) {
      if (offset >= payload.length || shift > 28) throw new Error('its message indexes are cut short')
      const byte = payload[offset++] as number
      result |= (byte & 0x7f) << shift
      if ((byte & 0x80) === 0) break
      shift += 7
    }
    return (result >>> 1) ^ -(result & 1)
  }
  const count = next()
  if (count === 0) return { indexes: [0], offset }
  if (count < 0 || count > 100) throw new Error(`its message index count ${count} is not a count`)
  const indexes: number[] = []
  for (let i = 0; i < count; i++) indexes.push(next())
  return { indexes, offset }
}

/** The message the indexes name: a top-level message, then messages nested in it. */
function messageAt (messages: protobuf.Type[], indexes: number[]): protobuf.Type {
  let level = messages
  let type: protobuf.Type | undefined
  for (const i of indexes) {
    type = level[i]
    if (type === undefined) throw new Error(`its message indexes [${indexes.join(', ')}] name no message of the schema`)
    level = type.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type)
  }
  return type as protobuf.Type
}

// ---- JSON to a message ---------------------------------------------------------------------------------------------

type Plain = Record<string, unknown>

const INT32 = new Set(['int32', 'sint32', 'sfixed32'])
const UINT32 = new Set(['uint32', 'fixed32'])
const INT64 = new Set(['int64', 'sint64', 'sfixed64'])
const UINT64 = new Set(['uint64', 'fixed64'])

class Mismatch extends Error {}

function fail (at: string, why: string): never {
  throw new Mismatch(`${at === '' ? '' : ` at field '${at}'`}: ${why}`)
}

function jsonName (name: string): string {
  return name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())
}

function describe (value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 40 ? `${text.slice(0, 40)}…` : text
}

/** A JSON object as the plain object protobufjs encodes, checked field by field against `type`. */
function toMessage (type: protobuf.Type, value: unknown, where: string): Plain {
  try {
    return messageOf(type, value, '')
  } catch (err) {
    if (err instanceof Mismatch) throw new SchemaMismatchError(`${where} does not match its Protobuf schema${err.message}.`)
    throw err
  }
}

function messageOf (type: protobuf.Type, value: unknown, at: string): Plain {
  const wkt = wellKnownFromJson(type, value, at)
  if (wkt !== undefined) return wkt
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(at, `expected an object (message ${type.name}), got ${describe(value)}`)
  const out: Plain = {}
  const oneofs = new Map<string, string>()
  for (const [key, v] of Object.entries(value as Plain)) {
    // Own properties only: a key such as "constructor" or "__proto__" is no field.
    const field = Object.prototype.hasOwnProperty.call(type.fields, key) ? type.fields[key] : type.fieldsArray.find((f) => jsonName(f.name) === key)
    const path = at === '' ? key : `${at}.${key}`
    if (field === undefined) fail(path, `message ${type.name} has no such field`)
    if (v === null && !(field.resolvedType instanceof protobuf.Type && field.resolvedType.fullName === '.google.protobuf.Value')) continue
    if (field.partOf !== null && field.partOf !== undefined) {
      const other = oneofs.get(field.partOf.name)
      if (other !== undefined) fail(path, `'${other}' of the same oneof ${field.partOf.name.replace(/^_/, '')} is set already`)
      oneofs.set(field.partOf.name, field.name)
    }
    out[field.name] = fieldOf(field, v, path)
  }
  for (const field of type.fieldsArray) {
    if (field.required && out[field.name] === undefined) fail(at === '' ? field.name : `${at}.${field.name}`, 'the field is required')
  }
  return out
}

function fieldOf (field: protobuf.Field, v: unknown, path: string): unknown {
  if (field instanceof protobuf.MapField) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, `expected an object (a map), got ${describe(v)}`)
    const out: Plain = {}
    for (const [k, item] of Object.entries(v as Plain)) {
      out[mapKey(field.keyType, k, `${path}.${k}`)] = singular(field, item, `${path}.${k}`)
    }
    return out
  }
  if (field.repeated) {
    if (!Array.isArray(v)) fail(path, `expected an array, got ${describe(v)}`)
    return v.map((item, i) => singular(field, item, `${path}.${i}`))
  }
  return singular(field, v, path)
}

function mapKey (keyType: string, key: string, path: string): string {
  if (keyType === 'string') return key
  if (keyType === 'bool') {
    if (key !== 'true' && key !== 'false') fail(path, `a map key of type bool is true or false, not '${key}'`)
    // protobufjs writes a bool key as the truth of the object key: "false" would be written true, "" is false.
    return key === 'true' ? 'true' : ''
  }
  return String(scalar(keyType, /^-?\d+$/.test(key) ? key : NaN, path))
}

function singular (field: protobuf.Field, v: unknown, path: string): unknown {
  const resolved = field.resolvedType
  if (resolved instanceof protobuf.Type) return messageOf(resolved, v, path)
  if (resolved instanceof protobuf.Enum) {
    if (typeof v === 'string' && resolved.values[v] !== undefined) return resolved.values[v]
    if (typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) return v
    fail(path, `expected a value of enum ${resolved.name} (${Object.keys(resolved.values).join(', ')}), got ${describe(v)}`)
  }
  if (v === null) fail(path, 'null is not a value of a list or map')
  return scalar(field.type, v, path)
}

function scalar (type: string, v: unknown, path: string): unknown {
  if (type === 'string') {
    if (typeof v !== 'string') fail(path, `expected a string, got ${describe(v)}`)
    return v
  }
  if (type === 'bool') {
    if (typeof v !== 'boolean') fail(path, `expected true or false, got ${describe(v)}`)
    return v
  }
  if (type === 'bytes') {
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) fail(path, `expected base64 text, got ${describe(v)}`)
    return Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  }
  if (type === 'double' || type === 'float') {
    if (v === 'NaN') return NaN
    if (v === 'Infinity') return Infinity
    if (v === '-Infinity') return -Infinity
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v
    if (typeof n !== 'number' || !Number.isFinite(n)) fail(path, `expected a number, got ${describe(v)}`)
    if (type === 'float' && Math.abs(n) > 3.4028234663852886e38) fail(path, `${n} is out of range for a float`)
    return n
  }
  const integer = typeof v === 'number' ? (Number.isInteger(v) ? BigInt(v) : undefined) : typeof v === 'string' && /^-?\d+$/.test(v) ? BigInt(v) : undefined
  if (integer === undefined) fail(path, `expected an integer (${type}), got ${describe(v)}`)
  if (typeof v === 'number' && !Number.isSafeInteger(v) && (INT64.has(type) || UINT64.has(type))) fail(path, `${v} is beyond JavaScript's exact integers: send a 64-bit integer as text ("${integer}")`)
  const [min, max] = INT32.has(type) ? [-(2n ** 31n), 2n ** 31n - 1n] : UINT32.has(type) ? [0n, 2n ** 32n - 1n] : INT64.has(type) ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n]
  if (integer < min || integer > max) fail(path, `${integer} is out of range for ${type}`)
  if (INT32.has(type) || UINT32.has(type)) return Number(integer)
  return integer.toString() // protobufjs writes a 64-bit integer given as decimal text exactly
}

// ---- A message to JSON ---------------------------------------------------------------------------------------------

function fromMessage (type: protobuf.Type, message: protobuf.Message | Plain): unknown {
  const wkt = wellKnownToJson(type, message as Plain)
  if (wkt !== undefined) return wkt
  const m = message as Plain
  const out: Plain = {}
  for (const field of type.fieldsArray) {
    const v = m[field.name]
    const inOneof = field.partOf !== null && field.partOf !== undefined
    if (inOneof && !Object.prototype.hasOwnProperty.call(m, field.name)) continue
    if (field.resolvedType instanceof protobuf.Type && !field.repeated && !(field instanceof protobuf.MapField) && (v === null || v === undefined)) continue
    if (field instanceof protobuf.MapField) {
      const entries: Plain = {}
      for (const [k, item] of Object.entries((v ?? {}) as Plain)) entries[readMapKey(field.keyType, k)] = readSingular(field, item)
      out[field.name] = entries
    } else if (field.repeated) {
      out[field.name] = ((v ?? []) as unknown[]).map((item) => readSingular(field, item))
    } else {
      out[field.name] = readSingular(field, v ?? field.typeDefault)
    }
  }
  return out
}

function readMapKey (keyType: string, key: string): string {
  if (INT64.has(keyType) || UINT64.has(keyType)) return protobuf.util.longFromHash(key, UINT64.has(keyType)).toString()
  return key
}

function readSingular (field: protobuf.Field, v: unknown): unknown {
  const resolved = field.resolvedType
  if (resolved instanceof protobuf.Type) return fromMessage(resolved, v as Plain)
  if (resolved instanceof protobuf.Enum) return resolved.valuesById[v as number] ?? v
  return readScalar(field.type, v)
}

function readScalar (type: string, v: unknown): unknown {
  if (type === 'bytes') return Buffer.from(v as Uint8Array).toString('base64')
  if (type === 'double' || type === 'float') {
    const n = v as number
    if (Number.isNaN(n)) return 'NaN'
    if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity'
    return type === 'float' ? shortestFloat(n) : n
  }
  // 64-bit integers as decimal text, as Protobuf's JSON mapping gives them.
  if (INT64.has(type) || UINT64.has(type)) return typeof v === 'number' ? String(v) : (v as protobuf.Long).toString()
  return v
}

/** A float32 read back as the shortest decimal that is the same float (0.1, not 0.10000000149011612). */
function shortestFloat (n: number): number {
  for (let p = 1; p <= 9; p++) {
    const d = Number(n.toPrecision(p))
    if (Math.fround(d) === n) return d
  }
  return n
}

// ---- Well-known types ----------------------------------------------------------------------------------------------

const WRAPPERS: Readonly<Record<string, string>> = {
  '.google.protobuf.DoubleValue': 'double',
  '.google.protobuf.FloatValue': 'float',
  '.google.protobuf.Int64Value': 'int64',
  '.google.protobuf.UInt64Value': 'uint64',
  '.google.protobuf.Int32Value': 'int32',
  '.google.protobuf.UInt32Value': 'uint32',
  '.google.protobuf.BoolValue': 'bool',
  '.google.protobuf.StringValue': 'string',
  '.google.protobuf.BytesValue': 'bytes'
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i

function wellKnownFromJson (type: protobuf.Type, v: unknown, at: string): Plain | undefined {
  const name = type.fullName
  const wrapped = WRAPPERS[name]
  if (wrapped !== undefined) return { value: scalar(wrapped, v, at) }
  switch (name) {
    case '.google.protobuf.Timestamp': {
      const m = typeof v === 'string' ? RFC3339.exec(v) : null
      const ms = m === null ? NaN : Date.parse(`${v as string}`.replace(/\.\d+/, ''))
      if (m === null || Number.isNaN(ms)) fail(at, `expected an RFC 3339 timestamp ("2026-12-02T10:00:00Z"), got ${describe(v)}`)
      return { seconds: String(Math.floor(ms / 1000)), nanos: Number((m[7] ?? '').padEnd(9, '0')) }
    }
    case '.google.protobuf.Duration': {
      const m = typeof v === 'string' ? /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(v) : null
      // Protobuf's range: ±315,576,000,000 s (10,000 years).
      if (m === null || Number(m[2]) > 315_576_000_000) fail(at, `expected a duration in seconds within ±10,000 years ("1.5s"), got ${describe(v)}`)
      const sign = m[1] === '-' ? -1 : 1
      return { seconds: `${m[1] ?? ''}${m[2] as string}`, nanos: sign * Number((m[3] ?? '').padEnd(9, '0')) }
    }
    case '.google.protobuf.FieldMask':
      if (typeof v !== 'string') fail(at, `expected a field mask ("a.b,c"), got ${describe(v)}`)
      return { paths: v === '' ? [] : v.split(',').map((p) => p.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)) }
    case '.google.protobuf.Struct':
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(at, `expected an object, got ${describe(v)}`)
      return { fields: Object.fromEntries(Object.entries(v as Plain).map(([k, x]) => [k, valueOf(x)])) }
    case '.google.protobuf.ListValue':
      if (!Array.isArray(v)) fail(at, `expected an array, got ${describe(v)}`)
      return { values: v.map(valueOf) }
    case '.google.protobuf.Value':
      return valueOf(v)
    case '.google.protobuf.Any':
      fail(at, 'google.protobuf.Any is not supported: it needs the registry of every type it may hold')
  }
  return undefined
}

function valueOf (v: unknown): Plain {
  if (v === null) return { nullValue: 0 }
  if (typeof v === 'number') return { numberValue: v }
  if (typeof v === 'string') return { stringValue: v }
  if (typeof v === 'boolean') return { boolValue: v }
  if (Array.isArray(v)) return { listValue: { values: v.map(valueOf) } }
  return { structValue: { fields: Object.fromEntries(Object.entries(v as Plain).map(([k, x]) => [k, valueOf(x)])) } }
}

const STRUCT = { fullName: '.google.protobuf.Struct' }

function wellKnownToJson (type: Pick<protobuf.Type, 'fullName'>, m: Plain): unknown {
  const name = type.fullName
  const wrapped = WRAPPERS[name]
  if (wrapped !== undefined) return readScalar(wrapped, m.value ?? (wrapped === 'bytes' ? new Uint8Array() : wrapped === 'string' ? '' : wrapped === 'bool' ? false : 0))
  const seconds = (): bigint => BigInt(typeof m.seconds === 'number' ? m.seconds : (m.seconds as protobuf.Long | undefined)?.toString() ?? 0)
  const nanos = (): number => (m.nanos as number | undefined) ?? 0
  switch (name) {
    case '.google.protobuf.Timestamp': {
      const iso = new Date(Number(seconds()) * 1000).toISOString().replace(/\.000Z$/, '')
      return `${iso}${fraction(nanos())}Z`
    }
    case '.google.protobuf.Duration': {
      const s = seconds()
      const n = nanos()
      const negative = s < 0n || n < 0
      const abs = (s < 0n ? -s : s).toString()
      return `${negative ? '-' : ''}${abs}${fraction(Math.abs(n))}s`
    }
    case '.google.protobuf.FieldMask':
      return ((m.paths ?? []) as string[]).map(jsonName).join(',')
    case '.google.protobuf.Struct':
      return Object.fromEntries(Object.entries((m.fields ?? {}) as Record<string, Plain>).map(([k, x]) => [k, readValue(x)]))
    case '.google.protobuf.ListValue':
      return ((m.values ?? []) as Plain[]).map(readValue)
    case '.google.protobuf.Value':
      return readValue(m)
  }
  return undefined
}

/** Nanoseconds as a fraction of 3, 6 or 9 digits, as Protobuf's JSON mapping writes them (none for 0). */
function fraction (nanos: number): string {
  if (nanos === 0) return ''
  const digits = String(nanos).padStart(9, '0')
  return `.${digits.endsWith('000000') ? digits.slice(0, 3) : digits.endsWith('000') ? digits.slice(0, 6) : digits}`
}

function readValue (v: Plain): unknown {
  // Only the member of the oneof `kind` that was read is the message's own; the others are the prototype's defaults.
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(v, k)
  if (has('numberValue')) return v.numberValue
  if (has('stringValue')) return v.stringValue
  if (has('boolValue')) return v.boolValue
  if (has('structValue')) return wellKnownToJson(STRUCT, v.structValue as Plain)
  if (has('listValue')) return (((v.listValue as Plain).values ?? []) as Plain[]).map(readValue)
  return null
}

function capital (s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}
