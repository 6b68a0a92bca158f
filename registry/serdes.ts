// Keys and values in the Schema Registry formats, in Confluent's wire format: a zero byte, the schema's id as four
// big-endian bytes, then the payload (Avro's binary encoding; for JSON Schema the JSON text itself; for Protobuf the
// message indexes and the binary message, registry/protobuf.ts), so that
// Confluent's deserializers (Java, Go, Python, JavaScript) read what is produced here and the other way round.
//
// A value's JSON is Avro's JSON encoding (a union's branch named: {"string": "x"}; bytes as text of code points
// 0-255), as Confluent REST Proxy takes and gives it; a long must be within JavaScript's safe integers (±2^53).
// JSON Schema values are checked with ajv against their schema before they are written. Protobuf values are
// Protobuf's JSON mapping (registry/protobuf.ts).
import Ajv, { type ValidateFunction } from 'ajv'
import avro from 'avsc'
import { InvalidSchemaError, RecordNotDeserializableError, SchemaMismatchError, SchemaNotFoundError } from '../lib/errors'
import type { RegisteredSchema, SchemaReference, SchemaRegistry, SchemaType } from './client'
import { protobufCodec } from './protobuf'

export type SchemaFormat = 'avro' | 'jsonschema' | 'protobuf'

export const SCHEMA_TYPE: Record<SchemaFormat, SchemaType> = { avro: 'AVRO', jsonschema: 'JSON', protobuf: 'PROTOBUF' }
const FORMAT_OF: Record<SchemaType, SchemaFormat> = { AVRO: 'avro', JSON: 'jsonschema', PROTOBUF: 'protobuf' }
const NAME: Record<SchemaFormat, string> = { avro: 'Avro', jsonschema: 'JSON Schema', protobuf: 'Protobuf' }

/** Which schema a key or value is written with: given (registered under the subject), by id, or a subject's version. */
export type SchemaRef =
  | { schema: string, subject: string }
  | { id: number }
  | { subject: string, version: number | 'latest' }

/** Writes values with one schema. */
export interface Writer {
  id: number
  format: SchemaFormat
  /** With a lookup by subject and version. */
  subject?: string
  version?: number
  /** The value, checked against the schema, in the wire format; `where` names it in an error (records/0/value). */
  encode: (value: unknown, where: string) => Buffer
}

interface Compiled {
  format: SchemaFormat
  /** The payload of a value (checked against the schema). */
  write: (value: unknown, where: string) => Buffer
  /** A payload as JSON text. */
  read: (payload: Buffer) => string
  /** The record's full name (an Avro record's, a JSON Schema's title, a Protobuf file's first message), if it has one. */
  name: string | undefined
}

const MAX_COMPILED = 10_000
/** The most schemas one schema may refer to, directly or through others. */
const MAX_REFERENCES = 100

/** A schema another refers to: the name the referring schema knows it by, and its text. */
interface Dependency { name: string, schema: string }

export class Serdes {
  private readonly compiled = new Map<number, Compiled>()
  /** Schemas given as text, parsed once each: a producer sends the same schema with every request. */
  private readonly parsed = new Map<string, Compiled>()

  constructor (private readonly registry: SchemaRegistry) {}

  /**
   * A writer for values of `format` with the schema `ref` names; without a format, of the schema's own (a schema
   * given as text then needs one).
   */
  async writer (format: SchemaFormat | undefined, ref: SchemaRef): Promise<Writer> {
    let found: RegisteredSchema
    if ('schema' in ref) {
      if (format === undefined) throw new InvalidSchemaError('A schema given as text needs its type (AVRO, JSONSCHEMA or PROTOBUF).')
      this.parse(format, ref.schema, 'the schema') // refused here, with the parser's reason, before the registry sees it
      found = { id: await this.registry.register(ref.subject, ref.schema, SCHEMA_TYPE[format]), schema: ref.schema, schemaType: SCHEMA_TYPE[format], references: [] }
    } else {
      found = 'id' in ref ? await this.registry.schemaById(ref.id) : await this.registry.version(ref.subject, ref.version)
    }
    const compiled = await this.compile(found)
    if (format !== undefined && compiled.format !== format) throw new SchemaMismatchError(`Schema ${found.id} is a ${NAME[compiled.format]} schema, not ${NAME[format]}.`)
    return {
      id: found.id,
      format: compiled.format,
      ...(found.subject !== undefined ? { subject: found.subject } : {}),
      ...(found.version !== undefined ? { version: found.version } : {}),
      encode: (value, where) => frame(found.id, compiled.write(value, where))
    }
  }

  /**
   * Decodes keys or values of `format` as JSON text, each framed with its schema's id; null stays null. The schemas
   * are looked up first (once each), so that a batch of records is then decoded without waiting.
   */
  async readAll (values: ReadonlyArray<Buffer | null | undefined>, format: SchemaFormat, where: (i: number) => string): Promise<string[]> {
    // Each schema id, with the first record written with it (to name in an error).
    const ids = new Map<number, number>()
    values.forEach((v, i) => {
      if (v === null || v === undefined) return
      const { id } = unframe(v, format, where(i))
      if (!ids.has(id)) ids.set(id, i)
    })
    for (const [id, first] of ids) {
      if (this.compiled.has(id)) continue
      await this.registry.schemaById(id).then(async (found) => await this.compile(found)).catch((err: unknown) => {
        if (err instanceof SchemaNotFoundError) {
          throw new RecordNotDeserializableError(`${where(first)} names schema id ${id}, which the schema registry does not have (or not all the schemas it refers to): ${err.message}`)
        }
        // A schema the registry took but this service cannot read (a Protobuf import with no reference, say): the
        // record is what the client must seek past, so the error names it.
        if (err instanceof InvalidSchemaError) throw new RecordNotDeserializableError(`${where(first)} is written with schema ${id}, which this service cannot read: ${err.message}`)
        throw err
      })
    }
    return values.map((v, i) => {
      if (v === null || v === undefined) return 'null'
      const { id, payload } = unframe(v, format, where(i))
      const compiled = this.compiled.get(id) as Compiled
      if (compiled.format !== format) throw new RecordNotDeserializableError(`${where(i)} is written with schema ${id}, a ${NAME[compiled.format]} schema, not ${NAME[format]}.`)
      try {
        return compiled.read(payload)
      } catch (err) {
        throw new RecordNotDeserializableError(`${where(i)} does not decode with its ${NAME[format]} schema ${id}: ${err instanceof Error ? err.message : String(err)}.`)
      }
    })
  }

  /** The full name of the record a schema given as text describes (for the RECORD_NAME subject strategies). */
  recordName (format: SchemaFormat, schema: string): string | undefined {
    return this.parse(format, schema, 'the schema').name
  }

  private async compile (found: RegisteredSchema): Promise<Compiled> {
    const known = this.compiled.get(found.id)
    if (known !== undefined) return known
    const compiled = this.parse(FORMAT_OF[found.schemaType], found.schema, `schema ${found.id}`, await this.dependencies(found))
    if (this.compiled.size >= MAX_COMPILED) this.compiled.delete(this.compiled.keys().next().value as number)
    this.compiled.set(found.id, compiled)
    return compiled
  }

  /**
   * The schemas `found` refers to (Confluent's schema references), each after those it refers to itself, each once;
   * at most MAX_REFERENCES in all.
   */
  private async dependencies (found: RegisteredSchema): Promise<Dependency[]> {
    const out: Dependency[] = []
    const seen = new Set<string>()
    const visit = async (references: readonly SchemaReference[]): Promise<void> => {
      for (const ref of references) {
        const key = `${ref.subject}\0${ref.version}`
        if (seen.has(key)) continue
        if (seen.size >= MAX_REFERENCES) throw new InvalidSchemaError(`Schema ${found.id} refers to more than ${MAX_REFERENCES} schemas.`)
        seen.add(key)
        const referenced = await this.registry.version(ref.subject, ref.version)
        if (referenced.schemaType !== found.schemaType) throw new InvalidSchemaError(`Schema ${found.id}, a ${found.schemaType} schema, refers to '${ref.name}' (version ${ref.version} of subject '${ref.subject}'), a ${referenced.schemaType} schema.`)
        await visit(referenced.references)
        out.push({ name: ref.name, schema: referenced.schema })
      }
    }
    await visit(found.references)
    return out
  }

  private parse (format: SchemaFormat, schema: string, what: string, dependencies: readonly Dependency[] = []): Compiled {
    const key = [format, schema, ...dependencies.flatMap((d) => [d.name, d.schema])].join('\0')
    const known = this.parsed.get(key)
    if (known !== undefined) return known
    let compiled: Compiled
    if (format === 'protobuf') {
      const codec = protobufCodec(schema, what, dependencies)
      compiled = { format, write: codec.write, read: codec.read, name: codec.recordName }
    } else {
      const json = jsonOf(schema, what, format)
      const referenced = dependencies.map((d) => ({ name: d.name, json: jsonOf(d.schema, `${what}'s reference '${d.name}'`, format) }))
      compiled = format === 'avro' ? avroCodec(json, what, referenced) : jsonSchemaCodec(json, what, referenced)
    }
    if (this.parsed.size >= MAX_COMPILED) this.parsed.delete(this.parsed.keys().next().value as string)
    this.parsed.set(key, compiled)
    return compiled
  }
}

function jsonOf (schema: string, what: string, format: SchemaFormat): unknown {
  try { return JSON.parse(schema) } catch { throw new InvalidSchemaError(`${capital(what)} is not JSON, so not a ${NAME[format]} schema.`) }
}

/** `referenced`: the schemas its references name (their named types known to it by their full names). */
function avroCodec (schema: unknown, what: string, referenced: ReadonlyArray<{ name: string, json: unknown }>): Compiled {
  let type: avro.Type
  const registry: Record<string, avro.Type> = {}
  for (const r of referenced) {
    try {
      avro.Type.forSchema(r.json as avro.Schema, { wrapUnions: true, registry })
    } catch (err) {
      throw new InvalidSchemaError(`${capital(what)}'s reference '${r.name}' is not a valid Avro schema: ${err instanceof Error ? err.message : String(err)}.`)
    }
  }
  try {
    type = avro.Type.forSchema(schema as avro.Schema, { wrapUnions: true, registry })
  } catch (err) {
    throw new InvalidSchemaError(`${capital(what)} is not a valid Avro schema: ${err instanceof Error ? err.message : String(err)}.`)
  }
  return {
    format: 'avro',
    write: (value, where) => {
      let typed: unknown
      try {
        typed = type.fromString(JSON.stringify(value))
      } catch (err) {
        throw new SchemaMismatchError(`${where} does not match its Avro schema${avroPath(type, value)}: ${err instanceof Error ? err.message : String(err)}.`)
      }
      return type.toBuffer(typed)
    },
    read: (payload) => type.toString(type.fromBuffer(payload)),
    name: type.name // a named type's full name (namespace.Name)
  }
}

/** Where in the value Avro's check failed first, as " at field 'a.b'" (bytes fields, text in JSON, are not judged). */
function avroPath (type: avro.Type, value: unknown): string {
  const paths: string[] = []
  type.isValid(value, { errorHook: (path, _any, t) => { if (t.typeName !== 'bytes' && t.typeName !== 'fixed') paths.push(path.join('.')) } })
  const first = paths[0]
  return first === undefined ? '' : first === '' ? ' (the whole value)' : ` at field '${first}'`
}

/** `referenced`: the schemas its references name (each known to $ref by that name). */
function jsonSchemaCodec (schema: unknown, what: string, referenced: ReadonlyArray<{ name: string, json: unknown }>): Compiled {
  let validate: ValidateFunction
  try {
    // An Ajv of its own: one shared instance would keep every schema it compiled, and refuse a second schema with
    // the same $id (two versions of one schema).
    const ajv = new Ajv({ allErrors: false, strict: false, validateFormats: false })
    for (const r of referenced) ajv.addSchema(r.json as object, r.name)
    validate = ajv.compile(schema as object)
  } catch (err) {
    throw new InvalidSchemaError(`${capital(what)} is not a valid JSON Schema: ${err instanceof Error ? err.message : String(err)}.`)
  }
  return {
    format: 'jsonschema',
    write: (value, where) => {
      if (!validate(value)) {
        const e = validate.errors?.[0]
        throw new SchemaMismatchError(`${where} does not match its JSON Schema${e !== undefined ? `${e.instancePath !== '' ? ` at '${e.instancePath}'` : ''}: ${e.message ?? 'invalid'}` : ''}.`)
      }
      return Buffer.from(JSON.stringify(value))
    },
    read: (payload) => {
      const text = payload.toString('utf8')
      JSON.parse(text) // a payload that is not JSON is not in the format
      return text
    },
    name: typeof (schema as { title?: unknown }).title === 'string' ? (schema as { title: string }).title : undefined
  }
}

/** Confluent's wire format: magic byte 0, the schema id (4 bytes, big-endian), the payload. */
export function frame (id: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(5)
  header.writeUInt8(0, 0)
  header.writeUInt32BE(id, 1)
  return Buffer.concat([header, payload])
}

export function unframe (bytes: Buffer, format: SchemaFormat, where: string): { id: number, payload: Buffer } {
  if (bytes.length < 5 || bytes[0] !== 0) {
    throw new RecordNotDeserializableError(`${where} is not in Confluent's ${NAME[format]} wire format (no magic byte 0 and schema id): it was not written with a schema registry's serializer.`)
  }
  return { id: bytes.readUInt32BE(1), payload: bytes.subarray(5) }
}

function capital (s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}
