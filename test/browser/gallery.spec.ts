/**
 * The web app in real Chromium against the real server (in-process, on a loopback port) and the
 * sandbox emulator: what a person does, with the mouse and with the keyboard alone.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { parseSealed } from '../../src/socials/credentials.ts'
import {
  connectThroughPopup,
  openContext,
  serveTestApp,
  signUpInPage,
  useChromium,
  withScreenshots,
} from '../helpers/browser.ts'

const require = createRequire(import.meta.url)
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
const PASSWORD = 'correct horse battery'

const browser = useChromium()

interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: { target: string[] }[]
}

/** axe-core inside the page (evaluated through the DevTools protocol, so the CSP is untouched). */
async function assertAccessible(page: Page, where: string): Promise<void> {
  await page.evaluate(AXE_SOURCE)
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run: (ctx: Document, opts: unknown) => Promise<{ violations: AxeViolation[] }> }
      }
    ).axe
    const result = await axe.run(document, { resultTypes: ['violations'] })
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target })),
    }))
  })
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  assert.deepEqual(serious, [], `${where}: ${JSON.stringify(serious, null, 1)}`)
}

describe('gallery in Chromium', () => {
  test('register → connect in the popup → sync → scroll → lightbox → disconnect', async (t: TestContext) => {
    const app = await serveTestApp(t)
    // a bigger account so that scrolling loads several pages
    app.emulator.state.users.push({
      ...app.emulator.state.users[0]!,
      index: 9,
      username: 'big_creator',
      id: '27281358591558899',
      user_id: '17841457215396899',
      media: [],
    })
    const big = app.emulator.state.userByIndex(9)!
    const { generateMedia } = await import('../../src/providers/instagram/emulator/demo-data.ts')
    big.media = generateMedia(9, 'big_creator', 150)
    const { context, page, errors } = await openContext(t, browser())
    await withScreenshots(t, context, async () => {
      await signUpInPage(page, app.base, PASSWORD)
      await assert.doesNotReject(page.getByText('Sandbox.').waitFor())
      await assertAccessible(page, 'empty gallery')
      await connectThroughPopup(page, 'Allow', 'big_creator')
      await page.getByText('Instagram account connected.').waitFor()
      await page.getByText('Synced @big_creator').waitFor({ timeout: 20_000 })
      // the platform token never reaches the browser
      const stored = String(
        (await app.raw('SELECT encrypted_credentials AS t FROM user_social_accounts'))[0]?.t,
      )
      const token = parseSealed(app.vault.decrypt(stored))?.accessToken ?? 'unreadable'
      assert.notEqual(token, 'unreadable')
      const html = await page.content()
      const storage = await page.evaluate(
        () =>
          JSON.stringify({ ...localStorage }) +
          JSON.stringify({ ...sessionStorage }) +
          document.cookie,
      )
      for (const secret of [token, stored]) {
        assert.equal(html.includes(secret), false, 'token in the page')
        assert.equal(storage.includes(secret), false, 'token in browser storage')
      }
      await page.locator('.account', { hasText: '@big_creator' }).getByText('Active').waitFor()
      await page.locator('.tile').first().waitFor()
      assert.match((await page.locator('.gallery-status').textContent()) ?? '', /60\+ items/)
      // infinite scroll: the next pages arrive as we scroll, the DOM stays bounded
      for (
        let i = 0;
        i < 30 && !/^150 items/.test((await page.locator('.gallery-status').textContent()) ?? '');
        i++
      ) {
        await page.mouse.wheel(0, 1500)
        await page.waitForTimeout(100)
      }
      assert.match((await page.locator('.gallery-status').textContent()) ?? '', /^150 items/)
      assert.ok(
        (await page.locator('.tile').count()) < 100,
        'only the rows near the viewport are mounted',
      )
      await page.evaluate(() => window.scrollTo(0, 0))
      await page.waitForTimeout(100)
      // lightbox: open an album, page through it, move on, close
      const album = page.locator('.tile', { hasText: '❐' }).first()
      await album.click()
      const dialog = page.getByRole('dialog', { name: 'Media viewer' })
      await dialog.waitFor()
      await dialog.getByText(/Picture 1 of \d/).waitFor()
      await assertAccessible(page, 'lightbox')
      await page.keyboard.press('ArrowRight')
      await dialog.getByText(/Picture 2 of \d/).waitFor()
      assert.ok(await dialog.getByRole('link', { name: 'View on Instagram' }).isVisible())
      await page.keyboard.press('Escape')
      await dialog.waitFor({ state: 'hidden' })
      assert.equal(
        await page.evaluate(() => document.activeElement?.classList.contains('tile')),
        true,
        'focus returns to the tile',
      )
      // disconnect, with confirmation
      await page.getByRole('button', { name: 'Disconnect @big_creator' }).click()
      const confirm = page.getByRole('dialog', { name: 'Disconnect @big_creator?' })
      await confirm.waitFor()
      await assertAccessible(page, 'confirm dialog')
      await confirm.getByRole('button', { name: 'Disconnect' }).click()
      await page.getByText('@big_creator disconnected.').waitFor()
      await page.getByText('No account yet.').waitFor()
      await page.getByText('Your gallery is empty.').waitFor()
      assert.equal((await app.raw('SELECT COUNT(*) AS n FROM media'))[0]?.n, 0)
      // signed out, the page's first requests answer 401: that is how it learns to show sign-in
      const unexpected = errors.filter(
        (e) => !/^HTTP 401 GET \/api\//.test(e) && !/status of 401/.test(e),
      )
      assert.deepEqual(unexpected, [], 'no console errors, no CSP violations, no failed requests')
    })
  })

  test('denying in the popup, and a personal account, explain what happened', async (t) => {
    const app = await serveTestApp(t)
    const { context, page } = await openContext(t, browser())
    await withScreenshots(t, context, async () => {
      await signUpInPage(page, app.base, PASSWORD)
      await connectThroughPopup(page, 'Deny')
      await page.getByText('You cancelled the Instagram authorization').waitFor()
      await connectThroughPopup(page, 'Allow', 'sandbox_personal')
      await page.getByText('This Instagram account is a personal account').waitFor()
      await page.getByText(/Switch to professional account/).waitFor()
      assert.equal((await app.raw('SELECT COUNT(*) AS n FROM user_social_accounts'))[0]?.n, 0)
    })
  })

  test('when popups are blocked, connecting falls back to a full-page redirect', async (t) => {
    const app = await serveTestApp(t)
    const { context, page } = await openContext(t, browser())
    await withScreenshots(t, context, async () => {
      await page.addInitScript(() => {
        window.open = () => null
      })
      await signUpInPage(page, app.base, PASSWORD)
      await page.getByRole('button', { name: 'Connect Instagram' }).click()
      await page.waitForURL(/\/sandbox\/instagram\/oauth\/authorize/)
      await page.getByRole('button', { name: 'Allow' }).click()
      await page.waitForURL(/\/gallery/)
      await page.getByText('Instagram account connected.').waitFor()
      await page.locator('.account', { hasText: '@sandbox_creator' }).waitFor()
      await page.locator('.tile').first().waitFor({ timeout: 20_000 })
      assert.equal(
        new URL(page.url()).search,
        '',
        'the result parameters are cleaned from the address bar',
      )
    })
  })

  test('every picture and video comes from our archive: placeholders first, AVIF or WebP when ready, no request to a platform', async (t) => {
    // archived by the job pass this test runs, not right after the sync: the placeholders stay
    const app = await serveTestApp(t, {}, { archiveOnSync: false })
    const { context, page, errors } = await openContext(t, browser())
    // every request the gallery page makes (the consent popup is a page of its own)
    const requests: string[] = []
    const record = (p: Page): void => {
      p.on('request', (r) => requests.push(r.url()))
    }
    record(page)
    await withScreenshots(t, context, async () => {
      await signUpInPage(page, app.base, PASSWORD)
      await connectThroughPopup(page, 'Allow')
      await page.getByText('Synced @sandbox_creator').waitFor({ timeout: 20_000 })
      // nothing archived yet: neutral tiles that say so, never a platform's picture
      await page.locator('.tile .placeholder', { hasText: 'Archiving…' }).first().waitFor()
      assert.equal(await page.locator('.tile img').count(), 0)
      // the archive's pass: the page asks again on its own and swaps the pictures in
      for (let pass = 0; pass < 10; pass++) {
        const report = await app.app.jobs.runner.runDue()
        if ((report.archive?.queued ?? 0) + (report.archive?.stored ?? 0) === 0) break
      }
      await page.waitForFunction(
        () =>
          document.querySelectorAll('.tile .placeholder').length === 0 &&
          document.querySelectorAll('.tile .pic.loaded').length > 0,
        null,
        { timeout: 20_000 },
      )
      // (lazy: the tiles mounted below the fold have not asked for theirs yet)
      const sources = await page
        .locator('.tile .pic.loaded img')
        .evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).currentSrc))
      assert.ok(sources.length > 0)
      for (const src of sources)
        assert.match(src, /\/media\/[0-9a-f]{64}\/\d+\.(avif|webp)$/, 'AVIF or WebP, from us')
      // the colour and the ThumbHash are painted under each picture
      assert.ok((await page.locator('.tile .pic canvas.pic-thumb').count()) > 0)
      // the viewer: a photo at the archive's largest size, a video from the archive
      await page.locator('.tile', { hasNotText: /▶|❐/ }).first().click()
      const dialog = page.getByRole('dialog', { name: 'Media viewer' })
      await dialog.locator('.pic.loaded img').waitFor()
      assert.match(
        await dialog.locator('img').evaluate((i) => (i as HTMLImageElement).currentSrc),
        /\/media\/[0-9a-f]{64}\/96\.(avif|webp)$/,
      )
      await page.keyboard.press('Escape')
      await page.locator('.tile', { hasText: '▶' }).first().click()
      const video = dialog.locator('video')
      await video.waitFor()
      const videoSrc = await video.evaluate((v) => (v as HTMLVideoElement).src)
      assert.match(videoSrc, /\/media\/[0-9a-f]{64}$/)
      // it seeks: the archive answers ranges
      const range = await page.evaluate(async (src) => {
        const r = await fetch(src, { headers: { range: 'bytes=0-99' } })
        return { status: r.status, type: r.headers.get('content-type') }
      }, videoSrc)
      assert.deepEqual(range, { status: 206, type: 'video/mp4' })
      await page.keyboard.press('Escape')
      // four days later Instagram's signed URLs have expired: nothing on the page notices
      await page.close()
      app.clock.advance(4 * 86_400_000)
      const later = await browser().newContext({ viewport: { width: 1100, height: 800 } })
      t.after(() => later.close())
      await later.addCookies(await context.cookies())
      const next = await later.newPage()
      record(next)
      await next.goto(`${app.base}/gallery`)
      await next.waitForFunction(
        () => document.querySelectorAll('.tile .pic.loaded').length > 0,
        null,
        { timeout: 20_000 },
      )
      await next.mouse.wheel(0, 1500)
      await next.waitForTimeout(200)
      // not one request left our origin, and none reached the platform (its emulator's CDN)
      const origin = new URL(app.base).origin
      const foreign = requests.filter((u) => new URL(u).origin !== origin)
      assert.deepEqual(foreign, [], 'requests to other hosts')
      const platform = requests.filter((u) => new URL(u).pathname.startsWith('/sandbox/'))
      assert.deepEqual(platform, [], 'requests to the platform')
      assert.ok(requests.some((u) => new URL(u).pathname.startsWith('/media/')))
      // before signing up, the page's first requests answer 401: that is how it shows sign-in
      const unexpected = errors.filter(
        (e) => !/^HTTP 401 GET \/api\//.test(e) && !/status of 401/.test(e),
      )
      assert.deepEqual(unexpected, [], 'no console errors, no CSP violations, no failed requests')
    })
  })

  test('keyboard only: sign up, connect, browse with arrows, open and close the viewer', async (t) => {
    const app = await serveTestApp(t)
    const { context, page } = await openContext(t, browser())
    await withScreenshots(t, context, async () => {
      await page.goto(`${app.base}/gallery`)
      await page.getByLabel('Email').waitFor()
      await assertAccessible(page, 'sign-in form')
      assert.equal(
        await page.evaluate(() => document.activeElement?.id),
        'email',
        'the email field has focus',
      )
      await page.keyboard.type('keys@example.com')
      await page.keyboard.press('Tab')
      await page.keyboard.type(PASSWORD)
      await page.keyboard.press('Tab') // Sign in
      await page.keyboard.press('Tab') // Create account
      await page.keyboard.press('Enter')
      const connect = page.getByRole('button', { name: 'Connect Instagram' })
      await connect.waitFor()
      await assertAccessible(page, 'signed in')
      await connect.focus()
      const popupPromise = page.waitForEvent('popup')
      await page.keyboard.press('Enter')
      const popup = await popupPromise
      await popup.getByRole('button', { name: 'Allow' }).waitFor()
      await popup.getByRole('button', { name: 'Allow' }).focus()
      const closed = popup.waitForEvent('close')
      await popup.keyboard.press('Enter')
      await closed
      await page.getByText('Synced @sandbox_creator').waitFor({ timeout: 20_000 })
      const first = page.locator('.tile').first()
      await first.focus()
      await page.keyboard.press('ArrowRight')
      assert.equal(
        await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.index),
        '1',
      )
      await page.keyboard.press('ArrowDown')
      const below = await page.evaluate(() =>
        Number((document.activeElement as HTMLElement | null)?.dataset.index),
      )
      assert.ok(below > 1, 'down moves a row')
      await page.keyboard.press('Enter')
      const dialog = page.getByRole('dialog', { name: 'Media viewer' })
      await dialog.waitFor()
      assert.equal(
        await page.evaluate(() => document.activeElement?.getAttribute('aria-label')),
        'Close viewer',
      )
      await page.keyboard.press('ArrowRight')
      await page.keyboard.press('Escape')
      await dialog.waitFor({ state: 'hidden' })
      assert.equal(
        await page.evaluate(() => document.activeElement?.classList.contains('tile')),
        true,
      )
    })
  })
})
