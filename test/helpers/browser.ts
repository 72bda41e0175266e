/**
 * Real Chromium for browser tests (Debian's /usr/bin/chromium through playwright-core; no
 * browser download), and a test server listening on a loopback port.
 */
import { after, before, type TestContext } from 'node:test'
import { existsSync, mkdirSync } from 'node:fs'
import { freePort } from './net.ts'
import { resolve } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { buildTestApp, type TestApp, type TestAppOptions } from './build-app.ts'
import { repoRoot } from './paths.ts'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: run "apt-get update && apt-get install -y chromium" (npm test does this itself when run as root)`,
    )
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
}

/**
 * One Chromium for a file's tests: launched before the first, closed after the last. Call it at
 * the top of the file; the function it returns gives the browser inside a test.
 */
export function useChromium(): () => Browser {
  let browser: Browser | undefined
  before(async () => {
    browser = await launchChromium()
  })
  after(async () => {
    await browser?.close()
  })
  return () => {
    if (browser === undefined) throw new Error('Chromium runs only while the tests do')
    return browser
  }
}

export interface ServedApp extends TestApp {
  readonly base: string
}

/** The app on a real loopback port, PUBLIC_URL matching it. */
export async function serveTestApp(
  t: TestContext,
  env: Record<string, string> = {},
  options: TestAppOptions = {},
): Promise<ServedApp> {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  // as the service runs: with its media archive, filled right after each "Sync now"
  const app = await buildTestApp(
    t,
    { PUBLIC_URL: base, ...env },
    { blobs: 'local', archiveOnSync: true, ...options },
  )
  await app.app.listen({ port, host: '127.0.0.1' })
  return Object.assign(app, { base })
}

/** A fresh browser context that records console errors; closed when the test ends. */
/** Playwright gives `newContext` and `newPage` no deadline of their own. */
const OPEN_TIMEOUT_MS = 20_000

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

/**
 * A fresh context and page. Playwright gives `newContext` and `newPage` no deadline, so a Chromium
 * that stopped answering would hold the test until its file's timeout with nothing said; instead
 * this test gets a Chromium of its own (and says so), the stuck one is left to its spec's `after`.
 */
export async function newContextAndPage(
  t: TestContext,
  browser: Browser,
  options: Parameters<Browser['newContext']>[0],
): Promise<{ context: BrowserContext; page: Page }> {
  try {
    const context = await within(browser.newContext(options), OPEN_TIMEOUT_MS, 'newContext')
    return { context, page: await within(context.newPage(), OPEN_TIMEOUT_MS, 'newPage') }
  } catch (error) {
    process.stderr.write(`Chromium did not open a page (${String(error)}); launching another\n`)
    const own = await launchChromium()
    t.after(() => own.close())
    const context = await own.newContext(options)
    return { context, page: await context.newPage() }
  }
}

export async function openContext(
  t: TestContext,
  browser: Browser,
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const { context, page } = await newContextAndPage(t, browser, {
    viewport: { width: 1100, height: 800 },
  })
  const errors: string[] = []
  const watch = (p: Page): void => {
    p.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text())
    })
    p.on('pageerror', (e) => errors.push(String(e)))
    p.on('response', (r) => {
      if (r.status() >= 400)
        errors.push(`HTTP ${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`)
    })
  }
  context.on('page', watch)
  watch(page)
  t.after(() => context.close())
  return { context, page, errors }
}

/** Runs `body`; if it throws, keeps a screenshot of every open page in test-results/ first. */
export async function withScreenshots(
  t: TestContext,
  context: BrowserContext,
  body: () => Promise<void>,
): Promise<void> {
  try {
    await body()
  } catch (error) {
    const dir = resolve(repoRoot, 'test-results')
    mkdirSync(dir, { recursive: true })
    let n = 0
    for (const p of context.pages()) {
      const file = resolve(dir, `${t.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 80)}-${n++}.png`)
      await p.screenshot({ path: file, fullPage: true }).catch(() => undefined)
    }
    throw error
  }
}

/** Clicks Connect, answers the consent popup, and waits for it to close. */
export async function connectThroughPopup(
  page: Page,
  decision: 'Allow' | 'Deny',
  account = 'sandbox_creator',
): Promise<void> {
  const popupPromise = page.waitForEvent('popup')
  await page.getByRole('button', { name: 'Connect Instagram' }).click()
  const popup = await popupPromise
  await popup.waitForURL(/\/sandbox\/instagram\/oauth\/authorize/)
  await popup.getByText(`@${account}`).click()
  const closed = popup.waitForEvent('close')
  await popup.getByRole('button', { name: decision }).click()
  await closed
}

/**
 * Creates an account on the gallery page (a fresh e-mail address unless given) and waits until
 * the page offers to connect Instagram.
 */
export async function signUpInPage(
  page: Page,
  base: string,
  password: string,
  email = `u${Date.now()}${Math.random().toString(36).slice(2, 6)}@example.com`,
): Promise<void> {
  await page.goto(`${base}/gallery`)
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password', { exact: true }).fill(password)
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.getByRole('button', { name: 'Connect Instagram' }).waitFor()
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])

export interface WatchedContext {
  context: BrowserContext
  page: Page
  /** Console errors, page errors, CSP violations and HTTP answers ≥ 400, in every tab. */
  errors: string[]
  /** Every request that tried to leave loopback (refused). */
  offLoopback: string[]
  /** Every URL requested, redirects included, in every tab (for their state and code values). */
  requested: string[]
}

/** A fresh context whose requests may only go to loopback, every tab watched for errors. */
export async function guardedContext(t: TestContext, browser: Browser): Promise<WatchedContext> {
  const { context, page } = await newContextAndPage(t, browser, {
    viewport: { width: 1280, height: 1000 },
  })
  t.after(() => context.close())
  context.setDefaultTimeout(15_000)
  const errors: string[] = []
  const offLoopback: string[] = []
  const requested: string[] = []
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url())
    if (
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      !LOOPBACK_HOSTS.has(url.hostname)
    ) {
      offLoopback.push(url.href)
      return route.abort('blockedbyclient')
    }
    return route.continue()
  })
  // (the request event, not the route: a redirect, such as the one to the callback, is no route)
  context.on('request', (r) => requested.push(r.url()))
  // a CSP violation is a console error in Chromium; this says so in words of its own too
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`)
    })
  })
  const watch = (p: Page): void => {
    p.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`)
    })
    p.on('pageerror', (e) => errors.push(`pageerror: ${String(e)}`))
    p.on('response', (r) => {
      if (r.status() >= 400)
        errors.push(`HTTP ${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`)
    })
  }
  context.on('page', watch)
  watch(page)
  return { context, page, errors, offLoopback, requested }
}

/** What a gallery tile shows: its platform (`data-platform`) and its picture's URL (`''`: none). */
export interface TileSource {
  readonly platform: string
  /** The `<img src>` (the archive's JPEG fallback), `''` for a placeholder. */
  readonly src: string
  /** The placeholder's words ("Archiving…", "Not archived"), `''` for a picture. */
  readonly placeholder: string
}

export interface TilesOptions {
  /** How far each step scrolls (px). */
  readonly step?: number
  /** At most this many steps. */
  readonly maxSteps?: number
  /**
   * How long to wait, at each step, for the mounted tiles still "Archiving…" to be swapped in by
   * the page's own poll (0: read them as they are).
   */
  readonly archiveTimeoutMs?: number
}

/**
 * Every tile of the windowed grid by index, scrolling it from top to bottom (and back to the
 * top). At each step it first waits (bounded) until no mounted tile says "Archiving…".
 */
export async function tilesByIndex(
  page: Page,
  { step = 1000, maxSteps = 80, archiveTimeoutMs = 30_000 }: TilesOptions = {},
): Promise<Map<number, TileSource>> {
  const seen = new Map<number, TileSource>()
  await page.evaluate(() => window.scrollTo(0, 0))
  for (let i = 0; i < maxSteps; i++) {
    if (archiveTimeoutMs > 0)
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('.tile .placeholder')].every(
            (p) => p.textContent !== 'Archiving…',
          ),
        null,
        { timeout: archiveTimeoutMs },
      )
    const batch = await page.locator('.tile').evaluateAll((tiles) =>
      tiles.map((t) => {
        const tile = t as HTMLElement
        return [
          Number(tile.dataset.index),
          {
            platform: tile.dataset.platform ?? '',
            src: tile.querySelector('img')?.getAttribute('src') ?? '',
            placeholder: tile.querySelector('.placeholder')?.textContent ?? '',
          },
        ] as const
      }),
    )
    for (const [index, source] of batch) seen.set(index, source)
    const atEnd = await page.evaluate(
      () => window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2,
    )
    if (atEnd && !/\+ items/.test((await page.locator('.gallery-status').textContent()) ?? ''))
      break
    await page.mouse.wheel(0, step)
    await page.waitForTimeout(60)
  }
  await page.evaluate(() => window.scrollTo(0, 0))
  return seen
}

/** The archive's picture URLs: `/media/<sha256>/<width>.<format>`. */
export const ARCHIVE_PICTURE = /^\/media\/[0-9a-f]{64}\/\d+\.(jpeg|webp|avif)$/
/** An archived original (a video's file, say): `/media/<sha256>`. */
export const ARCHIVE_ORIGINAL = /^\/media\/([0-9a-f]{64})$/
