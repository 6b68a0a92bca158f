// A body the service will not read is answered so that the client reads the answer: a 413 in its API family's
// shape, over a real socket (inject has no socket to reset), with curl's default `Expect: 100-continue` and with
// clients that send the whole body before they read.
import { execFile } from 'node:child_process'
import { connect } from 'node:net'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../helper'

const run = promisify(execFile)
const LIMIT = 1_048_576
const BIG = Buffer.concat([Buffer.from('{"a":"'), Buffer.alloc(4 * LIMIT, 'a'), Buffer.from('"}')])

async function listening (t: Test, mismatches?: string[]): Promise<{ app: FastifyInstance, port: number }> {
  const app = await build(t, mismatches ? { mismatches } : {})
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  return { app, port: typeof address === 'object' && address !== null ? address.port : 0 }
}

t.test('curl with its default Expect: 100-continue reads the 413, in each family\'s shape, and never sends the body', async (t) => {
  // openapi.json declares 413 for records:batch, which Confluent's spec does not: its conformance check is not the point here.
  const { port } = await listening(t, [])
  const file = t.testdir({ 'big.json': BIG.toString() }) + '/big.json'
  for (const [path, type, shape] of [
    ['/api/v1/produce/orders', 'application/json', { status: 413, code: 'KOSHA_BODY_TOO_LARGE' }],
    ['/topics/orders', 'application/vnd.kafka.json.v2+json', { error_code: 41301 }],
    ['/v3/clusters/c/topics/orders/records:batch', 'application/json', { error_code: 413 }]
  ] as const) {
    // curl sends the body anyway when no answer came within a second (its default): on a loaded machine the 413
    // can take longer, and whether the body was spared is what is checked here (that the 413 is read is, either way).
    const { stdout, stderr } = await run('curl', ['-sv', '--expect100-timeout', '30', '-XPOST', `http://127.0.0.1:${port}${path}`, '-H', `content-type: ${type}`,
      '--data-binary', `@${file}`, '-w', '\n%{http_code} %{size_upload}'])
    const [json, codes] = stdout.trim().split('\n')
    t.match(stderr, /Expect: 100-continue/, `${path}: curl asked for 100 Continue`)
    t.notMatch(stderr, /HTTP\/1.1 100 Continue/, `${path}: the service did not invite the body`)
    t.equal(codes?.split(' ')[0], '413', `${path}: 413`)
    t.equal(codes?.split(' ')[1], '0', `${path}: curl sent none of the 4 MB`)
    t.match(JSON.parse(json ?? ''), shape, `${path}: the body is the family's error`)
  }
})

// Python's http.client sends the whole body (sendall) before it reads: the client that a reset hurts most.
const FLOOD = `
import http.client, json, sys, threading
port, path, kind = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = b'{"a":"' + b'a' * (4 * 1024 * 1024) + b'"}'
results = []
def post():
    try:
        c = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
        c.request('POST', path, body=body, headers={'content-type': kind})
        r = c.getresponse()
        results.append({'status': r.status, 'body': json.loads(r.read()), 'connection': r.getheader('connection')})
    except Exception as e:
        results.append({'error': repr(e)})
threads = [threading.Thread(target=post) for _ in range(50)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(results))
`

t.test('50 concurrent 4 MB posts from Python\'s http.client, which sends the whole body before reading: every one reads the 413', async (t) => {
  const { port } = await listening(t)
  for (const [path, type, shape] of [
    ['/api/v1/produce/orders', 'application/json', { status: 413, code: 'KOSHA_BODY_TOO_LARGE' }],
    ['/topics/orders', 'application/vnd.kafka.binary.v2+json', { error_code: 41301 }]
  ] as const) {
    const { stdout } = await run('python3', ['-c', FLOOD, String(port), path, type], { maxBuffer: 1 << 24 })
    const results = JSON.parse(stdout) as Array<{ status?: number, body?: unknown, connection?: string | null, error?: string }>
    const read = results.filter((r) => r.status === 413)
    t.equal(read.length, 50, `${path}: every client read the 413 (others: ${JSON.stringify(results.filter((r) => r.status !== 413).slice(0, 3))})`)
    t.ok(read.every((r) => Object.entries(shape).every(([k, v]) => (r.body as Record<string, unknown>)[k] === v)), `${path}: each in the family's shape ${JSON.stringify(shape)}`)
    t.ok(read.every((r) => r.connection !== 'close'), `${path}: the connections stay open for reuse once the body is read`)
  }
  // The same on v2 (its envelope), sent in chunks with no Content-Length: refused when the limit is crossed mid-body.
  const v2 = await Promise.all(Array.from({ length: 10 }, () => new Promise<string>((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let answer = ''
    socket.on('data', (d: Buffer) => { answer += d.toString(); if (answer.includes('}')) socket.destroy() })
    socket.on('error', () => undefined)
    socket.on('close', () => { resolve(answer) })
    socket.write('POST /topics/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.kafka.json.v2+json\r\nTransfer-Encoding: chunked\r\n\r\n')
    for (let i = 0; i < 4; i++) socket.write(`${LIMIT.toString(16)}\r\n${'a'.repeat(LIMIT)}\r\n`)
    socket.write('0\r\n\r\n')
  })))
  t.ok(v2.every((a) => a.startsWith('HTTP/1.1 413')), 'v2 chunked: every one read the 413')
  t.ok(v2.every((a) => a.includes('"error_code":41301')), 'with Confluent\'s 41301')
})

t.test('a client that goes on sending after the 413 is cut off, not read for ever', async (t) => {
  const { port } = await listening(t)
  const socket = connect(port, '127.0.0.1')
  let answer = ''
  socket.on('data', (d: Buffer) => { answer += d.toString() })
  socket.on('error', () => undefined)
  socket.write('POST /api/v1/produce/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n')
  const chunk = Buffer.alloc(1 << 20, 'a')
  const started = Date.now()
  let sent = 0
  while (!socket.destroyed && Date.now() - started < 30_000) {
    if (!socket.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => { socket.off('drain', done); socket.off('close', done); resolve() }
        socket.on('drain', done)
        socket.on('close', done)
      })
    }
    sent += chunk.length
  }
  t.ok(socket.destroyed, `the service closed the connection (after ${Math.round(sent / 1048576)} MiB, ${Date.now() - started} ms)`)
  t.ok(sent < 200 * 1048576, 'after a bounded amount of discarded body')
  t.match(answer, /^HTTP\/1.1 413/, 'the 413 came first')
})
