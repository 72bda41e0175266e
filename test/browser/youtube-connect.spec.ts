/**
 * Connecting YouTube in real Chromium against the real server (in-process, on a loopback port) and
 * its sandbox Google emulator: no stubbed API. A new person signs up, connects Demo Creator's
 * channel through Google's consent page in the popup, sees the channel's videos as tiles next to
 * Instagram's (one gallery, a platform filter), the badges (Shorts, length, Private, Unlisted),
 * the sandbox lightbox (poster, why it does not play, the link, no frame), then the three ways a
 * connection fails (scope unticked, no channel, Cancel) connect nothing. Throughout: no console
 * error, no CSP violation, no failed request, and no request leaving loopback.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Page } from 'playwright-core'
import {
  connectThroughPopup,
  guardedContext,
  serveTestApp,
  signUpInPage,
  tilesByIndex,
  useChromium,
  ARCHIVE_PICTURE,
  withScreenshots,
  type ServedApp,
} from '../helpers/browser.ts'
import type { EmulatorVideo } from '../../src/providers/youtube/emulator/state.ts'

const PASSWORD = 'correct horse battery'

const browser = useChromium()

type Choice = (consent: Page) => Promise<void>

/**
 * Clicks "Connect YouTube", answers Google's consent page in the popup (`choose` ticks what it
 * wants, then `button` is pressed) and waits for the popup to close.
 */
async function connectYoutubeInPopup(
  page: Page,
  choose: Choice,
  button: '#allow' | '#cancel' = '#allow',
): Promise<void> {
  const popupPromise = page.waitForEvent('popup')
  await page.getByRole('button', { name: 'Connect YouTube' }).click()
  const popup = await popupPromise
  await popup.waitForURL(/\/sandbox\/youtube\/o\/oauth2\/v2\/auth\?/)
  await popup.locator('#consent').waitFor()
  await choose(popup)
  const closed = popup.waitForEvent('close').then(() => 'closed' as const)
  // without its opener the popup's result page carries on to the gallery itself
  // (a popup that closes while this waits is the outcome wanted: the wait then ends as closed,
  // and its rejection is handled rather than left to fail the run later)
  const orphaned = popup
    .waitForURL(/\/gallery/)
    .then(() => 'orphaned' as const)
    .catch(() => 'closed' as const)
  await popup.locator(button).click()
  const how = await Promise.race([closed, orphaned])
  assert.equal(
    how,
    'closed',
    `the consent popup lost its opener: it landed on ${popup.url()} instead of reporting back and closing`,
  )
}

const account =
  (index: number): Choice =>
  async (consent) => {
    await consent.locator(`#account-${index}`).check()
  }

/** `m:ss` or `h:mm:ss`, written here independently of the page's formatter. */
function clock(seconds: number): string {
  const h = Math.floor(seconds / 3600)
  const m = Math.floor(seconds / 60) % 60
  const s = String(seconds % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`
}

/** The tile of the video titled `title` (its accessible name ends with the caption). */
const tileOf = (page: Page, title: string) =>
  page.locator(`.tile[aria-label*=${JSON.stringify(`: ${title}`)}]`)

async function accountCount(app: ServedApp): Promise<number> {
  return Number((await app.raw('SELECT COUNT(*) AS n FROM user_social_accounts'))[0]?.n ?? -1)
}

async function mediaCount(app: ServedApp): Promise<number> {
  return Number(
    (await app.raw('SELECT COUNT(*) AS n FROM media WHERE parent_id IS NULL'))[0]?.n ?? -1,
  )
}

describe('connecting YouTube in Chromium (sandbox Google, real server)', () => {
  test('connect Demo Creator → tiles with badges → one gallery with Instagram → lightbox → failed connections connect nothing', async (t) => {
    const app = await serveTestApp(t)
    const channel = app.youtube.state.accountByIndex(1)?.channel
    assert.ok(channel, 'Demo Creator has a channel')
    const videos: EmulatorVideo[] = channel.videos
    const handle = channel.customUrl.replace(/^@/, '')
    const find = (what: string, p: (v: EmulatorVideo) => boolean): EmulatorVideo => {
      const found = videos.find(p)
      assert.ok(found, `the demo channel has ${what}`)
      return found
    }
    const shorts = videos.filter((v) => v.short)
    const privateVideo = find('a private video', (v) => v.privacy === 'private')
    const unlisted = find('an unlisted video', (v) => v.privacy === 'unlisted')
    const replay = find('a live replay', (v) => v.live === 'replay')
    const plain = find(
      'a public video',
      (v) => v.privacy === 'public' && !v.short && v.live === 'none',
    )
    assert.equal(shorts.length, 6)
    const instagramCount = app.emulator.state.userByIndex(1)?.media.length ?? 0
    assert.ok(instagramCount > 0)

    const { context, page, errors, offLoopback } = await guardedContext(t, browser())
    await withScreenshots(t, context, async () => {
      await signUpInPage(page, app.base, PASSWORD)
      // signed out, the page's first look-ups answer 401: that is how it learns to show sign-up
      const beforeSignUp = errors.splice(0)
      assert.deepEqual(
        beforeSignUp.filter((e) => !/^HTTP 401 GET \/api\//.test(e) && !/status of 401/.test(e)),
        [],
        'before sign-up only the expected 401s',
      )
      await page.getByRole('button', { name: 'Connect YouTube' }).waitFor()
      const notices = page.locator('#notices')

      // 4a. (first, while Demo Creator has never consented: the app asks Google for
      // include_granted_scopes, so a scope granted once stays granted) the scope unticked
      await connectYoutubeInPopup(page, async (consent) => {
        await consent.locator('#account-1').check()
        const boxes = consent.locator('input[name="granted_scope"]')
        assert.ok((await boxes.count()) > 0, 'the consent page lists the scopes')
        for (const box of await boxes.all()) {
          assert.equal(await box.isChecked(), true, 'scopes are ticked by default')
          await box.uncheck()
        }
      })
      await notices.getByText(/permission to see your YouTube account was not granted/).waitFor()
      assert.equal(await accountCount(app), 0, 'scope unticked: nothing connected')
      assert.equal(await mediaCount(app), 0)
      await page.getByText('No account yet.').waitFor()
      assert.doesNotMatch((await notices.textContent()) ?? '', /account connected/)

      // 1. Connect YouTube: Demo Creator, Allow, back in the gallery, the page syncs
      await connectYoutubeInPopup(page, account(1))
      await page.getByText('YouTube account connected.').waitFor()
      await page.getByText(`Synced @${handle}`).waitFor({ timeout: 20_000 })
      const youtubeRow = page.locator('.account', { hasText: `@${handle}` })
      await youtubeRow.waitFor()
      assert.equal(await accountCount(app), 1)
      assert.equal(await mediaCount(app), videos.length, 'every video of the channel is stored')
      await page.locator('.gallery-status', { hasText: `${videos.length} items` }).waitFor()
      await page
        .locator('.tile')
        .nth(videos.length - 1)
        .waitFor()
      assert.equal(await page.locator('.tile').count(), videos.length)
      // one platform only: no platform filter yet
      assert.equal(await page.locator('#filter-platform').isVisible(), false)

      // then Instagram too: both in one gallery
      await connectThroughPopup(page, 'Allow')
      await page.getByText('Instagram account connected.').waitFor()
      await page.getByText('Synced @sandbox_creator').waitFor({ timeout: 20_000 })
      assert.equal(await accountCount(app), 2)
      assert.equal(await mediaCount(app), videos.length + instagramCount)
      await page.locator('.account').nth(1).waitFor()
      assert.equal(await page.locator('.account').count(), 2)
      // the page reloads its grid (from its first page) when the second sync ends, which may
      // be while the tiles are being read: read them again until the count is the whole
      const total = new RegExp(`^${videos.length + instagramCount} items`)
      let sources = await tilesByIndex(page, { step: 800, maxSteps: 40 })
      for (
        let i = 0;
        i < 5 && !total.test((await page.locator('.gallery-status').textContent()) ?? '');
        i++
      ) {
        await page.waitForTimeout(200)
        sources = await tilesByIndex(page, { step: 800, maxSteps: 40 })
      }
      assert.match((await page.locator('.gallery-status').textContent()) ?? '', total)
      assert.equal(sources.size, videos.length + instagramCount, 'every item has a tile')
      const tiles = [...sources.values()]
      const fromYoutube = tiles.filter((s) => s.platform === 'youtube')
      const fromInstagram = tiles.filter((s) => s.platform === 'instagram')
      assert.equal(fromYoutube.length, videos.length, `YouTube tiles: ${fromYoutube.length}`)
      assert.equal(fromInstagram.length, instagramCount, `Instagram tiles: ${fromInstagram.length}`)
      // archived (right after each sync; the page swapped them in): every picture from us
      assert.deepEqual(
        tiles.filter((s) => !ARCHIVE_PICTURE.test(new URL(s.src || 'x:', app.base).pathname)),
        [],
        'every tile shows an archived picture',
      )

      // the platform filter (two platforms now) narrows to YouTube
      const platform = page.locator('#filter-platform')
      await platform.waitFor()
      const options = await platform.locator('option').allTextContents()
      assert.equal(options[0], 'All platforms')
      assert.deepEqual(options.slice(1).sort(), ['Instagram', 'YouTube'])
      await platform.selectOption('youtube')
      await page.locator('.gallery-status', { hasText: `${videos.length} items` }).waitFor()
      const onlyYoutube = await tilesByIndex(page, { step: 800, maxSteps: 40 })
      assert.equal(onlyYoutube.size, videos.length)
      assert.deepEqual(
        [...onlyYoutube.values()].filter(
          (s) =>
            s.platform !== 'youtube' || !ARCHIVE_PICTURE.test(new URL(s.src, app.base).pathname),
        ),
        [],
        'only YouTube tiles, their archived thumbnails, under the YouTube filter',
      )

      // 2. the badges
      const flags = (v: EmulatorVideo) =>
        tileOf(page, v.title).locator('.tile-flag').allTextContents()
      const duration = (v: EmulatorVideo) =>
        tileOf(page, v.title).locator('.tile-duration').textContent()
      for (const short of shorts) {
        assert.deepEqual(await flags(short), ['Shorts'], short.title)
        assert.equal(await duration(short), clock(short.durationSeconds), short.title)
      }
      assert.equal(
        await page.locator('.tile-flag.shorts').count(),
        shorts.length,
        'a Shorts badge on the Shorts only',
      )
      assert.deepEqual(await flags(privateVideo), ['Private'])
      assert.equal(
        await tileOf(page, privateVideo.title).locator('.tile-flag').getAttribute('title'),
        'Private on YouTube: only you see it here',
      )
      assert.deepEqual(await flags(unlisted), ['Unlisted'])
      assert.deepEqual(await flags(replay), ['Live'])
      assert.deepEqual(await flags(plain), [])
      for (const v of [privateVideo, unlisted, replay, plain])
        assert.equal(await duration(v), clock(v.durationSeconds), v.title)
      assert.equal(await page.locator('.tile-flag.private').count(), 1)
      assert.equal(await page.locator('.tile-flag.unlisted').count(), 1)
      assert.equal(
        await page.locator('.tile .tile-duration').count(),
        videos.length,
        'every video shows its length',
      )

      // 3. the lightbox in the sandbox: the poster, why it does not play, the link; no frame
      await tileOf(page, plain.title).click()
      const dialog = page.getByRole('dialog', { name: 'Media viewer' })
      await dialog.waitFor()
      await dialog.getByText('Playback needs real YouTube; this is the sandbox.').waitFor()
      assert.equal(await page.locator('iframe').count(), 0, 'no player frame in the sandbox')
      // the archived poster: the video's thumbnail, as the archive stored it for this item
      const poster = dialog.locator('.player-off img')
      const posterPath = new URL((await poster.getAttribute('src')) ?? '', app.base).pathname
      assert.match(posterPath, ARCHIVE_PICTURE, `an archived poster: ${posterPath}`)
      const [plainArchive] = await app.raw(
        `SELECT a.sha256 AS sha FROM media m JOIN media_archive a ON a.media_id = m.id
          WHERE m.platform_media_id = ? AND a.state = 'stored'`,
        [plain.id],
      )
      assert.ok(plainArchive, 'the video’s thumbnail is archived')
      assert.ok(posterPath.startsWith(`/media/${String(plainArchive.sha)}/`), 'its own poster')
      await page.waitForFunction(() => {
        const img = document.querySelector<HTMLImageElement>('dialog .player-off img')
        return img !== null && img.complete && img.naturalWidth > 0
      })
      const link = dialog.getByRole('link', { name: 'View on YouTube' })
      assert.ok(await link.isVisible())
      assert.equal(
        await link.getAttribute('href'),
        `${app.base}/sandbox/youtube/web/watch?v=${plain.id}`,
      )
      await page.keyboard.press('Escape')
      await dialog.waitFor({ state: 'hidden' })
      await platform.selectOption('')

      // 4b. the other ways a connection fails: each says why, and connects nothing
      const mediaBefore = await mediaCount(app)
      const assertNothingNew = async (what: string): Promise<void> => {
        assert.equal(await accountCount(app), 2, `${what}: no account added`)
        assert.equal(await mediaCount(app), mediaBefore, `${what}: no media added`)
        assert.equal(await page.locator('.account').count(), 2, `${what}: the panel lists two`)
        assert.doesNotMatch((await notices.textContent()) ?? '', /account connected/, what)
      }

      await connectYoutubeInPopup(page, account(2))
      await notices.getByText(/That account has no YouTube channel/).waitFor()
      await notices
        .getByText(/Create a channel/)
        .first()
        .waitFor()
      await assertNothingNew('no channel')

      await connectYoutubeInPopup(page, account(1), '#cancel')
      await notices.getByText('You cancelled the YouTube authorization').waitFor()
      await assertNothingNew('cancelled')

      // 5. no console error, no CSP violation, no failed request, nothing off loopback
      assert.deepEqual(errors, [], 'no console errors, no CSP violations, no failed requests')
      assert.deepEqual(offLoopback, [], 'no request leaves loopback')

      // last, what the page says about the connections themselves: a YouTube grant renews its
      // hour-long access token with its refresh token, so a fresh connection is not "expiring"
      assert.equal(
        await youtubeRow.locator('.badge').textContent(),
        'Active',
        'a freshly connected, refreshable YouTube account',
      )
      // every platform runs on its emulator: the sandbox banner names them all
      assert.match(
        (await page.locator('#banner').textContent()) ?? '',
        /Instagram, YouTube, TikTok and X are served by built-in emulators/,
      )
    })
  })
})
