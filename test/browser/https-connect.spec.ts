/**
 * The whole Instagram connection on https in real Chromium (F1 of the 2026-12 red-team pass):
 * a self-signed TLS terminator on loopback in front of the app (served on plain http, PUBLIC_URL
 * = the https origin, as behind a production proxy), the sandbox consent page on the same origin.
 * Chromium enforces the cookie prefixes: a binding cookie that breaks them is dropped and the
 * callback ends in `invalid_state`, which no simulated browser ever noticed.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import type { BrowserContext, Cookie, Page } from 'playwright-core'
import {
  newContextAndPage,
  signUpInPage,
  useChromium,
  withScreenshots,
} from '../helpers/browser.ts'
import { buildTestApp, count, type TestApp } from '../helpers/build-app.ts'
import { startTlsProxy } from '../helpers/tls.ts'
import { cookieNames } from '../../src/http/session.ts'

const PASSWORD = 'correct horse battery'
const NAMES = cookieNames(true)

const browser = useChromium()

/** The app on http loopback behind a TLS terminator; `base` is the https origin. */
async function httpsApp(t: TestContext): Promise<TestApp & { base: string }> {
  const proxy = await startTlsProxy(t)
  const app = await buildTestApp(t, { PUBLIC_URL: proxy.origin })
  await app.app.listen({ port: 0, host: '127.0.0.1' })
  proxy.forwardTo((app.app.server.address() as AddressInfo).port)
  return Object.assign(app, { base: proxy.origin })
}

async function httpsContext(
  t: TestContext,
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const { context, page } = await newContextAndPage(t, browser(), {
    ignoreHTTPSErrors: true,
    viewport: { width: 1100, height: 800 },
  })
  t.after(() => context.close())
  context.setDefaultTimeout(15_000)
  const errors: string[] = []
  const watch = (p: Page): void => {
    p.on('pageerror', (e) => errors.push(String(e)))
    p.on('response', (r) => {
      if (r.status() >= 400)
        errors.push(`HTTP ${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`)
    })
  }
  context.on('page', watch)
  watch(page)
  return { context, page, errors }
}

function describeJar(jar: Cookie[]): string {
  return jar.map((c) => `${c.name} path=${c.path}${c.secure ? ' secure' : ''}`).join(', ')
}

/** What the jar must hold while the consent page is shown. */
async function assertJarDuringConsent(context: BrowserContext): Promise<void> {
  const jar = await context.cookies()
  const binding = jar.find((c) => c.name === NAMES.oauthBinding)
  assert.ok(
    binding,
    `Chromium kept no binding cookie ${NAMES.oauthBinding} (it drops prefix violations); jar: ${describeJar(jar)}`,
  )
  assert.equal(binding.name, '__Secure-psg_oauth')
  assert.equal(binding.path, '/api/socials/oauth/')
  assert.equal(binding.secure, true)
  assert.equal(binding.httpOnly, true)
  assert.equal(binding.sameSite, 'Lax')
  const session = jar.find((c) => c.name === '__Host-psg_session')
  assert.ok(session, `no __Host-psg_session; jar: ${describeJar(jar)}`)
  assert.equal(session.path, '/')
  assert.equal(session.secure, true)
  assert.equal(session.domain, 'localhost')
}

/** After the callback: connected, shown, the binding gone, still signed in. */
async function assertConnected(
  app: TestApp,
  context: BrowserContext,
  page: Page,
  errors: string[],
): Promise<void> {
  await page.getByText('Instagram account connected.').waitFor()
  await page.locator('.account', { hasText: '@sandbox_creator' }).waitFor()
  await page.getByText('Synced @sandbox_creator').waitFor()
  assert.equal(new URL(page.url()).protocol, 'https:')
  assert.equal(await count(app, 'user_social_accounts'), 1)
  const jar = await context.cookies()
  assert.equal(
    jar.some((c) => c.name === NAMES.oauthBinding),
    false,
    `the callback cleared the binding; jar: ${describeJar(jar)}`,
  )
  assert.ok(jar.some((c) => c.name === '__Host-psg_session'))
  // the page's first look-up answers 401 before sign-up: that is how it learns to show the form
  const unexpected = errors.filter((e) => !/^HTTP 401 GET \/api\//.test(e))
  assert.deepEqual(unexpected, [], 'no page errors, no failed requests')
}

describe('connecting Instagram on https in Chromium', () => {
  test('popup mode: register, Connect, Allow in the popup, back on the gallery', async (t) => {
    const app = await httpsApp(t)
    const { context, page, errors } = await httpsContext(t)
    await withScreenshots(t, context, async () => {
      await signUpInPage(page, app.base, PASSWORD)
      const popupPromise = page.waitForEvent('popup')
      await page.getByRole('button', { name: 'Connect Instagram' }).click()
      const popup = await popupPromise
      await popup.waitForURL(/^https:\/\/localhost:\d+\/sandbox\/instagram\/oauth\/authorize/)
      await popup.getByRole('button', { name: 'Allow' }).waitFor()
      await assertJarDuringConsent(context)
      await popup.getByText('@sandbox_creator').click()
      const closed = popup.waitForEvent('close')
      await popup.getByRole('button', { name: 'Allow' }).click()
      await closed
      await assertConnected(app, context, page, errors)
    })
  })

  test('redirect mode (popups blocked): Connect, Allow, redirected back to the gallery', async (t) => {
    const app = await httpsApp(t)
    const { context, page, errors } = await httpsContext(t)
    await withScreenshots(t, context, async () => {
      await page.addInitScript(() => {
        window.open = () => null
      })
      await signUpInPage(page, app.base, PASSWORD)
      await page.getByRole('button', { name: 'Connect Instagram' }).click()
      await page.waitForURL(/^https:\/\/localhost:\d+\/sandbox\/instagram\/oauth\/authorize/)
      await page.getByRole('button', { name: 'Allow' }).waitFor()
      await assertJarDuringConsent(context)
      await page.getByRole('button', { name: 'Allow' }).click()
      await page.waitForURL(/^https:\/\/localhost:\d+\/gallery/)
      await assertConnected(app, context, page, errors)
      assert.equal(new URL(page.url()).search, '', 'the result parameters are cleaned away')
    })
  })
})
