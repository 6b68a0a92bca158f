// A consumed record as the Kosha v1 API shows it (openapi.json's ConsumedRecord), wherever one is returned: a v1
// consume, a stream's record event, a page of a stateless read.
import type { Message } from '@confluentinc/kafka-javascript'
import type { RouteTypes } from '../../generated/routes'
import { decodeText, decodeValue, headersOf } from '../../kafka/consumers/decode'

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
