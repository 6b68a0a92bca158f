// The error catalogue (lib/errors.ts): codes are stable, prefixed, and each says what it answers on every API;
// the README's error tables list every code with its status (and, on v3, its error_code), checked here against the
// catalogue.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { ERROR_CODES, KoshaError, TopicNotFoundError, KafkaUnavailableError, statusOfCode, type ErrorCode } from '../../lib/errors'

const codes = Object.keys(ERROR_CODES) as ErrorCode[]

t.test('every code is KOSHA_ + SCREAMING_SNAKE, with a status, a v2 error_code of that status and a retriability', async (t) => {
  for (const code of codes) {
    const spec = ERROR_CODES[code]
    t.match(code, /^KOSHA_[A-Z0-9_]+$/, code)
    t.ok(spec.status >= 400 && spec.status < 600, `${code}: status ${spec.status}`)
    const v2Status = spec.v2 >= 1000 ? Math.floor(spec.v2 / 100) : spec.v2
    // A malformed request is 400 on the Kosha API and 422 on Confluent's v2; Confluent numbers its 5xx codes 500xx.
    if (v2Status !== spec.status) t.ok((spec.v2 === 42206 && spec.status === 400) || spec.status > 500, `${code}: v2 ${spec.v2} differs from ${spec.status} only for a malformed request or a 5xx`)
    t.equal(spec.retriable, spec.status >= 500 ? spec.status !== 500 : spec.status === 429, `${code}: retriable exactly for 429, 503, 504`)
  }
})

t.test('every v3 code is Confluent\'s: a 4xx names the status v3 answers, a 5xx is 50003 when retriable, else 500', async (t) => {
  // Confluent's codes (its v3 spec, its KafkaExceptionMapper): beyond these, a v3 code is the plain status.
  const SUB_CODES = new Set([40002, 40101, 40301, 40403, 50003])
  for (const code of codes) {
    const spec: { status: number, v3: number, retriable: boolean } = ERROR_CODES[code]
    t.ok(spec.v3 < 1000 || SUB_CODES.has(spec.v3), `${code}: v3 ${spec.v3} is one of Confluent's codes`)
    if (spec.status >= 500) {
      t.equal(spec.v3, spec.retriable ? 50003 : 500, `${code}: a 5xx keeps its status; its v3 code says whether to retry`)
    } else {
      // The one 4xx Confluent answers with another status: an existing topic, 400 (40002) rather than 409.
      const expected = code === 'KOSHA_TOPIC_EXISTS' ? 400 : spec.status
      t.equal(statusOfCode(spec.v3), expected, `${code}: v3 ${spec.v3} is answered with status ${expected}`)
    }
  }
  t.equal(ERROR_CODES.KOSHA_TOPIC_NOT_FOUND.v3, 40403, 'an unknown topic is 40403, as Kafka\'s UNKNOWN_TOPIC_OR_PARTITION')
  t.equal(ERROR_CODES.KOSHA_KAFKA_INVALID_REQUEST.v3, 40002, 'what Kafka refuses as invalid is 40002')
})

t.test('the README\'s v3 table gives every code its v3 status and error_code', async (t) => {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8')
  const table = readme.slice(readme.indexOf('| v3 status | v3 error_code | codes |'))
  const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2)
  const listed = new Map<string, [number, number]>()
  for (const row of rows) {
    const [, status, v3] = row.split('|').map((c) => Number(c.trim()))
    for (const m of row.split('|')[3]?.matchAll(/`(KOSHA_[A-Z0-9_]+)`/g) ?? []) listed.set(m[1] ?? '', [status ?? 0, v3 ?? 0])
  }
  for (const code of codes) {
    const spec = ERROR_CODES[code]
    const status = spec.status >= 500 ? spec.status : statusOfCode(spec.v3)
    t.same(listed.get(code), [status, spec.v3], `${code} is listed as ${status} / ${spec.v3}`)
  }
})

t.test('an error carries its code\'s status, v2 and v3 codes, retriability and cause', async (t) => {
  const cause = new Error('broker said no')
  const e = new TopicNotFoundError('orders', cause)
  t.type(e, KoshaError)
  t.match(e, { code: 'KOSHA_TOPIC_NOT_FOUND', status: 404, v2Code: 40401, v3Code: 40403, retriable: false, name: 'TopicNotFoundError' })
  t.equal(e.cause, cause)
  t.match(new KafkaUnavailableError('down'), { status: 503, v2Code: 50003, v3Code: 50003, retriable: true, headers: { 'Retry-After': '5' } })
})

t.test('the README\'s error table lists every code with its status, and no code the catalogue lacks', async (t) => {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8')
  const table = readme.slice(readme.indexOf('| status | code | when |'))
  const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2)
  const listed = new Map<string, number>()
  for (const row of rows) {
    const status = Number(row.split('|')[1]?.trim())
    for (const m of row.split('|')[2]?.matchAll(/`(KOSHA_[A-Z0-9_]+)`/g) ?? []) listed.set(m[1] ?? '', status)
  }
  for (const code of codes) t.equal(listed.get(code), ERROR_CODES[code].status, `${code} is listed with status ${ERROR_CODES[code].status}`)
  t.same([...listed.keys()].filter((c) => !(c in ERROR_CODES)), [], 'every listed code exists')
})
