// The v3 API under /kafka/v3, the base path of Confluent Server's embedded REST and of Confluent Cloud (what
// Confluent's Terraform provider calls), against the real broker: the same operations as /v3 (routes/index.ts mounts
// the family twice), links under the base path the request used (http/links.ts), unknown routes in Confluent's
// envelope. build() checks every answer under /kafka/v3 against Confluent's spec, as under /v3.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../../helper'
import { adminClient, clusterId, createTopic, uniqueName } from '../../kafka'
import { kcatConsume } from '../../kcat'

const BASE = 'http://kosha.example:8000'

async function topicExists (t: Test, name: string): Promise<boolean> {
  return (await (await adminClient(t)).listTopics()).includes(name)
}

function expectNotFound (t: Test, res: { statusCode: number, headers: Record<string, unknown>, json: () => Record<string, unknown> }, what: string): void {
  t.equal(res.statusCode, 404, `${what}: 404`)
  t.match(String(res.headers['content-type']), /^application\/json/, `${what}: JSON`)
  const body = res.json()
  t.same(Object.keys(body).sort(), ['error_code', 'message'], `${what}: Confluent's v3 envelope, not the Kosha shape`)
  t.equal(body.error_code, 404, `${what}: error_code is the status`)
}

/** A chunked POST over a real socket, one chunk per record, each written once the report of the one before came back. */
async function streamed (app: FastifyInstance, url: string, records: unknown[]): Promise<{ status: number, reports: Array<Record<string, unknown>> }> {
  const { port } = app.server.address() as AddressInfo
  return await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: url, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8')
        // Each report comes back while the request is still open: the answer is a stream.
        if (text.split('\n').filter(Boolean).length === sent) send()
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reports: text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    let sent = 0
    // A report that does not come (no route reads the body) ends the request, so that the answer it waits for comes.
    let timer: NodeJS.Timeout | undefined
    const send = (): void => {
      clearTimeout(timer)
      if (sent === records.length) { req.end(); return }
      req.write(JSON.stringify(records[sent++]))
      timer = setTimeout(() => { sent = records.length; req.end() }, 10_000)
    }
    send()
  })
}

t.test('GET /kafka/v3/clusters and one cluster: the cluster, its links under /kafka/v3', async (t) => {
  const app = await build(t, { env: { ADVERTISED_URL: BASE } })
  const id = await clusterId(t)
  const list = await app.inject({ method: 'GET', url: '/kafka/v3/clusters' })
  t.equal(list.statusCode, 200)
  t.match(list.headers['content-type'], /^application\/json/)
  const body = list.json()
  t.equal(body.kind, 'KafkaClusterList')
  t.same(body.metadata, { self: `${BASE}/kafka/v3/clusters`, next: null }, 'ADVERTISED_URL, then /kafka/v3')
  t.same(body.data.map((c: { cluster_id: string }) => c.cluster_id), [id], 'the cluster Kafka reports')

  const one = await app.inject({ method: 'GET', url: `/kafka/v3/clusters/${id}` })
  t.equal(one.statusCode, 200)
  const c = `${BASE}/kafka/v3/clusters/${id}`
  t.match(one.json(), {
    kind: 'KafkaCluster',
    metadata: { self: c, resource_name: `crn:///kafka=${id}` },
    cluster_id: id,
    controller: { related: new RegExp(`^${c}/brokers/\\d+$`) },
    acls: { related: `${c}/acls` },
    brokers: { related: `${c}/brokers` },
    broker_configs: { related: `${c}/broker-configs` },
    consumer_groups: { related: `${c}/consumer-groups` },
    topics: { related: `${c}/topics` },
    partition_reassignments: { related: `${c}/topics/-/partitions/-/reassignment` }
  })
  t.same(one.json(), body.data[0], 'GET one is the listed one')

  const v3 = await app.inject({ method: 'GET', url: `/v3/clusters/${id}` })
  t.equal(v3.statusCode, 200)
  t.equal(v3.json().metadata.self, `${BASE}/v3/clusters/${id}`, '/v3 still links under /v3')
  t.equal(v3.json().topics.related, `${BASE}/v3/clusters/${id}/topics`)
})

t.test('without ADVERTISED_URL, /kafka/v3 links are built from the request\'s host', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/kafka/v3/clusters', headers: { host: 'pkc-00000.example:443' } })
  t.equal(res.statusCode, 200)
  t.equal(res.json().metadata.self, 'http://pkc-00000.example:443/kafka/v3/clusters')
})

t.test('create, get, list and delete a topic under /kafka/v3', async (t) => {
  const app = await build(t, { env: { ADVERTISED_URL: BASE } })
  const id = await clusterId(t)
  const name = uniqueName('kafka-v3-topic')
  t.teardown(async () => { await (await adminClient(t)).deleteTopics({ topics: [name] }).catch(() => undefined) })
  const created = await app.inject({ method: 'POST', url: `/kafka/v3/clusters/${id}/topics`, payload: { topic_name: name, partitions_count: 2 } })
  t.equal(created.statusCode, 201)
  const topicUrl = `${BASE}/kafka/v3/clusters/${id}/topics/${name}`
  t.match(created.json(), {
    kind: 'KafkaTopic',
    metadata: { self: topicUrl },
    topic_name: name,
    partitions_count: 2,
    partitions: { related: `${topicUrl}/partitions` },
    configs: { related: `${topicUrl}/configs` },
    partition_reassignments: { related: `${topicUrl}/partitions/-/reassignment` }
  })
  t.ok(await topicExists(t, name), 'the broker has it')

  const one = await app.inject({ method: 'GET', url: `/kafka/v3/clusters/${id}/topics/${name}` })
  t.equal(one.statusCode, 200)
  t.same(one.json(), created.json(), 'GET answers what POST did')
  const list = await app.inject({ method: 'GET', url: `/kafka/v3/clusters/${id}/topics` })
  t.equal(list.json().metadata.self, `${BASE}/kafka/v3/clusters/${id}/topics`)
  t.same(list.json().data.find((x: { topic_name: string }) => x.topic_name === name), created.json(), 'listed')
  const partitions = await app.inject({ method: 'GET', url: `/kafka/v3/clusters/${id}/topics/${name}/partitions/1` })
  t.equal(partitions.json().metadata.self, `${topicUrl}/partitions/1`, 'a partition links under /kafka/v3 too')

  const del = await app.inject({ method: 'DELETE', url: `/kafka/v3/clusters/${id}/topics/${name}` })
  t.equal(del.statusCode, 204)
  t.notOk(await topicExists(t, name), 'the broker no longer has it')
  const again = await app.inject({ method: 'GET', url: `/kafka/v3/clusters/${id}/topics/${name}` })
  t.equal(again.statusCode, 404)
  t.same(Object.keys(again.json()).sort(), ['error_code', 'message'], 'a missing topic in Confluent\'s v3 envelope (the v3 error handler)')
})

t.test('produce under /kafka/v3: one record, a streamed body, and a batch', async (t) => {
  const app = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const topic = await createTopic(t, { prefix: 'kafka-v3-produce' })
  const id = await clusterId(t)
  const url = `/kafka/v3/clusters/${id}/topics/${topic}/records`

  const one = await app.inject({ method: 'POST', url, payload: { key: { type: 'STRING', data: 'k' }, value: { type: 'JSON', data: { n: 1 } } } })
  t.equal(one.statusCode, 200)
  t.match(one.json(), { error_code: 200, cluster_id: id, topic_name: topic, partition_id: 0, offset: 0, value: { type: 'JSON' } })

  const records = [2, 3, 4].map((n) => ({ value: { type: 'STRING', data: `record ${n}` } }))
  const stream = await streamed(app, url, records)
  t.equal(stream.status, 200)
  t.same(stream.reports.map((r) => [r.error_code, r.offset]), [[200, 1], [200, 2], [200, 3]], 'one report per record, in order, as each was sent')

  const batch = await app.inject({
    method: 'POST',
    url: `${url}:batch`,
    payload: { entries: [{ id: 'a', value: { type: 'STRING', data: 'record 5' } }] }
  })
  t.equal(batch.statusCode, 207)
  t.match(batch.json(), { successes: [{ id: 'a', offset: 4 }], failures: [] })

  t.same((await kcatConsume(topic, 5)).map((r) => r.payload), ['{"n":1}', 'record 2', 'record 3', 'record 4', 'record 5'], 'Kafka has them all')
})

t.test('an unknown route under /kafka/v3 is a 404 in Confluent\'s v3 envelope', async (t) => {
  // Unknown paths are not operations of Confluent's spec: collected here rather than failing the check.
  const mismatches: string[] = []
  const app = await build(t, { mismatches })
  const id = await clusterId(t)
  for (const url of ['/kafka/v3', '/kafka/v3/', '/kafka/v3/anything', `/kafka/v3/clusters/${id}/no-such-thing`]) {
    expectNotFound(t, await app.inject({ method: 'GET', url }), `GET ${url}`)
  }
  const wrongMethod = await app.inject({ method: 'PUT', url: `/kafka/v3/clusters/${id}` })
  t.equal(wrongMethod.statusCode, 405, 'a method the path does not serve: 405, as under /v3')
  t.equal(wrongMethod.headers.allow, 'GET, HEAD')
  t.match(wrongMethod.json(), { error_code: 405 }, 'in Confluent\'s v3 envelope')
  const missing = await app.inject({ method: 'GET', url: '/kafka/v3/clusters/no-such-cluster' })
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { error_code: 404, message: /no-such-cluster/ }, 'a missing cluster, from its handler')
  const outside = await app.inject({ method: 'GET', url: '/kafka/elsewhere' })
  t.equal(outside.statusCode, 404)
  t.match(outside.json(), { status: 404, code: 'KOSHA_ROUTE_NOT_FOUND' }, 'outside /kafka/v3, the Kosha shape as anywhere else')
  t.same(mismatches.filter((m) => !m.endsWith('no such operation in Confluent\'s spec')), [], 'the rest conforms to Confluent\'s spec')
})

t.test('the HTTP layer treats /kafka/v3 as /v3: credentials required, CORS preflight, metrics by route', async (t) => {
  const app = await build(t, { env: { API_KEYS: 'k1' } })
  const refused = await app.inject({ method: 'GET', url: '/kafka/v3/clusters' })
  t.equal(refused.statusCode, 401, 'no key: 401, as under /v3')
  t.same(Object.keys(refused.json()).sort(), ['error_code', 'message'], 'in Confluent\'s v3 envelope')
  const allowed = await app.inject({ method: 'GET', url: '/kafka/v3/clusters', headers: { authorization: 'Bearer k1' } })
  t.equal(allowed.statusCode, 200, 'with the key: 200')
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/kafka/v3/clusters/any/topics/any/configs/any',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT' }
  })
  t.equal(preflight.statusCode, 204, 'a preflight needs no key')
  t.match(String(preflight.headers['access-control-allow-methods']), /PUT/)
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /http_requests_total\{method="GET",route="\/kafka\/v3\/clusters",status="200"\} 1/, 'counted under its own route')
})
