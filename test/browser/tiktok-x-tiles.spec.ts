/**
 * TikTok and X media in the gallery, in real Chromium: the page comes from the real server (its
 * CSP, its built bundle) on a loopback port, while the API it calls is a stub fed through
 * Playwright's `page.route` (one account per platform: Instagram, YouTube, TikTok, X). TikTok
 * videos have no file of their own (a signed cover, one of which has expired and answers 403); X
 * has a photo, an album of three (photo, video, photo), a video with its MP4 and poster, and a GIF.
 * With TikTok reached for real (the server configured so, its own CSP and its own registry entry
 * for TikTok), TikTok videos play in TikTok's embed player, whose origin is stubbed too: nothing
 * leaves the machine.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { Page, Response, Route } from 'playwright-core'
import type { AccountJson, MediaJson, PlatformJson, Provider } from '../../web/src/api.ts'
import { presentArchive } from '../../src/http/presenters.ts'
import {
  openContext,
  serveTestApp,
  useChromium,
  withScreenshots,
  type ServedApp,
} from '../helpers/browser.ts'

const browser = useChromium()

const IG = '00000000-0000-4000-8000-0000000000a1'
const YT = '00000000-0000-4000-8000-0000000000b2'
const TT = '00000000-0000-4000-8000-0000000000c3'
const XX = '00000000-0000-4000-8000-0000000000d4'
const PLATFORM_OF: Record<string, string> = {
  [IG]: 'instagram',
  [YT]: 'youtube',
  [TT]: 'tiktok',
  [XX]: 'x',
}

function account(id: string, username: string): AccountJson {
  const platform = PLATFORM_OF[id] ?? 'instagram'
  return {
    id,
    user_id: 'u1',
    platform,
    account_type: 'oauth',
    username,
    display_name: username,
    platform_user_id: `${platform}-1`,
    instagram_user_id: platform === 'instagram' ? `${platform}-1` : null,
    instagram_account_type: platform === 'instagram' ? 'MEDIA_CREATOR' : null,
    token_expires_at: null,
    is_active: true,
    connected_at: '2026-11-30T10:00:00.000Z',
    last_sync: '2026-12-01T10:00:00.000Z',
    posts_count: 2,
    status: 'active',
    status_message: null,
    needs_reconnect: false,
    sync_in_progress: false,
    next_sync_at: '2026-12-02T10:00:00.000Z',
    last_full_sync: '2026-12-01T10:00:00.000Z',
    profile_url: `https://example.com/${username}`,
    profile_picture_url: null,
  }
}

let serial = 0
function media(accountId: string, caption: string, fields: Partial<MediaJson>): MediaJson {
  serial++
  return {
    id: `00000000-0000-4000-8000-${String(serial).padStart(12, '0')}`,
    archive: presentArchive(undefined, false),
    account_id: accountId,
    platform_media_id: `${7300000000000000000 + serial}`,
    media_type: 'IMAGE',
    media_product_type: null,
    media_url: null,
    thumbnail_url: null,
    permalink: null,
    caption,
    timestamp: `2026-11-${String(29 - serial).padStart(2, '0')}T12:00:00.000Z`,
    children: [],
    duration_seconds: null,
    visibility: 'public',
    ...fields,
  }
}

const child = (n: number, fields: Partial<MediaJson>) => ({
  id: `00000000-0000-4000-8000-1000000000${String(n).padStart(2, '0')}`,
  platform_media_id: `3_18800000000000001${n}`,
  media_type: 'IMAGE',
  media_url: null,
  thumbnail_url: null,
  archive: presentArchive(undefined, false),
  ...fields,
})

const IG_PHOTO = media(IG, 'Shop window', {
  media_product_type: 'FEED',
  media_url: '/stub-media/landscape.svg?ig',
  permalink: 'https://www.instagram.com/p/abc/',
})
const YT_VIDEO = media(YT, 'Launch trailer', {
  platform_media_id: 'dQw4w9WgXcQ',
  media_type: 'VIDEO',
  media_product_type: 'VIDEO',
  thumbnail_url: '/stub-media/landscape.svg?yt',
  permalink: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ',
  duration_seconds: 212,
})
const TT_VIDEO = media(TT, 'Dance break', {
  media_type: 'VIDEO',
  media_product_type: 'VIDEO',
  thumbnail_url: '/stub-media/portrait.svg?x-expires=1796000000&x-signature=ok',
  permalink: 'https://www.tiktok.com/@dancer/video/7300000000000000004',
  duration_seconds: 34,
})
const TT_EXPIRED = media(TT, 'Old routine', {
  media_type: 'VIDEO',
  media_product_type: 'VIDEO',
  thumbnail_url: '/stub-media/expired.svg?x-expires=1700000000&x-signature=old',
  permalink: 'https://www.tiktok.com/@dancer/video/7300000000000000005',
  duration_seconds: 75,
})
const X_PHOTO = media(XX, 'Sunset from the pier', {
  media_url: '/stub-media/landscape.svg?xphoto',
  permalink: 'https://x.com/pier_fan/status/1880000000000000006',
})
const X_ALBUM = media(XX, 'Trip in three', {
  media_type: 'CAROUSEL_ALBUM',
  permalink: 'https://x.com/pier_fan/status/1880000000000000007',
  children: [
    child(1, { media_url: '/stub-media/landscape.svg?album1' }),
    child(2, {
      platform_media_id: '7_1880000000000000102',
      media_type: 'VIDEO',
      media_url: '/stub-media/album-clip.mp4',
      thumbnail_url: '/stub-media/landscape.svg?album2poster',
    }),
    child(3, { media_url: '/stub-media/portrait.svg?album3' }),
  ],
})
const X_VIDEO = media(XX, 'Waves at noon', {
  media_type: 'VIDEO',
  media_product_type: 'VIDEO',
  media_url: '/stub-media/waves.mp4',
  thumbnail_url: '/stub-media/landscape.svg?wavesposter',
  permalink: 'https://x.com/pier_fan/status/1880000000000000008',
  duration_seconds: 12,
})
const X_GIF = media(XX, 'Seagull loop', {
  media_type: 'VIDEO',
  media_product_type: 'ANIMATED_GIF',
  media_url: '/stub-media/seagull.mp4',
  thumbnail_url: '/stub-media/landscape.svg?gifposter',
  permalink: 'https://x.com/pier_fan/status/1880000000000000009',
})
const MEDIA = [IG_PHOTO, YT_VIDEO, TT_VIDEO, TT_EXPIRED, X_PHOTO, X_ALBUM, X_VIDEO, X_GIF]
/** A TikTok video whose id is not digits only: it must never reach a player's address. */
const TT_BAD_ID = media(TT, 'Odd one', {
  platform_media_id: '730000000000000001/../../@x?autoplay=1',
  media_type: 'VIDEO',
  media_product_type: 'VIDEO',
  thumbnail_url: '/stub-media/portrait.svg?x-expires=1796000000&x-signature=odd',
  permalink: 'https://www.tiktok.com/@dancer/video/7300000000000000010',
  duration_seconds: 20,
})

/** TikTok's embed player (stubbed) and the server configured to reach TikTok for real. */
const TT_PLAYER_ORIGIN = 'https://www.tiktok.com'
const TT_PLAYER = (id: string) => `${TT_PLAYER_ORIGIN}/player/v1/${id}?controls=1&rel=0`
const TIKTOK_REAL_ENV = { TIKTOK_CLIENT_KEY: 'awkey', TIKTOK_CLIENT_SECRET: 'tiktok-secret' }

const ICON = 'M4 4h16v16H4z'
const PLATFORMS: PlatformJson[] = [
  ['instagram', 'Instagram'],
  ['youtube', 'YouTube'],
  ['tiktok', 'TikTok'],
  ['x', 'X'],
].map(([platform = '', label = '']) => ({
  platform,
  label,
  view_label: `View on ${label}`,
  icon_path: ICON,
}))

/**
 * Every platform in the sandbox, or (real) TikTok and X reached for real, TikTok without a player
 * (`embed_url` null; the server's own TikTok entry replaces it when the test wants its player).
 */
function providers(real: boolean): Provider[] {
  return PLATFORMS.map(({ platform, label }) => {
    const isReal = real && (platform === 'tiktok' || platform === 'x')
    return {
      platform,
      label,
      connect_path: `/api/socials/connect/${platform}`,
      mode: isReal ? 'real' : 'sandbox',
      connectable: true,
      sandbox: !isReal,
      notice: isReal ? null : `Sandbox: the built-in emulator stands in for ${label}.`,
      embed_url: null,
      // YouTube's and TikTok's players are embedded when they are real; X has none
      has_player: platform === 'youtube' || platform === 'tiktok',
    }
  })
}

const SVG = {
  landscape:
    '<svg xmlns="http://www.w3.org/2000/svg" width="480" height="360"><rect width="480" height="360" fill="#f3f3f3"/></svg>',
  portrait:
    '<svg xmlns="http://www.w3.org/2000/svg" width="360" height="640"><rect width="360" height="640" fill="#fafafa"/></svg>',
}

interface Stub {
  page: Page
  errors: string[]
  mediaQueries: URLSearchParams[]
  /** The accounts the page asked to sync (an expired cover asks for its account). */
  syncs: string[]
  /** Every request for a video file. */
  videoRequests: string[]
  /** Every request to TikTok's player origin. */
  playerRequests: string[]
  /** What the media API answers. */
  media: MediaJson[]
}

interface GalleryOptions {
  /** TikTok's entry of the providers answer comes from the server itself (configured for real). */
  serverTiktok?: boolean
  /** More media after the usual ones. */
  extraMedia?: MediaJson[]
}

/** The 403 of the expired cover is expected (once per <img> that tries it), nothing else. */
const EXPIRED_HTTP = 'HTTP 403 GET /stub-media/expired.svg'
const EXPIRED_CONSOLE = 'Failed to load resource: the server responded with a status of 403'

async function openGallery(
  t: TestContext,
  app: ServedApp,
  real: boolean,
  options: GalleryOptions = {},
): Promise<Stub> {
  const { context, page, errors } = await openContext(t, browser())
  const stub: Stub = {
    page,
    errors,
    mediaQueries: [],
    syncs: [],
    videoRequests: [],
    playerRequests: [],
    media: [...MEDIA, ...(options.extraMedia ?? [])],
  }
  const json = (route: Route, body: unknown): Promise<void> =>
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) })
  const accounts = [
    account(IG, 'sunny_shop'),
    account(YT, 'launch_channel'),
    account(TT, 'dancer'),
    account(XX, 'pier_fan'),
  ]
  await page.route(`${app.base}/api/auth/me`, (route) =>
    json(route, { user: { id: 'u1', email: 'owner@example.com' }, sandbox: !real }),
  )
  await page.route(`${app.base}/api/socials/providers`, async (route) => {
    let list = providers(real)
    if (options.serverTiktok === true) {
      // the server's own word on TikTok: its player's template, id shape and frame
      const answer = (await (await route.fetch()).json()) as { providers: Provider[] }
      const tiktok = answer.providers.find((p) => p.platform === 'tiktok')
      assert.ok(tiktok, 'the server lists TikTok')
      list = list.map((p) => (p.platform === 'tiktok' ? tiktok : p))
    }
    return json(route, { providers: list, platforms: PLATFORMS })
  })
  await page.route(`${app.base}/api/socials/accounts*`, (route) =>
    json(route, { accounts, next_cursor: null, sandbox: !real }),
  )
  await page.route(`${app.base}/api/socials/accounts/*/sync`, (route) => {
    stub.syncs.push(new URL(route.request().url()).pathname.split('/')[4] ?? '')
    return json(route, { added: 0, updated: 0, removed: 0, api_calls: 1 })
  })
  await page.route(`${app.base}/api/socials/media*`, (route) => {
    const query = new URL(route.request().url()).searchParams
    stub.mediaQueries.push(query)
    const items = stub.media.filter(
      (m) =>
        (!query.get('platform') || PLATFORM_OF[m.account_id] === query.get('platform')) &&
        (!query.get('account_id') || m.account_id === query.get('account_id')) &&
        (!query.get('media_type') || m.media_type === query.get('media_type')),
    )
    return json(route, { items, next_cursor: null })
  })
  await page.route(`${app.base}/stub-media/**`, (route) => {
    const path = new URL(route.request().url()).pathname
    if (path.endsWith('.mp4')) {
      stub.videoRequests.push(path)
      return route.fulfill({ status: 200, contentType: 'video/mp4', body: Buffer.alloc(0) })
    }
    if (path.includes('expired'))
      // what TikTok's CDN answers once a signed cover's x-expires has passed
      return route.fulfill({
        status: 403,
        contentType: 'text/plain',
        body: 'URL signature expired',
      })
    const name = path.includes('portrait') ? 'portrait' : 'landscape'
    return route.fulfill({ status: 200, contentType: 'image/svg+xml', body: SVG[name] })
  })
  await context.route(`${TT_PLAYER_ORIGIN}/**`, (route) => {
    stub.playerRequests.push(route.request().url())
    return route.fulfill({
      status: 200,
      contentType: 'text/html',
      body: '<!doctype html><title>stub TikTok player</title><p>player</p>',
    })
  })
  return stub
}

/** The tile of the post whose caption is `caption`. */
const tile = (page: Page, caption: string) =>
  page.locator(`.tile[aria-label*=${JSON.stringify(`: ${caption}`)}]`)

/**
 * Opens the gallery and waits until it has settled: the expired cover asked for its account's
 * refresh (a sync), after which the grid reloads once and shows every tile again.
 */
async function settled(stub: Stub, base: string): Promise<Response | null> {
  const { page } = stub
  const response = await page.goto(`${base}/gallery`)
  for (let i = 0; i < 100 && stub.syncs.length === 0; i++) await page.waitForTimeout(50)
  assert.deepEqual(stub.syncs, [TT], 'the expired cover asks for a refresh of its account')
  for (let i = 0; i < 100 && stub.mediaQueries.length < 2; i++) await page.waitForTimeout(50)
  assert.equal(stub.mediaQueries.length, 2, 'the grid reloads once after the refresh')
  await page.waitForFunction(
    (n) =>
      document.querySelectorAll('.tile').length === n &&
      !document.querySelector('.grid[aria-busy]'),
    stub.media.length,
  )
  return response
}

/** The errors other than the expired cover's: its 403 answers, and as many console lines. */
function unexpected(errors: string[]): string[] {
  const refused = errors.filter((e) => e === EXPIRED_HTTP).length
  let excused = 0
  return errors.filter((e) => {
    if (e === EXPIRED_HTTP) return false
    if (e.startsWith(EXPIRED_CONSOLE) && excused < refused) {
      excused++
      return false
    }
    return true
  })
}

describe('TikTok and X media in the gallery (Chromium, stub API)', () => {
  test('tiles: length, GIF and album badges, portrait covers cropped, an expired cover; four platforms in the filter', async (t) => {
    const app = await serveTestApp(t)
    const stub = await openGallery(t, app, false)
    const { page } = stub
    await withScreenshots(t, page.context(), async () => {
      await settled(stub, app.base)
      assert.equal(await page.locator('.tile').count(), MEDIA.length)

      const badge = (caption: string) =>
        tile(page, caption).locator('.tile-badge').allTextContents()
      const duration = (caption: string) =>
        tile(page, caption).locator('.tile-duration').allTextContents()
      assert.deepEqual(await badge('Dance break'), ['▶'])
      assert.deepEqual(await duration('Dance break'), ['0:34'])
      assert.deepEqual(await duration('Old routine'), ['1:15'])
      assert.deepEqual(await badge('Waves at noon'), ['▶'])
      assert.deepEqual(await duration('Waves at noon'), ['0:12'])
      assert.deepEqual(await badge('Seagull loop'), ['GIF'])
      assert.deepEqual(await duration('Seagull loop'), [])
      assert.deepEqual(await badge('Trip in three'), ['❐ 3'])
      assert.deepEqual(await duration('Trip in three'), [])
      assert.deepEqual(await badge('Sunset from the pier'), [])
      assert.deepEqual(await badge('Shop window'), [])
      // the tile's name says the kind in words
      const label = (caption: string) => tile(page, caption).getAttribute('aria-label')
      assert.match((await label('Dance break')) ?? '', /^Open Video, 34 seconds from /)
      assert.match((await label('Seagull loop')) ?? '', /^Open GIF from /)
      assert.match((await label('Trip in three')) ?? '', /^Open Album of 3 from /)
      assert.match((await label('Waves at noon')) ?? '', /^Open Video, 12 seconds from /)
      // the album's tile shows its first picture, the video's its poster
      assert.equal(
        await tile(page, 'Trip in three').locator('img').getAttribute('src'),
        X_ALBUM.children[0]?.media_url,
      )
      assert.equal(
        await tile(page, 'Waves at noon').locator('img').getAttribute('src'),
        X_VIDEO.thumbnail_url,
      )

      // a portrait TikTok cover fills its square tile, cropped, not squeezed
      const cover = tile(page, 'Dance break').locator('img')
      await page.waitForFunction(
        (src) =>
          [...document.querySelectorAll<HTMLImageElement>('.tile img')].some(
            (i) => i.getAttribute('src') === src && i.complete && i.naturalWidth > 0,
          ),
        TT_VIDEO.thumbnail_url,
      )
      const shape = await cover.evaluate((img: HTMLImageElement) => ({
        fit: getComputedStyle(img).objectFit,
        natural: img.naturalHeight / img.naturalWidth,
        box: img.getBoundingClientRect().height / img.getBoundingClientRect().width,
      }))
      assert.equal(shape.fit, 'cover')
      assert.ok(shape.natural > 1.5, 'the stub cover is portrait')
      assert.ok(Math.abs(shape.box - 1) < 0.02, 'the tile stays square')

      // an expired cover: a placeholder, no broken image, and a refresh of that account
      const expired = tile(page, 'Old routine')
      await expired.locator('.placeholder').waitFor()
      assert.equal(await expired.locator('img').count(), 0)
      assert.deepEqual(stub.syncs, [TT], 'one refresh a minute at most')

      // four platforms: the filter lists them all and narrows the grid
      const platform = page.locator('#filter-platform')
      assert.ok(await platform.isVisible())
      assert.deepEqual(await platform.locator('option').allTextContents(), [
        'All platforms',
        'Instagram',
        'YouTube',
        'TikTok',
        'X',
      ])
      await platform.selectOption('x')
      await page.waitForFunction(() => document.querySelectorAll('.tile').length === 4)
      assert.equal(stub.mediaQueries.at(-1)?.get('platform'), 'x')
      assert.deepEqual(await page.locator('#filter-account option').allTextContents(), [
        'All accounts',
        '@pier_fan (X)',
      ])
      await platform.selectOption('tiktok')
      await page.waitForFunction(() => document.querySelectorAll('.tile').length === 2)
      assert.equal(stub.mediaQueries.at(-1)?.get('platform'), 'tiktok')
      assert.equal(await tile(page, 'Dance break').count(), 1)
      assert.equal(await tile(page, 'Waves at noon').count(), 0)

      assert.ok(stub.errors.includes(EXPIRED_HTTP), 'the expired cover was really refused')
      assert.deepEqual(unexpected(stub.errors), [], 'no other console error or failed request')
    })
  })

  test('lightbox: X video and GIF play their MP4, an X album steps through, TikTok shows its cover and the link', async (t) => {
    const app = await serveTestApp(t)
    const stub = await openGallery(t, app, false)
    const { page } = stub
    await withScreenshots(t, page.context(), async () => {
      await settled(stub, app.base)
      const dialog = page.getByRole('dialog', { name: 'Media viewer' })
      const stage = dialog.locator('.lightbox-stage')
      const videoState = () =>
        stage.locator('video').evaluate((v: HTMLVideoElement) => ({
          src: v.getAttribute('src'),
          poster: v.getAttribute('poster'),
          controls: v.controls,
          autoplay: v.autoplay,
          loop: v.loop,
          muted: v.muted,
          mutedAttribute: v.hasAttribute('muted'),
          playsinline: v.hasAttribute('playsinline'),
        }))

      // an X video: its MP4 with its poster and the player's controls
      await tile(page, 'Waves at noon').click()
      await dialog.waitFor()
      await stage.locator('video').waitFor()
      assert.deepEqual(await videoState(), {
        src: X_VIDEO.media_url,
        poster: X_VIDEO.thumbnail_url,
        controls: true,
        autoplay: false,
        loop: false,
        muted: false,
        mutedAttribute: false,
        playsinline: true,
      })
      assert.equal(await stage.locator('iframe, img').count(), 0)
      const xLink = dialog.getByRole('link', { name: 'View on X' })
      assert.equal(await xLink.getAttribute('href'), X_VIDEO.permalink)
      assert.match((await dialog.locator('.meta').first().textContent()) ?? '', /Video, 12 seconds/)
      await page.keyboard.press('Escape')
      await dialog.waitFor({ state: 'hidden' })

      // an X GIF: loops muted on its own, no controls
      await tile(page, 'Seagull loop').click()
      await stage.locator('video').waitFor()
      assert.deepEqual(await videoState(), {
        src: X_GIF.media_url,
        poster: X_GIF.thumbnail_url,
        controls: false,
        autoplay: true,
        loop: true,
        muted: true,
        mutedAttribute: true,
        playsinline: true,
      })
      // autoplay fetches the file at once (the video's, with preload none, waits for a press)
      for (let i = 0; i < 50 && !stub.videoRequests.includes('/stub-media/seagull.mp4'); i++)
        await page.waitForTimeout(50)
      assert.ok(stub.videoRequests.includes('/stub-media/seagull.mp4'), 'the GIF starts loading')
      assert.ok(!stub.videoRequests.includes('/stub-media/waves.mp4'), 'the video waits')
      assert.match((await dialog.locator('.meta').first().textContent()) ?? '', /GIF$/)
      await page.keyboard.press('Escape')
      await dialog.waitFor({ state: 'hidden' })

      // an X album: steps through its children (photo, video, photo), buttons and arrows
      await tile(page, 'Trip in three').click()
      const position = dialog.locator('.album-position')
      const next = dialog.getByRole('button', { name: 'Next picture in album' })
      const prev = dialog.getByRole('button', { name: 'Previous picture in album' })
      assert.equal(await position.textContent(), 'Picture 1 of 3')
      assert.equal(await stage.locator('img').getAttribute('src'), X_ALBUM.children[0]?.media_url)
      assert.ok(await prev.isDisabled())
      await next.click()
      assert.equal(await position.textContent(), 'Picture 2 of 3')
      assert.equal(await stage.locator('img').count(), 0)
      const albumVideo = await videoState()
      assert.equal(albumVideo.src, X_ALBUM.children[1]?.media_url)
      assert.equal(albumVideo.poster, X_ALBUM.children[1]?.thumbnail_url)
      assert.equal(albumVideo.controls, true)
      await page.keyboard.press('ArrowRight')
      assert.equal(await position.textContent(), 'Picture 3 of 3')
      assert.equal(await stage.locator('img').getAttribute('src'), X_ALBUM.children[2]?.media_url)
      assert.ok(await next.isDisabled())
      await prev.click()
      assert.equal(await position.textContent(), 'Picture 2 of 3')
      assert.equal(
        await dialog.getByRole('link', { name: 'View on X' }).getAttribute('href'),
        X_ALBUM.permalink,
      )
      await page.keyboard.press('Escape')
      await dialog.waitFor({ state: 'hidden' })

      // a TikTok video in the sandbox (its emulator has no player): the cover, why it does not
      // play here, the link; no frame, no <video>
      await tile(page, 'Dance break').click()
      await dialog.waitFor()
      await dialog.getByText('Playback needs real TikTok; this is the sandbox.').waitFor()
      assert.equal(
        await stage.locator('.player-off img').getAttribute('src'),
        TT_VIDEO.thumbnail_url,
      )
      assert.equal(await page.locator('iframe').count(), 0)
      assert.equal(await dialog.locator('video').count(), 0)
      const ttLink = dialog.getByRole('link', { name: 'View on TikTok' })
      assert.equal(await ttLink.getAttribute('href'), TT_VIDEO.permalink)
      assert.equal(await ttLink.getAttribute('target'), '_blank')
      assert.equal(await dialog.locator('.album-controls button:visible').count(), 0)
      await page.keyboard.press('Escape')
      await dialog.waitFor({ state: 'hidden' })

      // a TikTok cover that has expired (403): a placeholder and the link, no broken image
      await tile(page, 'Old routine').click()
      await dialog.waitFor()
      await stage.locator('.placeholder').waitFor()
      assert.equal(await stage.locator('img, video, iframe').count(), 0)
      await dialog.getByText('Playback needs real TikTok; this is the sandbox.').waitFor()
      assert.equal(
        await dialog.getByRole('link', { name: 'View on TikTok' }).getAttribute('href'),
        TT_EXPIRED.permalink,
      )
      await page.keyboard.press('Escape')

      // YouTube's likewise (a platform that would play here for real)
      await tile(page, 'Launch trailer').click()
      await dialog.getByText('Playback needs real YouTube; this is the sandbox.').waitFor()
      assert.equal(await dialog.locator('video').count(), 0)
      await page.keyboard.press('Escape')

      assert.deepEqual(stub.playerRequests, [], 'the sandbox never reaches TikTok’s player')
      assert.deepEqual(unexpected(stub.errors), [], 'no other console error or failed request')
    })
  })

  test('TikTok reached for real but no player given (no embed_url): still the cover and the link, never an empty <video>', async (t) => {
    const app = await serveTestApp(t)
    const stub = await openGallery(t, app, true)
    const { page } = stub
    await withScreenshots(t, page.context(), async () => {
      await settled(stub, app.base)
      await tile(page, 'Dance break').click()
      const dialog = page.getByRole('dialog', { name: 'Media viewer' })
      await dialog.getByText('TikTok videos play on TikTok').waitFor()
      assert.equal(await dialog.locator('video, iframe').count(), 0)
      assert.equal(
        await dialog.locator('.player-off img').getAttribute('src'),
        TT_VIDEO.thumbnail_url,
      )
      assert.equal(
        await dialog.getByRole('link', { name: 'View on TikTok' }).getAttribute('href'),
        TT_VIDEO.permalink,
      )
      await page.keyboard.press('Escape')
      assert.deepEqual(unexpected(stub.errors), [], 'no other console error or failed request')
    })
  })

  test('real TikTok: the lightbox plays in TikTok’s sandboxed portrait player, admitted by the server’s CSP; closing removes it; a bad id gets none', async (t) => {
    // the server itself reaches TikTok for real: its CSP and its registry entry for TikTok
    const app = await serveTestApp(t, TIKTOK_REAL_ENV)
    const stub = await openGallery(t, app, true, { serverTiktok: true, extraMedia: [TT_BAD_ID] })
    const { page } = stub
    await withScreenshots(t, page.context(), async () => {
      const response = await settled(stub, app.base)
      const csp = (await response?.allHeaders())?.['content-security-policy'] ?? ''
      assert.match(csp, /(^|; )frame-src https:\/\/www\.tiktok\.com(;|$)/, csp)

      const dialog = page.getByRole('dialog', { name: 'Media viewer' })
      await tile(page, 'Dance break').click()
      await dialog.waitFor()
      const frame = dialog.locator('iframe')
      await frame.waitFor()
      assert.equal(await frame.getAttribute('src'), TT_PLAYER(TT_VIDEO.platform_media_id))
      assert.equal(
        await frame.getAttribute('sandbox'),
        'allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox',
      )
      assert.equal(await frame.getAttribute('allow'), 'fullscreen')
      assert.equal(await frame.getAttribute('referrerpolicy'), 'strict-origin-when-cross-origin')
      assert.equal(await frame.getAttribute('loading'), 'lazy')
      assert.match((await frame.getAttribute('title')) ?? '', /^TikTok video: Dance break/)
      const box = await frame.boundingBox()
      assert.ok(box && Math.abs(box.width / box.height - 9 / 16) < 0.02, 'a 9:16 player')
      assert.equal(await dialog.locator('video, .player-off').count(), 0)
      // the frame really loads: the page's CSP admits TikTok's player
      for (let i = 0; i < 50 && stub.playerRequests.length === 0; i++)
        await page.waitForTimeout(100)
      assert.deepEqual(stub.playerRequests, [TT_PLAYER(TT_VIDEO.platform_media_id)])
      const ttLink = dialog.getByRole('link', { name: 'View on TikTok' })
      assert.equal(await ttLink.getAttribute('href'), TT_VIDEO.permalink)

      // the next post is TikTok's too: one player at a time, on the new id
      await page.keyboard.press('ArrowRight')
      await page.waitForFunction(
        (src) => document.querySelector('dialog iframe')?.getAttribute('src') === src,
        TT_PLAYER(TT_EXPIRED.platform_media_id),
      )
      assert.equal(await page.locator('iframe').count(), 1, 'one player at a time')

      // closing (Esc) stops playback: the frame is gone from the page
      await page.keyboard.press('Escape')
      await dialog.waitFor({ state: 'hidden' })
      assert.equal(await page.locator('iframe').count(), 0)
      // and so does the close button
      await tile(page, 'Dance break').click()
      await dialog.locator('iframe').waitFor()
      await dialog.getByRole('button', { name: 'Close viewer' }).click()
      await dialog.waitFor({ state: 'hidden' })
      assert.equal(await page.locator('iframe').count(), 0)

      // an id that is not digits only never reaches a player's address
      await tile(page, 'Odd one').click()
      await dialog.waitFor()
      await dialog.getByText('This video cannot be played here.').waitFor()
      assert.equal(await page.locator('iframe').count(), 0)
      assert.equal(
        await dialog.locator('.player-off img').getAttribute('src'),
        TT_BAD_ID.thumbnail_url,
      )
      assert.equal(
        await dialog.getByRole('link', { name: 'View on TikTok' }).getAttribute('href'),
        TT_BAD_ID.permalink,
      )
      await page.keyboard.press('Escape')
      await dialog.waitFor({ state: 'hidden' })

      // X stays as it was: its MP4 in a <video>, no frame
      await tile(page, 'Waves at noon').click()
      await dialog.locator('video').waitFor()
      assert.equal(await dialog.locator('iframe').count(), 0)
      await page.keyboard.press('Escape')

      const valid = [TT_VIDEO, TT_EXPIRED, TT_VIDEO].map((m) => TT_PLAYER(m.platform_media_id))
      assert.deepEqual(stub.playerRequests, valid, 'only the valid ids were loaded')
      assert.deepEqual(
        unexpected(stub.errors),
        [],
        'no CSP violation, console error or failed request',
      )
    })
  })
})
