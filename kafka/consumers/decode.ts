// The one set of decoders for consumed bytes (keys, values, header values), for every API that returns records.
import type { Message } from '@confluentinc/kafka-javascript'
import { MAX_JSON_DEPTH, exceedsDepth } from '../../lib/json-depth'

/**
 * How a v2 consumer instance presents bytes: base64 text, or the JSON (else text) they hold; or, with a schema
 * registry, decoded from Confluent's wire format with their schema (registry/serdes.ts).
 */
export type Format = 'binary' | 'json' | 'avro' | 'jsonschema' | 'protobuf'
/** The formats decoded here, without a schema. */
export type PlainFormat = 'binary' | 'json'
export type Encoding = 'json' | 'text' | 'base64'

const utf8 = new TextDecoder('utf-8', { fatal: true })

function asBuffer (bytes: Buffer | string): Buffer {
  return typeof bytes === 'string' ? Buffer.from(bytes) : bytes
}

/** The bytes as text when they are UTF-8, else undefined. */
function asText (bytes: Buffer): string | undefined {
  try { return utf8.decode(bytes) } catch { return undefined }
}

/** JSON when the bytes are JSON, else text when they are UTF-8, else base64; null stays null (a tombstone). */
export function decodeValue (bytes: Buffer | string | null | undefined): { value: unknown, encoding: Encoding | null } {
  if (bytes === null || bytes === undefined) return { value: null, encoding: null }
  const buf = asBuffer(bytes)
  const text = asText(buf)
  if (text === undefined) return { value: buf.toString('base64'), encoding: 'base64' }
  // JSON nested too deep to be written out again as a value (another client produced it) is shown as its text.
  if (exceedsDepth(buf, MAX_JSON_DEPTH)) return { value: text, encoding: 'text' }
  try { return { value: JSON.parse(text) as unknown, encoding: 'json' } } catch { return { value: text, encoding: 'text' } }
}

/** Text when the bytes are UTF-8, else base64; null stays null. */
export function decodeText (bytes: Buffer | string | null | undefined): { text: string | null, encoding: 'text' | 'base64' | null } {
  if (bytes === null || bytes === undefined) return { text: null, encoding: null }
  if (typeof bytes === 'string') return { text: bytes, encoding: 'text' }
  const text = asText(bytes)
  return text === undefined ? { text: bytes.toString('base64'), encoding: 'base64' } : { text, encoding: 'text' }
}

/**
 * Bytes in a v2 format, as JSON text, for answers written without building objects: binary is base64; json is the
 * JSON the bytes hold (else text, or base64 when they are not UTF-8). JSON is spliced in as it is (checked by
 * JSON.parse, not re-serialised: a 20-digit number stays exact); base64 is quoted straight from the buffer (it needs
 * no escaping).
 */
export function inFormatJson (bytes: Buffer | string | null | undefined, format: PlainFormat): string {
  if (bytes === null || bytes === undefined) return 'null'
  const buf = asBuffer(bytes)
  if (format === 'binary') return `"${buf.toString('base64')}"`
  const text = asText(buf)
  if (text === undefined) return `"${buf.toString('base64')}"`
  return isJson(text) ? text : JSON.stringify(text)
}

/** decodeValue's answer with the value as JSON text (see inFormatJson). */
export function decodeValueJson (bytes: Buffer | string | null | undefined): { json: string, encoding: Encoding | null } {
  if (bytes === null || bytes === undefined) return { json: 'null', encoding: null }
  const buf = asBuffer(bytes)
  const text = asText(buf)
  if (text === undefined) return { json: `"${buf.toString('base64')}"`, encoding: 'base64' }
  return isJson(text) ? { json: text, encoding: 'json' } : { json: JSON.stringify(text), encoding: 'text' }
}

function isJson (text: string): boolean {
  try { JSON.parse(text); return true } catch { return false }
}

const NO_HEADERS: ReadonlyArray<{ name: string, value: Buffer }> = []

/** A record's headers as name/value pairs, in order (librdkafka gives one object per header). */
export function headersOf (m: Message): ReadonlyArray<{ name: string, value: Buffer }> {
  if (m.headers === undefined || m.headers.length === 0) return NO_HEADERS
  return m.headers.flatMap((h) => Object.entries(h).map(([name, v]) => ({ name, value: asBuffer(v) })))
}

/** The bytes of a record that count against a fetch's max_bytes: key and value. */
export function recordBytes (m: Message): number {
  return (m.value?.length ?? 0) + (typeof m.key === 'string' ? Buffer.byteLength(m.key) : (m.key?.length ?? 0))
}
