/**
 * YouTube media in the gallery, in real Chromium: the page comes from the real server (its CSP,
 * its built bundle) on a loopback port, while the API it calls is a stub fed through Playwright's
 * `page.route` (an Instagram and a YouTube account; a public video, a Short, a live replay, an
 * unlisted and a private video, one with a malformed id; providers with and without `embed_url`).
 * The player's origin is stubbed too: nothing leaves the machine.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import type { Page } from 'playwright-core'
import type { AccountJson, MediaJson, PlatformJson, Provider } from '../../web/src/api.ts'
import {
  openContext,
  serveTestApp,
  useChromium,
  withScreenshots,
  type ServedApp,
} from '../helpers/browser.ts'
import {
  failedArchive,
  json,
  pendingArchive,
  platformsJson,
  routeArchivePoll,
  routeStubMedia,
  storedArchive,
  stubAccount,
  stubJpegUrl,
  type ArchiveJson,
} from '../helpers/stub-gallery.ts'

const require = createRequire(import.meta.url)
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
const browser = useChromium()

const EMBED_ORIGIN = 'https://www.youtube-nocookie.com'
const EMBED_TEMPLATE = `${EMBED_ORIGIN}/embed/{id}`
const IG = '00000000-0000-4000-8000-0000000000a1'
const YT = '00000000-0000-4000-8000-0000000000b2'

let serial = 0
function video(
  id: string,
  title: string,
  product: 'VIDEO' | 'SHORTS' | 'LIVE',
  seconds: number,
  visibility: MediaJson['visibility'] = 'public',
  archive: ArchiveJson = storedArchive(product === 'SHORTS' ? 'portrait' : 'landscape', id, 'none'),
): MediaJson {
  serial++
  return {
    id: `00000000-0000-4000-8000-${String(serial).padStart(12, '0')}`,
    archive,
    account_id: YT,
    platform_media_id: id,
    media_type: 'VIDEO',
    media_product_type: product,
    media_url: null,
    thumbnail_url: `/stub-media/${product === 'SHORTS' ? 'portrait' : 'landscape'}.svg`,
    permalink: `https://www.youtube.com/${product === 'SHORTS' ? 'shorts/' : 'watch?v='}${id}`,
    caption: `${title}\n\nA description of ${title}.`,
    timestamp: `2026-11-${String(29 - serial).padStart(2, '0')}T12:00:00.000Z`,
    children: [],
    duration_seconds: seconds,
    visibility,
  }
}

const TRAILER = video('dQw4w9WgXcQ', 'Launch trailer', 'VIDEO', 212)
const SHORT = video('abcdefghijk', 'Quick tip', 'SHORTS', 42)
const LIVE = video('LIVEreplay1', 'Launch stream', 'LIVE', 3725)
/** Not archived yet: its tile says "Archiving…". */
const UNLISTED = video('unlisted-01', 'Draft cut', 'VIDEO', 75, 'unlisted', pendingArchive(true))
/** The archive gave up on its thumbnail: "Not archived", the reason as its title. */
const PRIVATE_REASON = 'The thumbnail answered HTTP 404.'
const PRIVATE = video(
  'private_v01',
  'Family clip',
  'VIDEO',
  600,
  'private',
  failedArchive(PRIVATE_REASON, true),
)
const BAD_ID = video('bad"id/../x', 'Odd id', 'VIDEO', 30)
const PHOTO: MediaJson = {
  id: '00000000-0000-4000-8000-000000000099',
  archive: storedArchive('landscape', 'photo'),
  account_id: IG,
  platform_media_id: '17900000000000001',
  media_type: 'IMAGE',
  media_product_type: 'FEED',
  media_url: '/stub-media/landscape.svg',
  thumbnail_url: null,
  permalink: 'https://www.instagram.com/p/abc/',
  caption: 'A sunny photo',
  timestamp: '2026-11-01T12:00:00.000Z',
  children: [],
  duration_seconds: null,
  visibility: 'public',
}
const MEDIA = [TRAILER, SHORT, LIVE, UNLISTED, PRIVATE, BAD_ID, PHOTO]

const PLATFORMS: PlatformJson[] = platformsJson([
  ['instagram', 'Instagram'],
  ['youtube', 'YouTube'],
])

function providers(real: boolean): Provider[] {
  const base = { connectable: true, notice: null }
  return [
    {
      ...base,
      platform: 'instagram',
      label: 'Instagram',
      connect_path: '/api/socials/connect/instagram',
      mode: 'sandbox',
      sandbox: true,
      notice: 'Sandbox: the built-in emulator stands in for Instagram.',
      embed_url: null,
      has_player: false,
    },
    {
      ...base,
      platform: 'youtube',
      label: 'YouTube',
      connect_path: '/api/socials/connect/youtube',
      mode: real ? 'real' : 'sandbox',
      sandbox: !real,
      embed_url: real ? EMBED_TEMPLATE : null,
      has_player: true,
    },
  ]
}

interface Stub {
  page: Page
  errors: string[]
  /** Every `GET /api/socials/media` query the page sent. */
  mediaQueries: URLSearchParams[]
  /** Every request to the player's origin. */
  playerRequests: string[]
  accounts: AccountJson[]
  /** While set, media answers wait for it; a rejection answers 503. */
  hold: Promise<void> | null
}

/** The gallery page from the real server, its API answered by the stub above. */
async function openGallery(t: TestContext, app: ServedApp, real: boolean): Promise<Stub> {
  const { context, page, errors } = await openContext(t, browser())
  const stub: Stub = {
    page,
    errors,
    mediaQueries: [],
    playerRequests: [],
    accounts: [
      stubAccount(IG, 'instagram', 'sunny_shop'),
      stubAccount(YT, 'youtube', 'launch_channel'),
    ],
    hold: null,
  }
  await page.route(`${app.base}/gallery`, async (route) => {
    // what the server will do in real mode: admit the player's origin in frame-src
    const response = await route.fetch()
    const headers = response.headers()
    if (real) headers['content-security-policy'] += `; frame-src ${EMBED_ORIGIN}`
    await route.fulfill({ response, headers })
  })
  await page.route(`${app.base}/api/auth/me`, (route) =>
    json(route, { user: { id: 'u1', email: 'owner@example.com' }, sandbox: !real }),
  )
  await page.route(`${app.base}/api/socials/providers`, (route) =>
    json(route, { providers: providers(real), platforms: PLATFORMS }),
  )
  await page.route(`${app.base}/api/socials/accounts*`, (route) =>
    json(route, { accounts: stub.accounts, next_cursor: null, sandbox: !real }),
  )
  await page.route(`${app.base}/api/socials/media*`, async (route) => {
    const query = new URL(route.request().url()).searchParams
    stub.mediaQueries.push(query)
    try {
      await stub.hold
    } catch {
      return route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'unavailable', message: 'Try again shortly.' } }),
      })
    }
    const platformOf = (m: MediaJson): string => (m.account_id === YT ? 'youtube' : 'instagram')
    const items = MEDIA.filter(
      (m) =>
        (!query.get('platform') || platformOf(m) === query.get('platform')) &&
        (!query.get('account_id') || m.account_id === query.get('account_id')) &&
        (!query.get('media_type') || m.media_type === query.get('media_type')),
    )
    return json(route, { items, next_cursor: null })
  })
  // the archive's pictures, and its answer to the page's poll for the items still pending
  await routeStubMedia(page, app.base)
  await routeArchivePoll(page, app.base, () => MEDIA)
  await context.route(`${EMBED_ORIGIN}/**`, (route) => {
    stub.playerRequests.push(route.request().url())
    return route.fulfill({
      status: 200,
      contentType: 'text/html',
      body: '<!doctype html><title>stub player</title><p>player</p>',
    })
  })
  return stub
}

async function assertAccessible(page: Page, where: string): Promise<void> {
  await page.evaluate(AXE_SOURCE)
  const serious = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (
            ctx: Document,
            opts: unknown,
          ) => Promise<{ violations: { id: string; impact: string | null; nodes: unknown[] }[] }>
        }
      }
    ).axe
    const result = await axe.run(document, { resultTypes: ['violations'] })
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, nodes: v.nodes.length }))
  })
  assert.deepEqual(serious, [], `${where}: ${JSON.stringify(serious)}`)
}

/** The tile of the video whose caption starts with `title`. */
const tile = (page: Page, title: string) =>
  page.locator(`.tile[aria-label*=${JSON.stringify(`: ${title}`)}]`)

describe('YouTube media in the gallery (Chromium, stub API)', () => {
  test('tiles show length, Shorts, Live and privacy badges; the platform filter sends platform=', async (t) => {
    const app = await serveTestApp(t)
    const stub = await openGallery(t, app, false)
    const { page } = stub
    await withScreenshots(t, page.context(), async () => {
      await page.goto(`${app.base}/gallery`)
      await page
        .locator('.tile')
        .nth(MEDIA.length - 1)
        .waitFor()
      assert.equal(await page.locator('.tile').count(), MEDIA.length)

      const duration = (title: string) => tile(page, title).locator('.tile-duration').textContent()
      assert.equal(await duration('Launch trailer'), '3:32')
      assert.equal(await duration('Quick tip'), '0:42')
      assert.equal(await duration('Launch stream'), '1:02:05')
      assert.equal(await duration('Family clip'), '10:00')
      assert.equal(await tile(page, 'A sunny photo').locator('.tile-duration').count(), 0)

      const flags = (title: string) => tile(page, title).locator('.tile-flag').allTextContents()
      assert.deepEqual(await flags('Launch trailer'), [])
      assert.deepEqual(await flags('Quick tip'), ['Shorts'])
      assert.deepEqual(await flags('Launch stream'), ['Live'])
      assert.deepEqual(await flags('Draft cut'), ['Unlisted'])
      assert.deepEqual(await flags('Family clip'), ['Private'])
      assert.deepEqual(await flags('A sunny photo'), [])
      assert.equal(
        await tile(page, 'Family clip').locator('.tile-flag').getAttribute('title'),
        'Private on YouTube: only you see it here',
      )
      assert.match(
        (await tile(page, 'Draft cut').locator('.tile-flag').getAttribute('title')) ?? '',
        /^Unlisted on YouTube: .*only you see it here$/,
      )
      // the tile's accessible name says it all, not only the badges' colours
      const label = (title: string) => tile(page, title).getAttribute('aria-label')
      assert.match((await label('Family clip')) ?? '', /^Open Private video, 10 minutes from /)
      assert.match((await label('Draft cut')) ?? '', /^Open Unlisted video, 1 minute 15 seconds /)
      assert.match((await label('Quick tip')) ?? '', /^Open Short, 42 seconds from /)
      assert.match(
        (await label('Launch stream')) ?? '',
        /^Open Live replay, 1 hour 2 minutes 5 seconds /,
      )

      // the badges stay small: the picture is still seen
      const box = await tile(page, 'Family clip').boundingBox()
      const flagBox = await tile(page, 'Family clip').locator('.tile-flag').boundingBox()
      const durationBox = await tile(page, 'Family clip').locator('.tile-duration').boundingBox()
      assert.ok(box && flagBox && durationBox)
      for (const b of [flagBox, durationBox])
        assert.ok(b.width * b.height < (box.width * box.height) / 10, 'a badge covers the picture')
      // a portrait Short poster fills its square tile, cropped, not squeezed
      await page.waitForFunction(() =>
        [...document.querySelectorAll<HTMLImageElement>('.tile img')].every(
          (i) => i.complete && i.naturalWidth > 0,
        ),
      )
      // what the archive has not stored says so, in the grid's neutral look
      const pending = tile(page, 'Draft cut').locator('.placeholder')
      assert.equal(await pending.textContent(), 'Archiving…')
      assert.equal(await tile(page, 'Draft cut').locator('img').count(), 0)
      const failed = tile(page, 'Family clip').locator('.placeholder')
      assert.equal(await failed.textContent(), 'Not archived')
      assert.equal(await failed.getAttribute('title'), PRIVATE_REASON)
      assert.equal(await tile(page, 'Family clip').locator('img').count(), 0)
      // the others show the archive's pictures (WebP here: the browser prefers it)
      assert.match(
        await tile(page, 'Launch trailer')
          .locator('img')
          .evaluate((i) => (i as HTMLImageElement).currentSrc),
        /\/stub-media\/landscape\.webp\?dQw4w9WgXcQ&w=\d+$/,
      )
      await tile(page, 'Quick tip').locator('.pic.loaded').waitFor()
      const fit = await tile(page, 'Quick tip')
        .locator('img')
        .evaluate((img) => getComputedStyle(img).objectFit)
      assert.equal(fit, 'cover')
      await assertAccessible(page, 'gallery with YouTube tiles')

      // two platforms: the platform filter is offered and sends platform=youtube
      const platform = page.locator('#filter-platform')
      assert.ok(await platform.isVisible())
      assert.deepEqual(await platform.locator('option').allTextContents(), [
        'All platforms',
        'Instagram',
        'YouTube',
      ])
      const before = stub.mediaQueries.length
      await platform.selectOption('youtube')
      await page.waitForFunction(() => document.querySelectorAll('.tile').length === 6)
      const sent = stub.mediaQueries.slice(before)
      assert.equal(sent.length, 1)
      assert.equal(sent[0]?.get('platform'), 'youtube')
      assert.equal(await tile(page, 'A sunny photo').count(), 0)
      // the account filter now lists that platform's accounts only, and combines with it
      const accountFilter = page.locator('#filter-account')
      assert.deepEqual(await accountFilter.locator('option').allTextContents(), [
        'All accounts',
        '@launch_channel (YouTube)',
      ])
      await accountFilter.selectOption(YT)
      await page.locator('#filter-type').selectOption('IMAGE')
      await page.getByText('No media match these filters.').waitFor()
      const last = stub.mediaQueries.at(-1)
      assert.equal(last?.get('platform'), 'youtube')
      assert.equal(last?.get('account_id'), YT)
      assert.equal(last?.get('media_type'), 'IMAGE')
      assert.match(
        (await page.locator('.gallery-status').textContent()) ?? '',
        /“All platforms”, “All accounts” and “All media”/,
      )
      await page.locator('#filter-type').selectOption('')
      await page.waitForFunction(() => document.querySelectorAll('.tile').length === 6)
      // leaving the platform keeps the chosen account
      await platform.selectOption('')
      for (let i = 0; i < 50 && stub.mediaQueries.at(-1)?.has('platform'); i++)
        await page.waitForTimeout(50)
      assert.equal(stub.mediaQueries.at(-1)?.has('platform'), false)
      assert.equal(stub.mediaQueries.at(-1)?.get('account_id'), YT)
      assert.equal(await page.locator('#filter-account').inputValue(), YT)
      await page.locator('#filter-account').selectOption('')
      await page.waitForFunction(() => document.querySelectorAll('.tile').length === 7)

      // one platform only: no platform filter
      stub.accounts = [stubAccount(IG, 'instagram', 'sunny_shop')]
      await page.reload()
      await page.locator('.tile').first().waitFor()
      await page.locator('#filter-account').waitFor()
      assert.equal(await page.locator('#filter-platform').isVisible(), false)
      assert.deepEqual(stub.errors, [], 'no console errors, no CSP violations, no failed requests')
    })
  })

  test('a slow filter change keeps the tiles (busy), never a false "no media"; a failed one says so', async (t) => {
    const app = await serveTestApp(t)
    const stub = await openGallery(t, app, false)
    const { page } = stub
    await withScreenshots(t, page.context(), async () => {
      await page.goto(`${app.base}/gallery`)
      await page.waitForFunction(
        (n) => document.querySelectorAll('.tile').length === n,
        MEDIA.length,
      )
      const status = page.locator('.gallery-status')

      // a slow answer: what was shown stays, marked busy, and no "no media" in between
      let release = (): void => {}
      stub.hold = new Promise((resolve) => (release = resolve))
      const before = stub.mediaQueries.length
      await page.locator('#filter-platform').selectOption('youtube')
      for (let i = 0; i < 100 && stub.mediaQueries.length === before; i++)
        await page.waitForTimeout(20)
      await page.locator('.grid[aria-busy="true"]').waitFor()
      assert.equal(await page.locator('.tile').count(), MEDIA.length, 'the tiles shown stay')
      assert.doesNotMatch((await status.textContent()) ?? '', /No media/)
      release()
      await page.waitForFunction(() => document.querySelectorAll('.tile').length === 6)
      await page.waitForFunction(() => !document.querySelector('.grid[aria-busy]'))
      assert.equal(await status.textContent(), '6 items')

      // a failed one: the tiles of the other filter go, and the status says what happened
      stub.hold = Promise.reject(new Error('down'))
      stub.hold.catch(() => {})
      await page.locator('#filter-type').selectOption('IMAGE')
      await status.getByText('Could not load media.').waitFor()
      assert.equal(await page.locator('.tile').count(), 0)
      await page.getByText('Try again shortly.').first().waitFor()
      stub.hold = null
      await page.locator('#filter-type').selectOption('')
      await page.waitForFunction(() => document.querySelectorAll('.tile').length === 6)
    })
  })

  test('real YouTube: the lightbox plays in a youtube-nocookie frame, closing removes it, a bad id gets none', async (t) => {
    const app = await serveTestApp(t)
    const stub = await openGallery(t, app, true)
    const { page } = stub
    await withScreenshots(t, page.context(), async () => {
      await page.goto(`${app.base}/gallery`)
      await tile(page, 'Launch trailer').click()
      const dialog = page.getByRole('dialog', { name: 'Media viewer' })
      await dialog.waitFor()
      const frame = dialog.locator('iframe')
      await frame.waitFor()
      assert.equal(await frame.getAttribute('src'), `${EMBED_ORIGIN}/embed/dQw4w9WgXcQ`)
      assert.equal(
        await frame.getAttribute('allow'),
        'autoplay; encrypted-media; picture-in-picture; fullscreen',
      )
      assert.equal(await frame.getAttribute('referrerpolicy'), 'strict-origin-when-cross-origin')
      assert.equal(await frame.getAttribute('loading'), 'lazy')
      assert.match((await frame.getAttribute('title')) ?? '', /^YouTube video: Launch trailer/)
      const wide = await frame.boundingBox()
      assert.ok(wide && Math.abs(wide.width / wide.height - 16 / 9) < 0.02, 'a 16:9 player')
      // the frame really loads (the page's CSP admits the player's origin in real mode)
      for (let i = 0; i < 50 && stub.playerRequests.length === 0; i++)
        await page.waitForTimeout(100)
      assert.deepEqual(stub.playerRequests, [`${EMBED_ORIGIN}/embed/dQw4w9WgXcQ`])
      assert.ok(await dialog.getByRole('link', { name: 'View on YouTube' }).isVisible())
      await assertAccessible(page, 'lightbox with a player')

      // the next post is a Short: a portrait player
      await page.keyboard.press('ArrowRight')
      await page.waitForFunction(() =>
        document.querySelector('dialog iframe')?.getAttribute('src')?.endsWith('/abcdefghijk'),
      )
      const tall = await dialog.locator('iframe').boundingBox()
      assert.ok(tall && Math.abs(tall.width / tall.height - 9 / 16) < 0.02, 'a 9:16 player')
      assert.equal(await dialog.locator('iframe').count(), 1, 'one player at a time')

      // closing stops playback: the frame is gone from the page
      await page.keyboard.press('Escape')
      await dialog.waitFor({ state: 'hidden' })
      assert.equal(await page.locator('iframe').count(), 0)

      // an id that is not an 11-character YouTube id never reaches a frame
      await tile(page, 'Odd id').click()
      await dialog.waitFor()
      await dialog.getByText('This video cannot be played here.').waitFor()
      assert.equal(await page.locator('iframe').count(), 0)
      assert.ok(await dialog.locator('.player-off img').isVisible())
      assert.ok(await dialog.getByRole('link', { name: 'View on YouTube' }).isVisible())
      await page.keyboard.press('Escape')
      assert.equal(stub.playerRequests.length, 2, 'only the two valid ids were loaded')
      assert.deepEqual(stub.errors, [], 'no console errors, no CSP violations, no failed requests')
    })
  })

  test('sandbox YouTube (no embed_url): the poster, why it does not play, and the link; no frame', async (t) => {
    const app = await serveTestApp(t)
    const stub = await openGallery(t, app, false)
    const { page } = stub
    await withScreenshots(t, page.context(), async () => {
      await page.goto(`${app.base}/gallery`)
      await tile(page, 'Launch trailer').click()
      const dialog = page.getByRole('dialog', { name: 'Media viewer' })
      await dialog.waitFor()
      await dialog.getByText('Playback needs real YouTube; this is the sandbox.').waitFor()
      assert.equal(await page.locator('iframe').count(), 0)
      const poster = dialog.locator('.player-off img')
      // the archived poster, not the platform's thumbnail
      assert.equal(await poster.getAttribute('src'), stubJpegUrl(TRAILER.archive))
      assert.match((await poster.getAttribute('src')) ?? '', /^\/stub-media\/landscape\.jpeg\?/)
      const link = dialog.getByRole('link', { name: 'View on YouTube' })
      assert.equal(await link.getAttribute('href'), TRAILER.permalink)
      // the private one says who sees it
      await page.keyboard.press('Escape')
      await tile(page, 'Family clip').click()
      await dialog.getByText('Private on YouTube: only you see it here').waitFor()
      assert.equal(await page.locator('iframe').count(), 0)
      await assertAccessible(page, 'sandbox lightbox')
      assert.deepEqual(stub.playerRequests, [])
      assert.deepEqual(stub.errors, [], 'no console errors, no CSP violations, no failed requests')
    })
  })
})
