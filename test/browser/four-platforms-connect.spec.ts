/**
 * The sandbox's promise for four platforms, in real Chromium against the real server (in-process,
 * on a loopback port) and its built-in emulators: no stubbed API. A new person signs up in the
 * page and connects Instagram, YouTube, TikTok and X one after the other, each through its own
 * consent page in the popup (a demo account, Allow); each connection says so and syncs. Then one
 * gallery: four accounts listed, four platforms in the filter, every item of the four accounts
 * once (checked against the emulators' demo data and the database), TikTok and X each alone under
 * their filter, every picture from our archive, an X video playing its archived MP4 in the lightbox
 * and a TikTok video showing its archived cover and the link. Then the ways a TikTok or X connection ends without an account: Cancel on the
 * consent page, or the popup closed unanswered. Throughout: no console error, no CSP violation, no
 * failed request, no request leaving loopback, and no token, code or state value in the page's
 * text or in the server's logs.
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
  ARCHIVE_ORIGINAL,
  ARCHIVE_PICTURE,
  type TileSource,
  withScreenshots,
  type ServedApp,
} from '../helpers/browser.ts'
import { parseSealed } from '../../src/socials/credentials.ts'

const PASSWORD = 'correct horse battery'

const browser = useChromium()

/** The platforms whose consent page is a form of demo accounts with Authorize / Cancel. */
type FormPlatform = 'youtube' | 'tiktok' | 'x'

const CONSENT: Record<FormPlatform, { label: string; path: RegExp }> = {
  youtube: { label: 'YouTube', path: /\/sandbox\/youtube\/o\/oauth2\/v2\/auth\?/ },
  tiktok: { label: 'TikTok', path: /\/sandbox\/tiktok\/v2\/auth\/authorize\/\?/ },
  x: { label: 'X', path: /\/sandbox\/x\/i\/oauth2\/authorize\?/ },
}

/**
 * Clicks "Connect <platform>", picks demo account `account` on the platform's consent page in
 * the popup, then presses Authorize (`#allow`) or Cancel (`#cancel`), or closes the popup
 * unanswered (`close`), and waits until the popup is gone.
 */
async function connectInPopup(
  page: Page,
  platform: FormPlatform,
  account: number,
  answer: 'allow' | 'cancel' | 'close' = 'allow',
): Promise<void> {
  const { label, path } = CONSENT[platform]
  const popupPromise = page.waitForEvent('popup')
  await page.getByRole('button', { name: `Connect ${label}`, exact: true }).click()
  const popup = await popupPromise
  await popup.waitForURL(path)
  await popup.locator('#consent').waitFor()
  await popup.locator(`#account-${account}`).check()
  const closed = popup.waitForEvent('close').then(() => 'closed' as const)
  if (answer === 'close') {
    await popup.close()
    await closed
    return
  }
  // without its opener the popup's result page carries on to the gallery itself (a popup that
  // closes while this waits is the outcome wanted: the wait then ends as closed)
  const orphaned = popup
    .waitForURL(/\/gallery/)
    .then(() => 'orphaned' as const)
    .catch(() => 'closed' as const)
  await popup.locator(`#${answer}`).click()
  const how = await Promise.race([closed, orphaned])
  assert.equal(
    how,
    'closed',
    `the ${label} consent popup lost its opener: it landed on ${popup.url()} instead of reporting back and closing`,
  )
}

/** The path of an archive URL the page holds (relative or absolute). */
const pathOf = (url: string): string => new URL(url || 'x:', 'http://127.0.0.1').pathname

/**
 * Every tile, read again while the count is not whole: the grid reloads from its first page
 * when a sync ends, which may be while the tiles are being read.
 */
async function wholeGallery(page: Page, expected: number): Promise<Map<number, TileSource>> {
  const status = page.locator('.gallery-status')
  const total = new RegExp(`^${expected} items`)
  // (the archive works through the four accounts' media after their syncs: about a minute here)
  let sources = await tilesByIndex(page, { archiveTimeoutMs: 150_000 })
  for (
    let i = 0;
    i < 8 && !(total.test((await status.textContent()) ?? '') && sources.size === expected);
    i++
  ) {
    await page.waitForTimeout(200)
    sources = await tilesByIndex(page)
  }
  assert.match((await status.textContent()) ?? '', total, 'the gallery status counts every item')
  return sources
}

async function accountCount(app: ServedApp): Promise<number> {
  return Number((await app.raw('SELECT COUNT(*) AS n FROM user_social_accounts'))[0]?.n ?? -1)
}

/** Top-level media (an album's children are not tiles of their own) by platform. */
async function mediaByPlatform(app: ServedApp): Promise<Record<string, number>> {
  const rows = await app.raw(
    `SELECT a.platform AS platform, COUNT(*) AS n FROM media m
       JOIN user_social_accounts a ON a.id = m.account_id
      WHERE m.parent_id IS NULL GROUP BY a.platform ORDER BY a.platform`,
  )
  return Object.fromEntries(rows.map((r) => [String(r.platform), Number(r.n)]))
}

describe('four platforms in Chromium (sandbox emulators, real server)', () => {
  test('connect Instagram, YouTube, TikTok and X → one gallery → TikTok and X lightbox → Cancel and a closed popup connect nothing', async (t) => {
    const app = await serveTestApp(t)

    // what the demo accounts hold, from the emulators themselves
    const instagramCount = app.emulator.state.userByIndex(1)?.media.length ?? 0
    const channel = app.youtube.state.accountByIndex(1)?.channel
    assert.ok(channel, 'Demo Creator has a channel')
    const youtubeHandle = channel.customUrl.replace(/^@/, '')
    const tiktokAccount = app.tiktok.state.accountByIndex(1)
    assert.ok(tiktokAccount, 'TikTok demo account 1')
    const tiktokPublic = tiktokAccount.videos.filter((v) => v.privacy === 'public')
    const xAccount = app.x.state.accountByIndex(1)
    assert.ok(xAccount, 'X demo account 1')
    // the gallery keeps the account's own posts with media: no replies, no reposts, no text only
    const xWithMedia = xAccount.posts.filter((p) => !p.reply && !p.retweet && p.media.length > 0)
    const expected: Record<string, number> = {
      instagram: instagramCount,
      tiktok: tiktokPublic.length,
      x: xWithMedia.length,
      youtube: channel.videos.length,
    }
    assert.ok(
      Object.values(expected).every((n) => n > 0),
      `every demo account has media: ${JSON.stringify(expected)}`,
    )
    // more than a page each: TikTok lists 20 a call, X 100
    assert.ok(tiktokPublic.length > 20 && xAccount.posts.length > 100)
    const total = Object.values(expected).reduce((a, b) => a + b, 0)

    const { context, page, errors, offLoopback, requested } = await guardedContext(t, browser())
    await withScreenshots(t, context, async () => {
      await signUpInPage(page, app.base, PASSWORD)
      // signed out, the page's first look-ups answer 401: that is how it learns to show sign-up
      const beforeSignUp = errors.splice(0)
      assert.deepEqual(
        beforeSignUp.filter((e) => !/^HTTP 401 GET \/api\//.test(e) && !/status of 401/.test(e)),
        [],
        'before sign-up only the expected 401s',
      )
      const notices = page.locator('#notices')
      const accounts = page.locator('.account')

      // 1. the four connections, one after the other, each through its own consent page
      const connected = async (label: string, username: string, n: number): Promise<void> => {
        await notices.getByText(`${label} account connected.`).waitFor()
        await notices.getByText(`Synced @${username}`).waitFor({ timeout: 20_000 })
        await accounts.filter({ hasText: `@${username}` }).waitFor()
        assert.equal(await accountCount(app), n, `${label}: ${n} accounts stored`)
        assert.equal(await accounts.count(), n, `${label}: the panel lists ${n}`)
      }
      await connectThroughPopup(page, 'Allow')
      await connected('Instagram', 'sandbox_creator', 1)
      await connectInPopup(page, 'youtube', 1)
      await connected('YouTube', youtubeHandle, 2)
      await connectInPopup(page, 'tiktok', tiktokAccount.index)
      await connected('TikTok', tiktokAccount.username, 3)
      await connectInPopup(page, 'x', xAccount.index)
      await connected('X', xAccount.username, 4)

      // every item of the four accounts is stored once, as the emulators hold them
      assert.deepEqual(await mediaByPlatform(app), expected, 'stored media by platform')

      // 2. one gallery: four accounts, four platforms in the filter, every item once
      const rows = await accounts.allTextContents()
      for (const username of [
        'sandbox_creator',
        youtubeHandle,
        tiktokAccount.username,
        xAccount.username,
      ])
        assert.equal(
          rows.filter((r) => r.includes(`@${username}`)).length,
          1,
          `@${username} listed once`,
        )
      const platform = page.locator('#filter-platform')
      await platform.waitFor()
      assert.deepEqual(await platform.locator('option').allTextContents(), [
        'All platforms',
        'Instagram',
        'YouTube',
        'TikTok',
        'X',
      ])
      const sources = await wholeGallery(page, total)
      assert.equal(sources.size, total, 'every item has a tile')
      assert.deepEqual(
        [...sources.keys()].sort((a, b) => a - b),
        Array.from({ length: total }, (_, i) => i),
        'tiles 0 … n-1, none missing',
      )
      const values = [...sources.values()]
      for (const name of Object.keys(expected))
        assert.equal(
          values.filter((s) => s.platform === name).length,
          expected[name],
          `${name} tiles`,
        )
      // archived right after each sync (the page swapped them in): every picture from us
      assert.deepEqual(
        values.filter((s) => !ARCHIVE_PICTURE.test(pathOf(s.src))),
        [],
        'every tile shows an archived picture',
      )

      // 3. TikTok alone: its covers only, all of them
      await platform.selectOption('tiktok')
      const onlyTiktok = await wholeGallery(page, tiktokPublic.length)
      assert.equal(onlyTiktok.size, tiktokPublic.length)
      assert.deepEqual(
        [...onlyTiktok.values()].filter(
          (s) => s.platform !== 'tiktok' || !ARCHIVE_PICTURE.test(pathOf(s.src)),
        ),
        [],
        'only TikTok tiles, their archived covers, under the TikTok filter',
      )
      // a TikTok video in the lightbox: its cover, why it does not play here, the link
      const dialog = page.getByRole('dialog', { name: 'Media viewer' })
      await page.locator('.tile[data-index="0"]').click()
      await dialog.waitFor()
      const cover = dialog.locator('.player-off img')
      await cover.waitFor()
      const coverSrc = pathOf((await cover.getAttribute('src')) ?? '')
      assert.match(coverSrc, ARCHIVE_PICTURE, `an archived TikTok cover: ${coverSrc}`)
      // which video's: the archive's record of that picture, and the cover it was made from
      const [coverRow] = await app.raw(
        `SELECT m.platform_media_id AS id, m.thumbnail_url AS cover FROM media m
           JOIN media_archive a ON a.media_id = m.id
          WHERE a.sha256 = ? AND a.platform = 'tiktok'`,
        [coverSrc.split('/')[2]],
      )
      const coverId = coverRow === undefined ? undefined : String(coverRow.id)
      assert.ok(coverId !== undefined, `a TikTok cover: ${coverSrc}`)
      assert.match(String(coverRow?.cover), /\/sandbox\/tiktok\/cdn\/cover\/\d{19}/)
      assert.ok(
        tiktokPublic.some((v) => v.id === coverId),
        'the cover is one of the public videos',
      )
      await page.waitForFunction(() => {
        const img = document.querySelector<HTMLImageElement>('dialog .player-off img')
        return img !== null && img.complete && img.naturalWidth > 0
      })
      assert.equal(await dialog.locator('video, iframe').count(), 0, 'no player for TikTok here')
      assert.match(
        (await dialog.locator('.player-off figcaption').textContent()) ?? '',
        // (the sandbox may say either: TikTok's embed player exists only with real TikTok)
        /^(TikTok videos play on TikTok\.|Playback needs real TikTok; this is the sandbox\.) Use “View on TikTok” below to watch it\.$/,
        'why the TikTok video does not play here, and where it does',
      )
      const tiktokLink = dialog.getByRole('link', { name: 'View on TikTok' })
      const [stored] = await app.raw('SELECT permalink FROM media WHERE platform_media_id = ?', [
        coverId,
      ])
      assert.equal(await tiktokLink.getAttribute('href'), stored?.permalink)
      assert.match(
        (await tiktokLink.getAttribute('href')) ?? '',
        new RegExp(`/@${tiktokAccount.username}/video/${coverId}$`),
        'the link goes to the video',
      )
      assert.equal(await tiktokLink.getAttribute('target'), '_blank')
      await page.keyboard.press('Escape')
      await dialog.waitFor({ state: 'hidden' })

      // 4. X alone: its pictures only, all of them
      await platform.selectOption('x')
      const onlyX = await wholeGallery(page, xWithMedia.length)
      assert.equal(onlyX.size, xWithMedia.length)
      assert.deepEqual(
        [...onlyX.values()].filter(
          (s) => s.platform !== 'x' || !ARCHIVE_PICTURE.test(pathOf(s.src)),
        ),
        [],
        'only X tiles, their archived pictures, under the X filter',
      )
      // an X video (not a GIF) in the lightbox: a <video> with its MP4 and its poster
      const videoTile = page.locator('.tile', {
        has: page.locator('.tile-badge', { hasText: /^▶$/ }),
      })
      await videoTile.first().click()
      await dialog.waitFor()
      const video = dialog.locator('.lightbox-stage video')
      await video.waitFor()
      const played = await video.evaluate((v: HTMLVideoElement) => ({
        src: v.getAttribute('src') ?? '',
        poster: v.getAttribute('poster') ?? '',
        controls: v.controls,
      }))
      // the archive's copy of the video, and its archived poster
      const videoSha = ARCHIVE_ORIGINAL.exec(pathOf(played.src))?.[1]
      assert.ok(videoSha !== undefined, `the archived video: ${played.src}`)
      assert.match(pathOf(played.poster), ARCHIVE_PICTURE, `its poster: ${played.poster}`)
      assert.equal(played.controls, true)
      // the MP4 variant was picked (the media row names it), and its archived copy is what plays
      const posterSha = pathOf(played.poster).split('/')[2]
      const [xStored] = await app.raw(
        `SELECT m.media_url AS url FROM media m
           JOIN media_archive a ON a.media_id = m.id
          WHERE m.media_type = 'VIDEO' AND a.platform = 'x' AND a.video_state = 'stored'
            AND a.video_sha256 = ? AND a.sha256 = ?`,
        [videoSha, posterSha],
      )
      assert.ok(xStored, 'the video and its poster are the archive of one stored X video')
      assert.match(
        String(xStored.url),
        /\/sandbox\/x\/video\/7_\d+\//,
        `the MP4 variant: ${String(xStored.url)}`,
      )
      assert.match(
        (await dialog.getByRole('link', { name: 'View on X' }).getAttribute('href')) ?? '',
        new RegExp(`/${xAccount.username}/status/\\d+$`),
      )
      await page.keyboard.press('Escape')
      await dialog.waitFor({ state: 'hidden' })
      await platform.selectOption('')
      // back to everything: the grid starts again from its first page
      await page.locator('.gallery-status', { hasText: /^\d+\+? items/ }).waitFor()

      // 5. the ways a TikTok or X connection ends without one: each says so, connects nothing
      const mediaBefore = await mediaByPlatform(app)
      const assertNothingNew = async (what: string): Promise<void> => {
        assert.equal(await accountCount(app), 4, `${what}: no account added`)
        assert.deepEqual(await mediaByPlatform(app), mediaBefore, `${what}: no media added`)
        assert.equal(await accounts.count(), 4, `${what}: the panel lists four`)
        assert.doesNotMatch((await notices.textContent()) ?? '', /account connected/, what)
      }
      for (const [name, index] of [
        ['tiktok', tiktokAccount.index],
        ['x', xAccount.index],
      ] as const) {
        const { label } = CONSENT[name]
        await connectInPopup(page, name, index, 'cancel')
        await notices.getByText(`You cancelled the ${label} authorization`).waitFor()
        await notices
          .getByText(`Nothing was connected. Choose “Connect ${label}” again`, { exact: false })
          .waitFor()
        await assertNothingNew(`${label} cancelled`)

        await connectInPopup(page, name, index, 'close')
        await notices.getByText(`The ${label} window was closed.`).waitFor()
        await assertNothingNew(`${label} popup closed`)
      }

      // 6. no console error, no CSP violation, no failed request, nothing off loopback
      assert.deepEqual(errors, [], 'no console errors, no CSP violations, no failed requests')
      assert.deepEqual(offLoopback, [], 'no request leaves loopback')

      // 7. no token, code or state value in the page's text or markup, nor in the server's logs
      const secrets = new Set<string>()
      for (const href of requested) {
        const query = new URL(href).searchParams
        for (const name of ['state', 'code', 'code_verifier']) {
          const value = query.get(name)
          if (value !== null && value.length >= 10) secrets.add(value)
        }
      }
      // a state for each of the 8 consent pages opened, a code for each of the 4 Allows
      assert.ok(secrets.size >= 12, `state and code values seen: ${secrets.size}`)
      for (const row of await app.raw(
        'SELECT encrypted_credentials AS t FROM user_social_accounts',
      )) {
        const credentials = parseSealed(app.vault.decrypt(String(row.t)))
        assert.ok(credentials !== null, 'stored credentials open')
        secrets.add(credentials.accessToken)
        if (credentials.refreshToken) secrets.add(credentials.refreshToken)
      }
      for (const emulator of [app.youtube, app.tiktok, app.x])
        secrets.add(emulator.state.settings.clientSecret)
      secrets.add(app.emulator.state.settings.clientSecret)
      const pageText = `${await page.locator('body').innerText()}\n${await page.content()}`
      const logText = app.logs.join('\n')
      assert.ok(app.logs.length > 20, 'the run produced logs')
      for (const secret of secrets) {
        assert.ok(secret.length >= 10, 'a meaningful secret')
        assert.equal(pageText.includes(secret), false, `on the page: ${secret.slice(0, 6)}…`)
        assert.equal(logText.includes(secret), false, `in the logs: ${secret.slice(0, 6)}…`)
      }

      // every platform runs on its emulator: the sandbox banner names them all
      assert.match(
        (await page.locator('#banner').textContent()) ?? '',
        /Instagram, YouTube, TikTok and X are served by built-in emulators/,
      )
    })
  })
})
