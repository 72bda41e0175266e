/**
 * Web performance budget (issue: the Social Gallery web app), measured in headless Chromium:
 * - gallery JavaScript ≤ 35 KB and CSS ≤ 15 KB, gzipped (level 9)
 * - with 1,000 media, first tiles visible ≤ 1 s after navigation (median of RUNS)
 * - the DOM stays bounded while scrolling through 5,000 items
 * Prints one summary line per figure. Run: `npm run bench:web` (after `npm run build:web`).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { pino } from 'pino'
import { buildApp } from '../src/app.ts'
import { loadConfig } from '../src/config/load-config.ts'
import { FernetKey, FernetKeyRing } from '../src/crypto/fernet.ts'
import { openStore } from '../src/store/open-store.ts'
import type { Page } from 'playwright-core'
import { launchChromium } from '../test/helpers/browser.ts'
import { freePort } from '../test/helpers/net.ts'
import { seedGallery } from './lib.ts'

const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const root = resolve(import.meta.dirname, '..')

function line(name: string, value: string, goal: string, ok: boolean): void {
  console.log(`${name}: ${value} (goal ${goal}) ${ok ? 'PASS' : 'MISS'}`)
}

// 1. bundle sizes
const assets = resolve(root, 'dist/web/assets')
let js = 0
let css = 0
for (const name of readdirSync(assets)) {
  const gz = gzipSync(readFileSync(resolve(assets, name)), { level: 9 }).length
  if (name.startsWith('gallery-') && name.endsWith('.js')) js += gz
  if (name.endsWith('.css')) css += gz
}
line('gallery JS gzipped', `${(js / 1024).toFixed(1)} KB`, '≤ 35 KB', js <= 35 * 1024)
line('CSS gzipped', `${(css / 1024).toFixed(1)} KB`, '≤ 15 KB', css <= 15 * 1024)

// a server with one user, one connected account and N media
async function server(n: number) {
  const dir = mkdtempSync(join(tmpdir(), 'psg-bench-'))
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const config = loadConfig({
    NODE_ENV: 'test',
    PUBLIC_URL: base,
    DATA_DIR: dir,
    SOCIAL_TOKEN_ENCRYPTION_KEY: FernetKey.generate(),
  })
  const store = await openStore(config.database)
  const vault = new FernetKeyRing([FernetKey.generate()])
  const app = await buildApp({
    config,
    store,
    vault,
    logger: pino({ level: 'silent' }),
    passwordCost: 10,
  })
  await app.listen({ port, host: '127.0.0.1' })
  // a signed-in user and one account with n media (pictures: the favicon, a distinct URL each)
  const { sessionCookie: cookie } = await seedGallery(
    store,
    vault,
    n,
    (j, kind) => `${base}/favicon.svg?${kind}=${j}`,
  )
  return {
    base,
    cookie,
    close: async () => {
      await app.close()
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

const browser = await launchChromium()
try {
  // 2. first tiles visible with 1,000 media
  const s1 = await server(1000)
  // "visible" = the first tile's picture has been decoded and painted (its <img> is complete)
  const firstTile = async (page: Page): Promise<number> => {
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('.tile img')
      return img !== null && img.complete && img.naturalWidth > 0
    })
    return page.evaluate(() => performance.now())
  }
  const cold: number[] = []
  const warm: number[] = []
  const baseline: number[] = []
  for (let r = 0; r < RUNS; r++) {
    // side by side: what a new context costs for a static one-element page, before any app code
    const bare = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const barePage = await bare.newPage()
    await barePage.goto(`${s1.base}/favicon.svg`)
    baseline.push(await barePage.evaluate(() => performance.now()))
    await bare.close()
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    await context.addCookies([{ name: 'psg_session', value: s1.cookie, url: s1.base }])
    const page = await context.newPage()
    await page.goto(`${s1.base}/gallery`)
    cold.push(await firstTile(page))
    await page.goto(`${s1.base}/gallery`)
    warm.push(await firstTile(page))
    await context.close()
  }
  const stats = (xs: number[]): { median: number; text: string } => {
    const sorted = [...xs].sort((a, b) => a - b)
    const median = sorted[Math.floor(sorted.length / 2)] ?? NaN
    const range = `min ${sorted[0]?.toFixed(0)}, max ${sorted[sorted.length - 1]?.toFixed(0)}`
    return { median, text: `${median.toFixed(0)} ms (${range})` }
  }
  const c = stats(cold)
  const w = stats(warm)
  const b = stats(baseline)
  console.log(
    `new browser context showing a static one-element page (baseline, median of ${RUNS}): ${b.text}`,
  )
  line(
    `first tiles visible, 1,000 media, new browser context (median of ${RUNS})`,
    c.text,
    '≤ 1000 ms',
    c.median <= 1000,
  )
  line(
    `first tiles visible, 1,000 media, warm tab (median of ${RUNS})`,
    w.text,
    '≤ 1000 ms',
    w.median <= 1000,
  )
  await s1.close()

  // 3. DOM bounded while scrolling through 5,000 items
  const s2 = await server(5000)
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  await context.addCookies([{ name: 'psg_session', value: s2.cookie, url: s2.base }])
  const page = await context.newPage()
  await page.goto(`${s2.base}/gallery`)
  await page.locator('.tile').first().waitFor()
  let maxNodes = 0
  let maxTiles = 0
  const started = Date.now()
  let steps = 0
  for (let i = 0; i < 2000 && Date.now() - started < 180_000; i++) {
    steps++
    const status = (await page.locator('.gallery-status').textContent()) ?? ''
    const sample = await page.evaluate(() => ({
      nodes: document.getElementsByTagName('*').length,
      tiles: document.querySelectorAll('.tile').length,
    }))
    maxNodes = Math.max(maxNodes, sample.nodes)
    maxTiles = Math.max(maxTiles, sample.tiles)
    if (/^5000 items/.test(status)) break
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight))
    // wait for the next page to arrive (or give up on this step after 5 s)
    await page
      .waitForFunction(
        (before) => document.querySelector('.gallery-status')?.textContent !== before,
        status,
        { timeout: 5000 },
      )
      .catch(() => undefined)
  }
  const loaded = (await page.locator('.gallery-status').textContent()) ?? ''
  console.log(
    `scrolled to the end of 5,000 items in ${((Date.now() - started) / 1000).toFixed(1)} s, ${steps} scroll steps`,
  )
  line(
    'DOM while scrolling 5,000 items',
    `max ${maxNodes} elements, max ${maxTiles} tiles mounted, ${loaded}`,
    'bounded (< 600 elements)',
    maxNodes < 600 && /^5000 items/.test(loaded),
  )
  await context.close()
  await s2.close()
} finally {
  await browser.close()
}
