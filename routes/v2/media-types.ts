// Confluent REST Proxy v2's media types: its own JSON, and the embedded formats of records (binary: base64 text;
// json: any JSON value) in Content-Type and Accept.
import type { Format } from '../../kafka/consumers/decode'
import { NotAcceptableError, UnsupportedFormatError } from '../../lib/errors'
import type { SchemaFormat } from '../../registry/serdes'

export const V2_JSON = 'application/vnd.kafka.v2+json'

// How a record's key and value travel in a v2 body: the consumer engine decodes records in it, so it is defined there.
export type { Format } from '../../kafka/consumers/decode'

/** Base64 text as Confluent's binary format (and v3's BINARY type) takes it: padded, no line breaks. */
export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Why a schema format cannot be used here: avro, jsonschema and protobuf without SCHEMA_REGISTRY_URL. */
export function schemaFormatRefusal (format: string, registry: boolean): string | undefined {
  if ((format === 'avro' || format === 'jsonschema' || format === 'protobuf') && !registry) {
    return `The ${format} format needs a schema registry, and this service has none configured (SCHEMA_REGISTRY_URL): use binary or json.`
  }
  return undefined
}

/** The embedded format from the Content-Type: binary, json, or with a schema registry avro, jsonschema and protobuf. */
export function embeddedFormat (contentType: string | undefined, registry: boolean): Format | SchemaFormat {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  if (type === 'application/json' || type === 'application/vnd.kafka.json.v2+json') return 'json'
  if (type === 'application/vnd.kafka.binary.v2+json') return 'binary'
  const m = /^application\/vnd\.kafka\.(avro|jsonschema|protobuf)\.v2\+json$/.exec(type)
  if (m?.[1] !== undefined) {
    const refusal = schemaFormatRefusal(m[1], registry)
    if (refusal !== undefined) throw new UnsupportedFormatError(refusal)
    return m[1] as SchemaFormat
  }
  throw new UnsupportedFormatError(`Unsupported Content-Type '${type}': use application/vnd.kafka.binary.v2+json, application/vnd.kafka.json.v2+json or application/json.`)
}

/** The format an Accept header asks for: a vendor type names one; application/json, * / * or none take the instance's. */
export function acceptedFormat (accept: string | undefined, instanceFormat: Format): Format {
  const types = (accept ?? '*/*').split(',').map((t) => t.split(';')[0]?.trim().toLowerCase() ?? '')
  for (const type of types) {
    const m = /^application\/vnd\.kafka\.(binary|json|avro|jsonschema|protobuf)\.v2\+json$/.exec(type)
    if (m?.[1] === instanceFormat) return instanceFormat
    if (['application/json', '*/*', 'application/*', 'application/vnd.kafka.v2+json', ''].includes(type)) return instanceFormat
  }
  throw new NotAcceptableError(`This consumer instance reads the ${instanceFormat} format: Accept application/vnd.kafka.${instanceFormat}.v2+json.`)
}
