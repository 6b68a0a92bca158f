// Swagger UI (plugins/swagger.ts) in a real browser: the app listens on a real port, Debian's Chromium (headless,
// driven by playwright-core) opens /docs and uses it as a person would: it expands an operation, clicks "Try it
// out", fills the parameter, clicks "Execute" and reads the response that the real app, with the real broker,
// sent back. The spec the UI loads is openapi.json, path for path.
import { existsSync, readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { chromium, type Browser, type Locator, type Page } from 'playwright-core'
import { build } from '../helper'
import { createTopic } from '../kafka'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync']

interface Spec { info: { title: string }, paths: Record<string, Record<string, { operationId?: string }>> }
const openapi = JSON.parse(readFileSync(new URL('../../openapi.json', `file://${__filename}`), 'utf8')) as Spec

t.test('GET /docs/json serves openapi.json: the same title and the same paths and operations', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(res.statusCode, 200)
  t.match(String(res.headers['content-type']), /^application\/json/)
  const served = res.json<Spec>()
  t.equal(served.info.title, 'Kosha Kafka Connector')
  t.same(Object.keys(served.paths).sort(), Object.keys(openapi.paths).sort(), 'the same paths')
  for (const [path, operations] of Object.entries(openapi.paths)) {
    t.same(Object.keys(served.paths[path] ?? {}).sort(), Object.keys(operations).sort(), `the same methods on ${path}`)
  }
  t.same(served, openapi, 'the whole document is openapi.json as written')

  const yaml = await app.inject({ method: 'GET', url: '/docs/yaml' })
  t.equal(yaml.statusCode, 200, 'the YAML form is served too')
  t.match(yaml.body, /^openapi: 3\.1\.0$/m)
})

/**
 * Expands an operation by clicking its summary and puts it in "Try it out" mode by clicking that button. The UI is
 * configured with tryItOutEnabled, so an operation opens in that mode already: "Cancel" leaves it first, which
 * shows the "Try it out" button a person would click.
 */
async function openOperation (t: Test, page: Page, tag: string, operationId: string): Promise<Locator> {
  const block = page.locator(`#operations-${tag}-${operationId}`)
  await block.locator('.opblock-summary').first().click()
  const execute = block.getByRole('button', { name: 'Execute' })
  await execute.waitFor({ state: 'visible', timeout: 10_000 })
  t.pass(`${operationId}: expanded, and in "Try it out" mode at once (tryItOutEnabled)`)
  await block.getByRole('button', { name: 'Cancel' }).click()
  await execute.waitFor({ state: 'hidden', timeout: 10_000 })
  const tryOut = block.getByRole('button', { name: 'Try it out' })
  await tryOut.click()
  await execute.waitFor({ state: 'visible', timeout: 10_000 })
  t.pass(`${operationId}: "Try it out" clicked, "Execute" shown`)
  return block
}

/** Clicks "Execute" and returns the live response's status and body as the UI shows them. */
async function execute (page: Page, block: Locator): Promise<{ status: string, body: string }> {
  // The answer to this click, not the one a previous Execute of the same block left on screen.
  const answered = page.waitForResponse((r) => !new URL(r.url()).pathname.startsWith('/docs'), { timeout: 20_000 })
  await block.getByRole('button', { name: 'Execute' }).click()
  const expected = String((await answered).status())
  const live = block.locator('.live-responses-table .response')
  await live.locator('.response-col_status', { hasText: expected }).first().waitFor({ state: 'visible', timeout: 20_000 })
  const status = (await live.locator('.response-col_status').first().innerText()).trim()
  const body = await live.locator('.response-col_description .highlight-code pre').first().innerText()
  return { status, body }
}

t.test('Swagger UI in headless Chromium', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent: install it with apt-get install -y chromium (scripts/setup does)` }, async (t) => {
  const app = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const topic = await createTopic(t, { prefix: 'swagger' })

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  const pageErrors: string[] = []
  page.on('pageerror', (err) => pageErrors.push(err.message))
  const failed: string[] = []
  page.on('requestfailed', (req) => failed.push(`${req.method()} ${req.url()}: ${req.failure()?.errorText ?? ''}`))

  const loaded = await page.goto(`${base}/docs`, { waitUntil: 'load' })
  t.equal(loaded?.status(), 200, 'GET /docs loads')
  const title = page.locator('.information-container .info .title')
  await title.waitFor({ state: 'visible', timeout: 20_000 })
  t.match(await title.innerText(), /^Kosha Kafka Connector/, 'the page shows the API title')

  // Every operation of openapi.json is on the page, with its method and path.
  await page.locator('.opblock').first().waitFor({ state: 'visible', timeout: 10_000 })
  const shown = (await page.locator('.opblock .opblock-summary-path').allInnerTexts()).map((p) => p.replace(/\u200b/g, '').trim())
  for (const [path, operations] of Object.entries(openapi.paths)) {
    for (const method of Object.keys(operations)) {
      t.ok(shown.includes(path), `${method.toUpperCase()} ${path} is shown`)
    }
  }
  const operationCount = Object.values(openapi.paths).reduce((n, ops) => n + Object.keys(ops).length, 0)
  t.equal(await page.locator('.opblock').count(), operationCount, `all ${operationCount} operations are shown, no more`)

  await t.test('GET /healthz: Try it out, Execute, 200', async (t) => {
    const block = await openOperation(t, page, 'operations', 'getLiveness')
    const { status, body } = await execute(page, block)
    t.equal(status, '200', 'the response section shows 200')
    t.same(JSON.parse(body), { status: 'ok' }, 'and the body the service sent')
  })

  await t.test('GET /api/v1/getMetadata/{topic}: fill the topic, Execute, 200 with the topic', async (t) => {
    const block = await openOperation(t, page, 'metadata', 'getTopicMetadata')
    const input = block.locator('tr[data-param-name="topic"] input')
    await input.fill(topic)
    const { status, body } = await execute(page, block)
    t.equal(status, '200', 'the response section shows 200')
    const metadata = JSON.parse(body) as { topics: Record<string, { topic: string }> }
    t.equal(metadata.topics[topic]?.topic, topic, 'the body names the topic the broker has')
    t.match(await block.locator('.request-url pre').innerText(), `/api/v1/getMetadata/${topic}`, 'the UI called the URL with the topic')
  })

  await t.test('GET /api/v1/getMetadata/{topic} for a missing topic: the UI shows the 404 error', async (t) => {
    const block = page.locator('#operations-metadata-getTopicMetadata')
    await block.locator('tr[data-param-name="topic"] input').fill(`${topic}-missing`)
    const { status, body } = await execute(page, block)
    t.equal(status, '404')
    t.match(JSON.parse(body), { status: 404, code: 'KOSHA_TOPIC_NOT_FOUND' })
  })

  t.same(pageErrors, [], 'no script error on the page')
  t.same(failed, [], 'no request of the page failed')
})
