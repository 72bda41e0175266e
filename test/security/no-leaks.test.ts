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
  consentAt,
  consentYoutube,
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

test('YouTube: no token, code, state, PKCE verifier or secret in logs or responses', async (t) => {
  const app = await buildTestApp(t)
  const secrets = new Set<string>()
  const browser = new Browser(app)
  await browser.register('leak-yt@example.com', 'correct horse battery')
  secrets.add(app.youtube.state.settings.clientSecret)
  secrets.add(app.youtube.state.settings.signingSecret)
  const issuedTokens = async (): Promise<void> => {
    for (const row of await app.raw(
      'SELECT encrypted_credentials AS t FROM user_social_accounts',
    )) {
      const sealed = String(row.t)
      secrets.add(sealed)
      const plaintext = app.vault.decrypt(sealed)
      secrets.add(plaintext)
      const credentials = parseSealed(plaintext)
      if (credentials !== null) secrets.add(credentials.accessToken)
      if (credentials?.refreshToken) secrets.add(credentials.refreshToken)
    }
  }
  /** A connection through Google's consent page; its state, code and verifier are secrets. */
  const connect = async (granted?: readonly string[]) => {
    const { url, state } = await startConnect(browser, 'redirect', 'youtube')
    secrets.add(state)
    for (const row of await app.raw('SELECT encrypted_code_verifier AS v FROM oauth_states'))
      if (typeof row.v === 'string') secrets.add(app.vault.decrypt(row.v))
    const callback = await consentYoutube(app, url, granted === undefined ? {} : { granted })
    secrets.add(new URL(callback, ORIGIN).searchParams.get('code') ?? 'missing-code')
    const landing = await browser.fetch('GET', callback)
    await browser.fetch('GET', String(landing.headers.location))
  }

  await connect([]) // scope unticked: the grant is revoked at once
  await connect()
  await issuedTokens()
  const accounts = (await browser.fetch('GET', '/api/socials/accounts')).json<{
    accounts: { id: string }[]
  }>()
  const accountId = accounts.accounts[0]?.id ?? ''
  assert.equal(
    (await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)).statusCode,
    200,
  )
  await browser.fetch('GET', '/api/socials/media?limit=100&platform=youtube')
  // failures: a 401 (refreshed once), a second 401, a spent quota, a code replayed
  app.youtube.control.expireAccessTokens()
  await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
  await issuedTokens()
  app.youtube.control.addFault({ kind: 'auth_error', count: 2 })
  await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
  await connect()
  await issuedTokens()
  app.youtube.control.setQuota({ used: app.youtube.control.quota().limit })
  await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
  // a disconnect whose revocation is queued, then retried
  app.youtube.control.addFault({ kind: 'http_5xx', count: 1, path: '/revoke' })
  await browser.fetch('DELETE', `/api/socials/accounts/${accountId}`)
  app.clock.advance(61_000)
  await app.app.jobs.runner.runDue()

  const logText = app.logs.join('\n')
  const responseText = app.responses.join('\n')
  assert.ok(secrets.size >= 12, `secrets collected: ${secrets.size}`)
  for (const secret of secrets) {
    assert.ok(secret.length >= 10, 'a meaningful secret')
    assert.equal(logText.includes(secret), false, `in the logs: ${secret.slice(0, 6)}…`)
    const inResponses = app.responses.filter((r) => r.includes(secret))
    // the state goes out only inside the authorization URL of the connect response
    assert.ok(
      inResponses.every((r) => r.includes('authorization_url')),
      `in an API response: ${secret.slice(0, 6)}…`,
    )
  }
  assert.doesNotMatch(logText, /ya29\.[A-Za-z0-9_-]{10}/)
  assert.doesNotMatch(responseText, /ya29\.[A-Za-z0-9_-]{10}/)
  assert.doesNotMatch(logText, /1\/\/[A-Za-z0-9_-]{10}/)
})

for (const platform of ['tiktok', 'x'] as const) {
  test(`${platform}: no token, code, state, PKCE verifier or secret in logs or responses`, async (t) => {
    const app = await buildTestApp(t)
    const emulator = platform === 'tiktok' ? app.tiktok : app.x
    const secrets = new Set<string>([
      emulator.state.settings.clientSecret,
      emulator.state.settings.signingSecret,
    ])
    const browser = new Browser(app)
    await browser.register(`leak-${platform}@example.com`, 'correct horse battery')
    const stored = async (): Promise<void> => {
      for (const row of await app.raw(
        'SELECT encrypted_credentials AS t FROM user_social_accounts',
      )) {
        const sealed = String(row.t)
        secrets.add(sealed)
        const credentials = parseSealed(app.vault.decrypt(sealed))
        if (credentials !== null) secrets.add(credentials.accessToken)
        if (credentials?.refreshToken) secrets.add(credentials.refreshToken)
      }
    }
    const { url, state } = await startConnect(browser, 'redirect', platform)
    secrets.add(state)
    for (const row of await app.raw('SELECT encrypted_code_verifier AS v FROM oauth_states'))
      if (typeof row.v === 'string') secrets.add(app.vault.decrypt(row.v))
    const callback = await consentAt(app, url)
    secrets.add(new URL(callback, ORIGIN).searchParams.get('code') ?? 'missing-code')
    const landing = await browser.fetch('GET', callback)
    await browser.fetch('GET', String(landing.headers.location))
    await stored()
    const accountId =
      (await browser.fetch('GET', '/api/socials/accounts')).json<{ accounts: { id: string }[] }>()
        .accounts[0]?.id ?? ''
    assert.equal(
      (await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)).statusCode,
      200,
    )
    // an expired access token: refreshed (rotated) once, then a replayed callback
    emulator.control.expireAccessTokens()
    await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
    await stored()
    await browser.fetch('GET', callback)
    await browser.fetch('DELETE', `/api/socials/accounts/${accountId}`)

    const logText = app.logs.join('\n')
    assert.ok(secrets.size >= 8, `secrets collected: ${secrets.size}`)
    for (const secret of secrets) {
      assert.ok(secret.length >= 10, 'a meaningful secret')
      assert.equal(logText.includes(secret), false, `in the logs: ${secret.slice(0, 6)}…`)
      const inResponses = app.responses.filter((r) => r.includes(secret))
      assert.ok(
        inResponses.every((r) => r.includes('authorization_url')),
        `in an API response: ${secret.slice(0, 6)}…`,
      )
    }
  })
}
