/**
 * TikTok and X media in the gallery, in real Chromium: the page comes from the real server (its
 * CSP, its built bundle) on a loopback port, while the API it calls is a stub fed through
 * Playwright's `page.route` (one account per platform: Instagram, YouTube, TikTok, X), every
 * picture and video from the (stubbed) archive. TikTok videos have no file of their own (an
 * archived cover; one cover the archive could not store); X has a photo, an album of three
 * (photo, video, photo), a video with its archived MP4 and poster, and a GIF; an Instagram photo is
 * not archived yet.
 * With TikTok reached for real (the server configured so, its own CSP and its own registry entry
 * for TikTok), TikTok videos play in TikTok's embed player, whose origin is stubbed too: nothing
 * leaves the machine.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { Page, Response } from 'playwright-core'
import type { AccountJson, MediaChildJson, MediaJson, Provider } from '../../web/src/api.ts'
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
} from '../helpers/stub-gallery.ts'

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
  return stubAccount(id, PLATFORM_OF[id] ?? 'instagram', username, 2)
}

let serial = 0
function media(accountId: string, caption: string, fields: Partial<MediaJson>): MediaJson {
  serial++
  return {
    id: `00000000-0000-4000-8000-${String(serial).padStart(12, '0')}`,
    archive: pendingArchive(),
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

const child = (n: number, fields: Partial<MediaChildJson>): MediaChildJson => ({
  id: `00000000-0000-4000-8000-1000000000${String(n).padStart(2, '0')}`,
  platform_media_id: `3_18800000000000001${n}`,
  media_type: 'IMAGE',
  media_url: null,
  thumbnail_url: null,
  archive: pendingArchive(),
  ...fields,
})

const IG_PHOTO = media(IG, 'Shop window', {
  media_product_type: 'FEED',
  media_url: '/stub-media/landscape.svg?ig',
  permalink: 'https://www.instagram.com/p/abc/',
  // not archived yet: its tile says "Archiving…"
  archive: pendingArchive(),
})
const YT_VIDEO = media(YT, 'Launch trailer', {
  platform_media_id: 'dQw4w9WgXcQ',
  media_type: 'VIDEO',
  media_product_type: 'VIDEO',
  thumbnail_url: '/stub-media/landscape.svg?yt',
  permalink: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ',
  duration_seconds: 212,
  archive: storedArchive('landscape', 'yt', 'none'),
})
const TT_VIDEO = media(TT, 'Dance break', {
  media_type: 'VIDEO',
  media_product_type: 'VIDEO',
  thumbnail_url: '/stub-media/portrait.svg?x-expires=1796000000&x-signature=ok',
  permalink: 'https://www.tiktok.com/@dancer/video/7300000000000000004',
  duration_seconds: 34,
  archive: storedArchive('portrait', 'tt', 'none'),
})
/** A cover the archive could not store (TikTok's signed URL had expired): "Not archived". */
const TT_FAILED_REASON = 'The cover answered HTTP 403 (its signed URL had expired).'
const TT_FAILED = media(TT, 'Old routine', {
  media_type: 'VIDEO',
  media_product_type: 'VIDEO',
  thumbnail_url: '/stub-media/expired.svg?x-expires=1700000000&x-signature=old',
  permalink: 'https://www.tiktok.com/@dancer/video/7300000000000000005',
  duration_seconds: 75,
  archive: failedArchive(TT_FAILED_REASON, true),
})
const X_PHOTO = media(XX, 'Sunset from the pier', {
  media_url: '/stub-media/landscape.svg?xphoto',
  permalink: 'https://x.com/pier_fan/status/1880000000000000006',
  archive: storedArchive('landscape', 'xphoto'),
})
const X_ALBUM = media(XX, 'Trip in three', {
  media_type: 'CAROUSEL_ALBUM',
  permalink: 'https://x.com/pier_fan/status/1880000000000000007',
  // the album itself has no picture of its own in the archive: its tile shows its first child's
  children: [
    child(1, {
      media_url: '/stub-media/landscape.svg?album1',
      archive: storedArchive('landscape', 'album1'),
    }),
    child(2, {
      platform_media_id: '7_1880000000000000102',
      media_type: 'VIDEO',
      media_url: '/stub-media/album-clip.mp4',
      thumbnail_url: '/stub-media/landscape.svg?album2poster',
      archive: storedArchive('landscape', 'album2poster', '/stub-media/album-clip.mp4'),
    }),
    child(3, {
      media_url: '/stub-media/portrait.svg?album3',
      archive: storedArchive('portrait', 'album3'),
    }),
  ],
})
const X_VIDEO = media(XX, 'Waves at noon', {
  media_type: 'VIDEO',
  media_product_type: 'VIDEO',
  media_url: '/stub-media/waves.mp4',
  thumbnail_url: '/stub-media/landscape.svg?wavesposter',
  permalink: 'https://x.com/pier_fan/status/1880000000000000008',
  duration_seconds: 12,
  archive: storedArchive('landscape', 'wavesposter', '/stub-media/waves.mp4'),
})
const X_GIF = media(XX, 'Seagull loop', {
  media_type: 'VIDEO',
  media_product_type: 'ANIMATED_GIF',
  media_url: '/stub-media/seagull.mp4',
  thumbnail_url: '/stub-media/landscape.svg?gifposter',
  permalink: 'https://x.com/pier_fan/status/1880000000000000009',
  archive: storedArchive('landscape', 'gifposter', '/stub-media/seagull.mp4'),
})
const MEDIA = [IG_PHOTO, YT_VIDEO, TT_VIDEO, TT_FAILED, X_PHOTO, X_ALBUM, X_VIDEO, X_GIF]
/** A TikTok video whose id is not digits only: it must never reach a player's address. */
const TT_BAD_ID = media(TT, 'Odd one', {
  platform_media_id: '730000000000000001/../../@x?autoplay=1',
  media_type: 'VIDEO',
  media_product_type: 'VIDEO',
  thumbnail_url: '/stub-media/portrait.svg?x-expires=1796000000&x-signature=odd',
  permalink: 'https://www.tiktok.com/@dancer/video/7300000000000000010',
  duration_seconds: 20,
  archive: storedArchive('portrait', 'odd', 'none'),
})

/** TikTok's embed player (stubbed) and the server configured to reach TikTok for real. */
const TT_PLAYER_ORIGIN = 'https://www.tiktok.com'
const TT_PLAYER = (id: string) => `${TT_PLAYER_ORIGIN}/player/v1/${id}?controls=1&rel=0`
const TIKTOK_REAL_ENV = { TIKTOK_CLIENT_KEY: 'awkey', TIKTOK_CLIENT_SECRET: 'tiktok-secret' }

const PLATFORMS = platformsJson([
  ['instagram', 'Instagram'],
  ['youtube', 'YouTube'],
  ['tiktok', 'TikTok'],
  ['x', 'X'],
])

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

interface Stub {
  page: Page
  errors: string[]
  mediaQueries: URLSearchParams[]
  /** The accounts the page asked to sync (none: the archive's copies never expire). */
  syncs: string[]
  /** Every request for a video file. */
  videoRequests: string[]
  /** Every request to TikTok's player origin. */
  playerRequests: string[]
  /** The ids of every archive poll the page sent. */
  archivePolls: string[][]
  /** What the media API answers. */
  media: MediaJson[]
}

interface GalleryOptions {
  /** TikTok's entry of the providers answer comes from the server itself (configured for real). */
  serverTiktok?: boolean
  /** More media after the usual ones. */
  extraMedia?: MediaJson[]
}

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
    archivePolls: [],
    media: [...MEDIA, ...(options.extraMedia ?? [])],
  }
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
  // the archive's pictures and videos, and its answer to the page's poll for what is pending
  await routeStubMedia(page, app.base, stub.videoRequests)
  await routeArchivePoll(page, app.base, () => stub.media, stub.archivePolls)
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
 * Opens the gallery and waits until it has settled: one page of media, every tile shown, and no
 * account asked to sync (the archive's copies do not expire as platform URLs did).
 */
async function settled(stub: Stub, base: string): Promise<Response | null> {
  const { page } = stub
  const response = await page.goto(`${base}/gallery`)
  await page.waitForFunction(
    (n) =>
      document.querySelectorAll('.tile').length === n &&
      !document.querySelector('.grid[aria-busy]'),
    stub.media.length,
  )
  assert.equal(stub.mediaQueries.length, 1, 'one page of media')
  assert.deepEqual(stub.syncs, [], 'no refresh asked for')
  return response
}

describe('TikTok and X media in the gallery (Chromium, stub API)', () => {
  test('tiles: length, GIF and album badges, portrait covers cropped, pending and failed archives; four platforms in the filter', async (t) => {
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
      // (from the archive: its JPEG fallback, and the WebP the browser prefers)
      const albumFirst = X_ALBUM.children[0]?.archive
      assert.ok(albumFirst)
      assert.equal(
        await tile(page, 'Trip in three').locator('img').getAttribute('src'),
        stubJpegUrl(albumFirst),
      )
      assert.equal(
        await tile(page, 'Waves at noon').locator('img').getAttribute('src'),
        stubJpegUrl(X_VIDEO.archive),
      )
      await tile(page, 'Waves at noon').locator('.pic.loaded').waitFor()
      assert.match(
        await tile(page, 'Waves at noon')
          .locator('img')
          .evaluate((i) => (i as HTMLImageElement).currentSrc),
        /\/stub-media\/landscape\.webp\?wavesposter&w=\d+$/,
      )

      // a portrait TikTok cover fills its square tile, cropped, not squeezed
      const cover = tile(page, 'Dance break').locator('img')
      await page.waitForFunction(
        (src) =>
          [...document.querySelectorAll<HTMLImageElement>('.tile img')].some(
            (i) => i.getAttribute('src') === src && i.complete && i.naturalWidth > 0,
          ),
        stubJpegUrl(TT_VIDEO.archive),
      )
      const shape = await cover.evaluate((img: HTMLImageElement) => ({
        fit: getComputedStyle(img).objectFit,
        natural: img.naturalHeight / img.naturalWidth,
        box: img.getBoundingClientRect().height / img.getBoundingClientRect().width,
      }))
      assert.equal(shape.fit, 'cover')
      assert.ok(shape.natural > 1.5, 'the stub cover is portrait')
      assert.ok(Math.abs(shape.box - 1) < 0.02, 'the tile stays square')

      // a cover the archive could not store: "Not archived", why in its title, no broken image
      const failed = tile(page, 'Old routine')
      assert.equal(await failed.locator('.placeholder').textContent(), 'Not archived')
      assert.equal(await failed.locator('.placeholder').getAttribute('title'), TT_FAILED_REASON)
      assert.equal(await failed.locator('img').count(), 0)
      // a photo not archived yet: "Archiving…"; the page asks the archive about it again
      const pending = tile(page, 'Shop window')
      assert.equal(await pending.locator('.placeholder').textContent(), 'Archiving…')
      assert.equal(await pending.locator('img').count(), 0)
      for (let i = 0; i < 100 && stub.archivePolls.length === 0; i++) await page.waitForTimeout(50)
      assert.ok(
        stub.archivePolls.some((ids) => ids.includes(IG_PHOTO.id) && ids.includes(X_ALBUM.id)),
        `the page asks about the pending items: ${JSON.stringify(stub.archivePolls)}`,
      )
      assert.equal(await pending.locator('.placeholder').textContent(), 'Archiving…')
      assert.deepEqual(stub.syncs, [], 'no refresh: the archive does not expire')

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

      assert.deepEqual(stub.errors, [], 'no other console error or failed request')
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
        src: X_VIDEO.archive.video?.url,
        poster: stubJpegUrl(X_VIDEO.archive),
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
        src: X_GIF.archive.video?.url,
        poster: stubJpegUrl(X_GIF.archive),
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
      const [first, clip, last] = X_ALBUM.children
      assert.ok(first && clip && last)
      assert.equal(await stage.locator('img').getAttribute('src'), stubJpegUrl(first.archive))
      assert.ok(await prev.isDisabled())
      await next.click()
      assert.equal(await position.textContent(), 'Picture 2 of 3')
      assert.equal(await stage.locator('img').count(), 0)
      const albumVideo = await videoState()
      assert.equal(albumVideo.src, clip.archive.video?.url)
      assert.equal(albumVideo.poster, stubJpegUrl(clip.archive))
      assert.equal(albumVideo.controls, true)
      await page.keyboard.press('ArrowRight')
      assert.equal(await position.textContent(), 'Picture 3 of 3')
      assert.equal(await stage.locator('img').getAttribute('src'), stubJpegUrl(last.archive))
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
        stubJpegUrl(TT_VIDEO.archive),
      )
      assert.equal(await page.locator('iframe').count(), 0)
      assert.equal(await dialog.locator('video').count(), 0)
      const ttLink = dialog.getByRole('link', { name: 'View on TikTok' })
      assert.equal(await ttLink.getAttribute('href'), TT_VIDEO.permalink)
      assert.equal(await ttLink.getAttribute('target'), '_blank')
      assert.equal(await dialog.locator('.album-controls button:visible').count(), 0)
      await page.keyboard.press('Escape')
      await dialog.waitFor({ state: 'hidden' })

      // a TikTok cover the archive could not store: "Not archived" and the link, no broken image
      await tile(page, 'Old routine').click()
      await dialog.waitFor()
      await stage.locator('.placeholder', { hasText: 'Not archived' }).waitFor()
      assert.equal(await stage.locator('img, video, iframe').count(), 0)
      await dialog.getByText('Playback needs real TikTok; this is the sandbox.').waitFor()
      assert.equal(
        await dialog.getByRole('link', { name: 'View on TikTok' }).getAttribute('href'),
        TT_FAILED.permalink,
      )
      await page.keyboard.press('Escape')

      // YouTube's likewise (a platform that would play here for real)
      await tile(page, 'Launch trailer').click()
      await dialog.getByText('Playback needs real YouTube; this is the sandbox.').waitFor()
      assert.equal(await dialog.locator('video').count(), 0)
      await page.keyboard.press('Escape')

      assert.deepEqual(stub.playerRequests, [], 'the sandbox never reaches TikTok’s player')
      assert.deepEqual(stub.errors, [], 'no other console error or failed request')
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
        stubJpegUrl(TT_VIDEO.archive),
      )
      assert.equal(
        await dialog.getByRole('link', { name: 'View on TikTok' }).getAttribute('href'),
        TT_VIDEO.permalink,
      )
      await page.keyboard.press('Escape')
      assert.deepEqual(stub.errors, [], 'no other console error or failed request')
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
        TT_PLAYER(TT_FAILED.platform_media_id),
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
        stubJpegUrl(TT_BAD_ID.archive),
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

      const valid = [TT_VIDEO, TT_FAILED, TT_VIDEO].map((m) => TT_PLAYER(m.platform_media_id))
      assert.deepEqual(stub.playerRequests, valid, 'only the valid ids were loaded')
      assert.deepEqual(stub.errors, [], 'no CSP violation, console error or failed request')
    })
  })
})
