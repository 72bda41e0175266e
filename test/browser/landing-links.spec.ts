/**
 * Landing-page links in real Chromium (issue 12 item 6): a link someone else wrote can neither put
 * its words on our page nor start a sync; the page's own connection still does both.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  connectThroughPopup,
  openContext,
  serveTestApp,
  signUpInPage,
  useChromium,
  withScreenshots,
} from '../helpers/browser.ts'

const browser = useChromium()

test('a crafted landing link shows only our own text and starts no sync', async (t) => {
  const app = await serveTestApp(t)
  const { context, page } = await openContext(t, browser())
  await withScreenshots(t, context, async () => {
    await signUpInPage(page, app.base, 'correct horse battery', 'owner@example.com')
    await connectThroughPopup(page, 'Allow')
    // the page's own connection syncs at once
    await page.getByText('Synced @sandbox_creator').waitFor({ timeout: 20_000 })
    const row = (await app.raw('SELECT id FROM user_social_accounts'))[0]
    const accountId = typeof row?.id === 'string' ? row.id : 'missing'
    const calls = app.emulator.state.calls.length

    // someone sends the owner a link to the success page of that account
    await page.goto(`${app.base}/gallery?connect=success&platform=instagram&account=${accountId}`)
    await page.getByText('Instagram account connected.').waitFor()
    await page.locator('.account', { hasText: '@sandbox_creator' }).waitFor()
    await page.waitForLoadState('networkidle')
    assert.equal(await page.getByText(/Syncing/).count(), 0, 'no sync started')
    assert.equal(app.emulator.state.calls.length, calls, 'Instagram was not called')

    // and a link with words of its own
    await page.goto(
      `${app.base}/gallery?connect=error&platform=instagram&reason=provider_error&detail=${encodeURIComponent('Your account is suspended. Call 555-0100')}`,
    )
    await page.getByText('Instagram could not complete the connection').waitFor()
    await page.waitForLoadState('networkidle')
    assert.equal(await page.getByText(/555-0100/).count(), 0)
    assert.equal(app.emulator.state.calls.length, calls)
  })
})
