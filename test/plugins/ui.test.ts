// The live view (plugins/ui.ts, ui/live.html) in Debian's headless Chromium, driven by playwright-core as in
// swagger.test.ts: the page lists the topics, tails one through the streams' SSE, shows the records the test and the
// page's own form produce, and works with HTTP authentication on once given a key. A screenshot is checked too.
import { existsSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { inflateSync } from 'node:zlib'
import t, { type Test } from 'tap'
import { chromium, type Browser, type Page } from 'playwright-core'
import type { FastifyInstance } from 'fastify'
import { build } from '../helper'
import { createTopic } from '../kafka'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync']
const noChromium = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent: install it with apt-get install -y chromium (scripts/setup does)`

/** How many distinct byte values the image's pixel data holds: a blank page has a handful, a page with text many. */
function pixelVariety (png: Buffer): number {
  const idat: Buffer[] = []
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at)
    const type = png.toString('ascii', at + 4, at + 8)
    if (type === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + length))
    at += 12 + length
  }
  const seen = new Set<number>()
  for (const b of inflateSync(Buffer.concat(idat))) seen.add(b)
  return seen.size
}

async function listening (t: Test, env?: Record<string, string>): Promise<{ app: FastifyInstance, base: string }> {
  const app = await build(t, env ? { env } : {})
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
}

async function browserPage (t: Test): Promise<{ page: Page, problems: string[] }> {
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true })
  t.teardown(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } })
  const problems: string[] = []
  page.on('pageerror', (err) => problems.push(`script error: ${err.message}`))
  page.on('request', (req) => { if (!req.url().startsWith('http://127.0.0.1:')) problems.push(`external request: ${req.url()}`) })
  return { page, problems }
}

async function produceFromTest (app: FastifyInstance, topic: string, value: object, key?: string): Promise<void> {
  // The key of the app with HTTP authentication on; ignored by the one without.
  const res = await app.inject({ method: 'POST', url: `/api/v1/produce/${topic}${key ? `?key=${key}` : ''}`, headers: { 'x-api-key': 'ui-key' }, payload: value })
  if (res.statusCode !== 200) throw new Error(`produce: ${res.statusCode} ${res.body}`)
}

/**
 * Produces probe records until one appears on the page. A stream at offset=latest starts at the end once librdkafka
 * has looked the end up, a moment after the partitions are assigned: a record produced in that moment is before its
 * start. After the first probe shows, every later record must show.
 */
async function streamLive (app: FastifyInstance, page: Page, topic: string): Promise<void> {
  for (let i = 0; ; i++) {
    await produceFromTest(app, topic, { probe: i })
    const shown = await page.locator('#records tr', { hasText: `{"probe":${i}}` }).waitFor({ timeout: 3000 }).then(() => true, () => false)
    if (shown) return
    if (i >= 10) throw new Error('no probe record appeared on the page')
  }
}

t.test('GET /ui: one self-contained page, nothing external', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/ui' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/html/)
  t.match(res.headers['content-security-policy'], /default-src 'none'.*connect-src 'self'/, 'the browser may reach only this service')
  t.notMatch(res.body, /(src|href)=["']?(https?:)?\/\//i, 'no script, style or link from elsewhere')
  t.match(res.body, /<title>Kosha live view<\/title>/)
  t.equal((await app.inject({ method: 'GET', url: '/ui/' })).statusCode, 200, '/ui/ too')
})

t.test('the live view in headless Chromium: lists topics, tails one, shows what is produced', { skip: noChromium }, async (t) => {
  const { app, base } = await listening(t)
  const topic = await createTopic(t, { prefix: 'ui', partitions: 2 })
  const { page, problems } = await browserPage(t)
  t.equal((await page.goto(`${base}/ui`, { waitUntil: 'load' }))?.status(), 200)
  const button = page.locator(`#topics button[data-topic="${topic}"]`)
  await button.waitFor({ state: 'visible', timeout: 15_000 })
  t.pass('the topic is listed')
  await button.click()
  t.equal(await button.getAttribute('aria-pressed'), 'true', 'and chosen')
  t.equal(await page.locator('#title').innerText(), topic)

  // Producing from the page's form works whether or not the tail does.
  await page.locator('#key').fill('from-the-page')
  await page.locator('#value').fill('{"typed": "in the form"}')
  await page.locator('#produce-form button[type=submit]').click()
  await page.locator('#produce-result', { hasText: 'Produced to partition' }).waitFor({ timeout: 15_000 })
  t.match(await page.locator('#produce-result').innerText(), /^Produced to partition [01] at offset 0\.$/)
  await page.locator('#value').fill('[1, 2]')
  await page.locator('#produce-form button[type=submit]').click()
  await page.locator('#produce-result', { hasText: 'must be a JSON object' }).waitFor({ timeout: 5000 })
  t.pass('a value that is not a JSON object is refused on the page, with a message')

  const streams = app.hasRoute({ method: 'GET', url: '/api/v1/streams/:group' })
  await t.test('tailing through the streams\' SSE', { skip: streams ? false : 'GET /api/v1/streams/{group} is not in this branch yet (Helper A\'s streams): the tail cannot run' }, async (t) => {
    // The stream starts at the end (offset=latest): once it is live, every record produced appears.
    await page.locator('#status', { hasText: '2 partition(s) assigned' }).waitFor({ timeout: 30_000 })
    t.pass('the page says it is tailing both partitions')
    await streamLive(app, page, topic)
    for (let i = 0; i < 3; i++) await produceFromTest(app, topic, { fromTheTest: i }, `k${i}`)
    await page.locator('#value').fill('{"typed": "while tailing"}')
    await page.locator('#produce-form button[type=submit]').click()
    const rows = page.locator('#records tr')
    for (const text of ['{"fromTheTest":0}', '{"fromTheTest":1}', '{"fromTheTest":2}', '{"typed":"while tailing"}']) {
      await rows.filter({ hasText: text }).first().waitFor({ timeout: 30_000 })
      t.pass(`${text} appears on the page`)
    }
    const shown = await page.locator('#records').innerText()
    t.match(shown, /k1/, 'with its key')
    const file = path.join(t.testdir(), 'live-view.png')
    const shot = await page.screenshot({ fullPage: true })
    writeFileSync(file, shot)
    t.ok(pixelVariety(shot) > 50, `the screenshot (${file}) is not blank`)
    t.match(await page.locator('body').innerText(), /\{"fromTheTest":2\}/, 'and the page\'s text, as captured, holds the records')
  })

  const shot = await page.screenshot({ fullPage: true })
  writeFileSync(path.join(t.testdir(), 'live-view-produce.png'), shot)
  t.ok(pixelVariety(shot) > 50, 'a screenshot of the page is not blank')
  t.same(problems, [], 'no script error, no request anywhere but this service')
})

t.test('with HTTP authentication on: the page loads, asks for credentials, then lists and produces', { skip: noChromium }, async (t) => {
  const { app, base } = await listening(t, { API_KEYS: 'ui-key' })
  const topic = await createTopic(t, { prefix: 'ui-auth' })
  const { page, problems } = await browserPage(t)
  t.equal((await page.goto(`${base}/ui`, { waitUntil: 'load' }))?.status(), 200, 'the page itself is open')
  await page.locator('#topics-status', { hasText: 'Cannot list topics: 401' }).waitFor({ timeout: 15_000 })
  t.pass('without credentials the page says why it cannot list topics')
  await page.locator('#credentials').fill('ui-key')
  await page.locator('#use-credentials').click()
  const button = page.locator(`#topics button[data-topic="${topic}"]`)
  await button.waitFor({ state: 'visible', timeout: 15_000 })
  t.pass('with the API key, the topics are listed')
  await button.click()
  await page.locator('#produce-form button[type=submit]').click()
  await page.locator('#produce-result', { hasText: 'Produced to partition 0 at offset 0.' }).waitFor({ timeout: 15_000 })
  t.pass('and a record is produced with it')
  const streams = app.hasRoute({ method: 'GET', url: '/api/v1/streams/:group' })
  await t.test('tailing with the key (the stream read through fetch: EventSource cannot send it)', { skip: streams ? false : 'GET /api/v1/streams/{group} is not in this branch yet (Helper A\'s streams): the tail cannot run' }, async (t) => {
    await page.locator('#status', { hasText: '1 partition(s) assigned' }).waitFor({ timeout: 30_000 })
    await streamLive(app, page, topic)
    await page.locator('#value').fill('{"with": "a key"}')
    await page.locator('#produce-form button[type=submit]').click()
    await page.locator('#records tr', { hasText: '{"with":"a key"}' }).waitFor({ timeout: 30_000 })
    t.pass('the record produced while tailing appears')
  })
  t.same(problems.filter((p) => !/401/.test(p)), [], 'no script error, no request anywhere but this service')
})
