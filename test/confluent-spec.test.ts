// The v3 conformance check of test/helper.ts (under /v3 and /kafka/v3), both ways: with Confluent's spec it catches an answer that does not
// conform; without it (a clone with nothing beside it) it is skipped, says so here once, and leaves answers alone.
import path from 'node:path'
import t from 'tap'
import { build } from './helper'
import { SPEC_FILE, isV3Url, specMissing, v3Mismatch } from './confluent-spec'

const missing = specMissing()

t.test('every v3 answer, under /v3 and /kafka/v3, is checked against Confluent\'s spec', { skip: missing ?? false }, async (t) => {
  t.equal(v3Mismatch('GET', '/v3/clusters', 200, 'application/json', '{"kind":"KafkaClusterList","metadata":{"self":"x"},"data":[]}'),
    undefined, 'a conforming answer passes')
  t.match(v3Mismatch('GET', '/v3/clusters', 200, 'application/json', '{"kind":"KafkaClusterList"}'), /must have required property/,
    'an answer without the fields Confluent requires is caught')
  t.match(v3Mismatch('GET', '/v3/clusters', 418, 'application/json', '{}'), /status 418 is not declared/, 'an undeclared status is caught')
  // /kafka/v3 is a base path of the spec's servers (Confluent Server, Confluent Cloud): its answers are checked alike.
  t.ok(isV3Url('/kafka/v3/clusters?x=1') && isV3Url('/v3/clusters'), 'answers under /v3 and /kafka/v3 are checked')
  t.notOk(isV3Url('/topics') || isV3Url('/kafka/clusters') || isV3Url('/api/v1/v3/clusters'), 'answers elsewhere are not')
  t.equal(v3Mismatch('GET', '/kafka/v3/clusters', 200, 'application/json', '{"kind":"KafkaClusterList","metadata":{"self":"x"},"data":[]}'),
    undefined, 'a conforming answer under /kafka/v3 passes')
  t.match(v3Mismatch('GET', '/kafka/v3/clusters', 200, 'application/json', '{"kind":"KafkaClusterList"}'), /^GET \/kafka\/v3\/clusters 200: .*must have required property/,
    'a non-conforming one is caught, and named by the URL it answered')
  t.match(v3Mismatch('GET', '/kafka/clusters', 200, 'application/json', '{}'), /not under a base path of Confluent's spec \(\/v3, \/kafka\/v3\)/)
  const mismatches: string[] = []
  const app = await build(t, { mismatches })
  for (const url of ['/v3/clusters', '/kafka/v3/clusters']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 200, url)
  }
  t.same(mismatches, [], 'the real answers conform')
})

t.test('without Confluent\'s spec the check is off and the answers are untouched', async (t) => {
  const nowhere = path.join(path.dirname(SPEC_FILE), 'no-such-spec-here.yaml')
  t.match(specMissing(nowhere), /is skipped .*CONFLUENT_V3_SPEC/, 'it says where it looked and how to point it elsewhere')
  t.match(specMissing(nowhere), nowhere)
  const mismatches: string[] = []
  const app = await build(t, { confluentSpec: nowhere, mismatches })
  const res = await app.inject({ method: 'GET', url: '/v3/clusters' })
  t.equal(res.statusCode, 200, 'a v3 answer is not turned into a 500')
  t.equal(res.json().kind, 'KafkaClusterList')
  t.same(mismatches, [], 'nothing was checked')
})
