/**
 * Runs the whole connect-and-sync flow (plus failures) and asserts that no token, code, state
 * value, session id or secret appears in the logs or in any API response.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  Browser,
  buildTestApp,
  consent,
  ORIGIN,
  startConnect,
  passwordChangedFault,
} from '../helpers/build-app.ts'
import { parseSealed } from '../../src/socials/credentials.ts'

test('no token, code, state, session id or secret in logs or responses', async (t) => {
  const app = await buildTestApp(t)
  const secrets = new Set<string>()
  const browser = new Browser(app)
  await browser.register('leak@example.com', 'correct horse battery')
  secrets.add('correct horse battery')
  secrets.add(browser.cookies.get('psg_session') ?? 'missing-session')

  // a successful connection (popup) and a sync
  const { url, state } = await startConnect(browser, 'popup')
  secrets.add(state)
  secrets.add(browser.cookies.get('psg_oauth') ?? 'missing-binding')
  const callback = await consent(app, url, 'allow')
  const code = new URL(callback, ORIGIN).searchParams.get('code') ?? 'missing-code'
  secrets.add(code)
  const landing = await browser.fetch('GET', callback)
  assert.equal(landing.statusCode, 303)
  await browser.fetch('GET', String(landing.headers.location))
  const accounts = (await browser.fetch('GET', '/api/socials/accounts')).json<{
    accounts: { id: string }[]
  }>()
  const accountId = accounts.accounts[0]?.id ?? ''
  const synced = await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
  assert.equal(synced.statusCode, 200)
  await browser.fetch('GET', '/api/socials/media?limit=100')

  // failures: replayed callback, tampered code, a 190 during sync, a throttled sync
  await browser.fetch('GET', callback)
  const second = await startConnect(browser)
  secrets.add(second.state)
  const secondCallback = new URL(await consent(app, second.url, 'allow'), ORIGIN)
  secrets.add(secondCallback.searchParams.get('code') ?? 'missing-code')
  secondCallback.searchParams.set('code', `${secondCallback.searchParams.get('code') ?? ''}x`)
  await browser.fetch('GET', secondCallback.pathname + secondCallback.search)
  app.emulator.state.faults.push({ kind: 'throttle', code: 80002, count: 1 })
  await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
  app.emulator.state.faults.push(passwordChangedFault())
  await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)

  // every token the emulator ever issued, and the stored ciphertext
  const encrypted = String(
    (await app.raw('SELECT encrypted_credentials AS t FROM user_social_accounts'))[0]?.t,
  )
  secrets.add(encrypted)
  const plaintext = app.vault.decrypt(encrypted)
  secrets.add(plaintext)
  const accessToken = parseSealed(plaintext)?.accessToken
  assert.ok(accessToken !== undefined, 'the stored credentials open')
  secrets.add(accessToken)
  secrets.add(app.encryptionKey)
  secrets.add(app.emulator.state.settings.clientSecret)
  secrets.add(app.emulator.state.settings.signingSecret)
  for (const issued of app.emulator.state.codes.keys()) secrets.add(issued)

  assert.ok(app.logs.length > 20, 'the run produced logs')
  const logText = app.logs.join('\n')
  const responseText = app.responses.join('\n')
  for (const secret of secrets) {
    assert.ok(secret.length >= 10, 'a meaningful secret')
    assert.equal(
      logText.includes(secret),
      false,
      `a secret leaked into the logs: ${secret.slice(0, 6)}…`,
    )
    const inResponses = responseText.includes(secret)
    // the session and binding cookies are set (once) by Set-Cookie headers, nowhere else
    if (
      secret === browser.cookies.get('psg_session') ||
      secret.startsWith('p.') ||
      secret.startsWith('r.')
    )
      continue
    if (secret === state || secret === second.state) {
      // the state goes out only inside the authorization URL of the connect response
      const occurrences = app.responses.filter((r) => r.includes(secret))
      assert.ok(
        occurrences.every((r) => r.includes('authorization_url')),
        'state only in authorization_url',
      )
      continue
    }
    assert.equal(inResponses, false, `a secret leaked into an API response: ${secret.slice(0, 6)}…`)
  }
  assert.doesNotMatch(logText, /IGAA[A-Za-z0-9_-]{10}/)
  assert.doesNotMatch(logText, /access_token=(?!\[REDACTED\])/)
  assert.doesNotMatch(responseText, /IGAA[A-Za-z0-9_-]{10}/)
})
