/**
 * `AUTH_MODE=firebase` in real Chromium: the page signs in through Firebase's own JS SDK (pointed
 * at a local Firebase Auth emulator that issues RS256 ID tokens), the API is called with the
 * bearer token and verified against the local JWKS, and the whole connect → gallery flow works.
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
import { FIREBASE_TEST_PROJECT, fakeFirebaseAuth, localJwks } from '../helpers/firebase.ts'

const PASSWORD = 'correct horse battery'
const WEB_API_KEY = 'AIzaSyTest-local-web-api-key-0000000'

const browser = useChromium()

test('Firebase mode: sign up with the Firebase SDK, connect Instagram, see the gallery, stay signed in, sign out', async (t) => {
  const jwks = await localJwks(t)
  const firebase = await fakeFirebaseAuth(t, jwks.privateKey, () => Date.now())
  const app = await serveTestApp(t, {
    AUTH_MODE: 'firebase',
    FIREBASE_PROJECT_ID: FIREBASE_TEST_PROJECT,
    FIREBASE_JWKS_URL: jwks.url,
    FIREBASE_WEB_API_KEY: WEB_API_KEY,
    FIREBASE_AUTH_EMULATOR_URL: firebase.url,
  })
  const { context, page, errors } = await openContext(t, browser())
  const bearerCalls: string[] = []
  page.on('request', (request) => {
    const url = new URL(request.url())
    if (url.pathname.startsWith('/api/') && request.headers().authorization?.startsWith('Bearer '))
      bearerCalls.push(url.pathname)
  })
  await withScreenshots(t, context, async () => {
    await signUpInPage(page, app.base, PASSWORD, 'carol@example.com')
    assert.ok(
      firebase.calls.some((c) => c.endsWith('/accounts:signUp')),
      'signed up with Firebase',
    )
    await page.getByText('carol@example.com').waitFor()
    assert.ok(bearerCalls.includes('/api/auth/me'), 'the API is called with the ID token')
    assert.equal(
      (await context.cookies()).some((c) => c.name.includes('session')),
      false,
      'no server session: the bearer token is the identity',
    )

    // the OAuth callback arrives without the bearer token and still finds its user
    await connectThroughPopup(page, 'Allow')
    await page.getByText('Instagram account connected.').waitFor()
    await page.getByText('Synced @sandbox_creator').waitFor({ timeout: 20_000 })
    await page.locator('.tile img').first().waitFor()
    const uid = firebase.users.get('carol@example.com')?.uid
    assert.ok(uid !== undefined)
    assert.deepEqual(
      (await app.raw('SELECT user_id FROM user_social_accounts')).map((r) => r.user_id),
      [uid],
      "the account belongs to the Firebase user's id",
    )

    // the SDK keeps the user signed in across a reload
    await page.reload()
    await page.locator('.tile img').first().waitFor()

    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor()
    await page.reload()
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor()

    // a wrong password is explained; the right one signs in again
    await page.getByLabel('Email').fill('carol@example.com')
    await page.getByLabel('Password', { exact: true }).fill('wrong password!!')
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.getByText('Invalid email or password').waitFor()
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.locator('.tile img').first().waitFor()
  })
  // the failed sign-in is Firebase's 400, as expected; nothing else went wrong
  assert.deepEqual(
    errors.filter((e) => !e.includes('accounts:signInWithPassword') && !e.includes('400')),
    [],
  )
})

test('Firebase mode without a Web API key: the page says what to set', async (t) => {
  const jwks = await localJwks(t)
  const app = await serveTestApp(t, {
    AUTH_MODE: 'firebase',
    FIREBASE_PROJECT_ID: FIREBASE_TEST_PROJECT,
    FIREBASE_JWKS_URL: jwks.url,
  })
  const { page } = await openContext(t, browser())
  await page.goto(`${app.base}/gallery`)
  await page.getByText('Firebase sign-in is not configured').waitFor()
  assert.match(await page.locator('#app').innerText(), /FIREBASE_WEB_API_KEY/)
})
