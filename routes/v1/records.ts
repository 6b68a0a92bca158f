// A consumed record as the Kosha v1 API shows it (openapi.json's ConsumedRecord), wherever one is returned: a v1
// consume, a stream's record event, a page of a stateless read.
import type { Message } from '@confluentinc/kafka-javascript'
import type { RouteTypes } from '../../generated/routes'
import { decodeText, decodeValue, decodeValueJson, headersOf } from '../../kafka/consumers/decode'

export type ConsumedRecord = RouteTypes['consumeRecord']['Reply'][200]

export function consumedRecord (m: Message): ConsumedRecord {
  const key = decodeText(m.key)
  const value = decodeValue(m.value)
  return {
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    key: key.text,
    keyEncoding: key.encoding,
    value: value.value,
    valueEncoding: value.encoding,
    timestamp: m.timestamp ?? 0,
    headers: headersOf(m).map((h) => {
      const d = decodeText(h.value)
      return { key: h.name, value: d.text, valueEncoding: d.encoding ?? 'text' }
    })
  }
}

/**
 * The same record as JSON text, written without building it (a stream writes one per record): a value that is JSON
 * is spliced in as it was produced (kafka/consumers/decode.ts). The same fields, in the same order, as
 * JSON.stringify(consumedRecord(m)).
 */
export function consumedRecordJson (m: Message): string {
  const key = decodeText(m.key)
  const value = decodeValueJson(m.value)
  let headers = ''
  for (const h of headersOf(m)) {
    const d = decodeText(h.value)
    headers += `${headers === '' ? '' : ','}{"key":${JSON.stringify(h.name)},"value":${JSON.stringify(d.text)},"valueEncoding":"${d.encoding ?? 'text'}"}`
  }
  return `{"topic":${JSON.stringify(m.topic)},"partition":${m.partition},"offset":${m.offset},` +
    `"key":${key.text === null ? 'null' : JSON.stringify(key.text)},"keyEncoding":${key.encoding === null ? 'null' : `"${key.encoding}"`},` +
    `"value":${value.json},"valueEncoding":${value.encoding === null ? 'null' : `"${value.encoding}"`},` +
    `"timestamp":${m.timestamp ?? 0},"headers":[${headers}]}`
}
