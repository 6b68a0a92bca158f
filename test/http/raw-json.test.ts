import t from 'tap'
import { JsonPaths, trimmed } from '../../http/raw-json'

const RECORDS = new JsonPaths([['records', '*', 'value'], ['records', '*', 'key']])
const text = (b: Buffer | undefined): string | undefined => b?.toString('utf8')

t.test('finds each record\'s value and key as the text sent, whatever the spacing and order', async (t) => {
  const body = Buffer.from(' {\n "other": {"records": [{"value": 0}]},\r\n "records" : [ {"key":"k","value" : {"a": [1, "]}\\"", {}]} } ,\t{"value":12345678901234567890123} , {"partition": 1} ] }\n')
  t.same(JSON.parse(body.toString()).records.length, 3)
  const spans = RECORDS.find(body)
  t.equal(text(spans.get(0, 0)), '{"a": [1, "]}\\"", {}]}', 'brackets and quotes inside strings do not end a value')
  t.equal(text(spans.get(1, 0)), '"k"')
  t.equal(text(spans.get(0, 1)), '12345678901234567890123', 'a number as written')
  t.equal(spans.get(0, 2), undefined, 'a record without a value has none')
  t.equal(spans.get(1, 1), undefined)
})

t.test('a repeated key counts once, the last one, as JSON.parse does; an escaped key is compared decoded', async (t) => {
  const spans = RECORDS.find(Buffer.from('{"records":[{"value":1,"value":"two"},{"val\\u0075e":[3]}]}'))
  t.equal(text(spans.get(0, 0)), '"two"')
  t.equal(text(spans.get(0, 1)), '[3]')
})

t.test('multi-byte characters and literals', async (t) => {
  const spans = RECORDS.find(Buffer.from('{"records":[{"value":"héllo ✓"},{"value":true},{"value":null},{"value":-1.5e-3}]}'))
  t.same([0, 1, 2, 3].map((i) => text(spans.get(0, i))), ['"héllo ✓"', 'true', 'null', '-1.5e-3'])
})

t.test('nested paths; a document of another shape finds nothing rather than throwing', async (t) => {
  const data = new JsonPaths([['value', 'data'], ['key', 'data']])
  t.equal(text(data.find(Buffer.from('{"key":{"type":"JSON","data":{"x":"y"}},"value":{"data":[1],"type":"JSON"}}')).get(0)), '[1]')
  t.equal(data.find(Buffer.from('[1, 2]')).get(0), undefined)
  t.equal(data.find(Buffer.from('{"value": "data"}')).get(0), undefined)
  t.equal(RECORDS.find(Buffer.from('{"records":[{"value":"unterminated')).get(0, 0), undefined, 'a truncated document finds nothing')
})

t.test('trimmed drops the spacing around a document', async (t) => {
  t.equal(trimmed(Buffer.from(' \r\n\t{"a": 1 }\n ')).toString(), '{"a": 1 }')
  t.equal(trimmed(Buffer.from('   ')).length, 0)
})
