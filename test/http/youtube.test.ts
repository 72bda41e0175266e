/**
 * YouTube through the whole service, on the sandbox emulator (Google's consent page, token
 * endpoint and Data API) and a real database: connect a channel (PKCE, offline consent), each
 * outcome in plain words (cancelled, scope unticked, no channel, a failed exchange with Google's
 * words), the sync (videos beside Instagram's posts, privacy, durations, Shorts), the 401 that a
 * refresh cures once, `invalid_grant` and the "Testing" hint, the quota that stops every YouTube
 * account with one message, and a disconnect that revokes the grant at Google.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  Browser,
  allMedia,
  buildTestApp,
  connectAccount,
  connectYoutube,
  consentYoutube,
  count,
  startConnect,
  type TestApp,
} from '../helpers/build-app.ts'
import { parseSealed } from '../../src/socials/credentials.ts'
import { YOUTUBE_READONLY_SCOPE } from '../../src/providers/youtube/config.ts'

const DAY = 86_400_000

interface MediaItem {
  platform_media_id: string
  media_type: string
  media_product_type: string | null
  visibility: string
  duration_seconds: number | null
  permalink: string | null
  account_id: string
}

async function account(browser: Browser, id: string) {
  const answer = await browser.fetch('GET', '/api/socials/accounts')
  const list = answer.json<{
    accounts: { id: string; status: string; status_message: string | null; platform: string }[]
  }>().accounts
  const found = list.find((a) => a.id === id)
  assert.ok(found, id)
  return found
}

function landing(location: unknown): URL {
  return new URL(String(location), 'http://localhost')
}

/** The callback of a YouTube connection answered as `options` say; returns the landing URL. */
async function callback(
  app: TestApp,
  browser: Browser,
  options: Parameters<typeof consentYoutube>[2] = {},
): Promise<URL> {
  const { url } = await startConnect(browser, 'redirect', 'youtube')
  const response = await browser.fetch('GET', await consentYoutube(app, url, options))
  assert.equal(response.statusCode, 303)
  return landing(response.headers.location)
}

test('a new user connects the demo channel: PKCE, offline consent, sealed refresh token, its videos beside Instagram’s', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const { url } = await startConnect(browser, 'redirect', 'youtube')
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256')
  assert.equal(url.searchParams.get('access_type'), 'offline')
  assert.equal(url.searchParams.get('scope'), YOUTUBE_READONLY_SCOPE)
  const [state] = await app.raw('SELECT platform, encrypted_code_verifier FROM oauth_states')
  assert.equal(state?.platform, 'youtube')
  assert.ok(state?.encrypted_code_verifier, 'the verifier is kept, encrypted, with the state')
  const done = await browser.fetch('GET', await consentYoutube(app, url))
  const target = landing(done.headers.location)
  assert.equal(target.searchParams.get('connect'), 'success')
  assert.equal(target.searchParams.get('platform'), 'youtube')
  const page = await browser.fetch('GET', `${target.pathname}${target.search}`)
  assert.match(page.body, /YouTube account connected/)
  const [row] = await app.raw("SELECT * FROM user_social_accounts WHERE platform = 'youtube'")
  const channel = app.youtube.state.accountByIndex(1)?.channel
  assert.ok(row && channel)
  assert.equal(row.platform_user_id, channel.id)
  assert.equal(row.username, channel.customUrl.replace(/^@/, ''))
  const credentials = parseSealed(app.vault.decrypt(String(row.encrypted_credentials)))
  assert.ok(credentials?.refreshToken?.startsWith('1//'), 'the refresh token is kept')
  assert.equal(Number(row.credentials_expire_at), Number(row.refresh_token_expires_at))
  assert.ok(Number(row.token_expires_at) - Number(row.token_issued_at) <= 3_600_000)

  const youtubeId = String(row.id)
  const sync = await browser.fetch('POST', `/api/socials/accounts/${youtubeId}/sync`)
  assert.equal(sync.statusCode, 200, sync.body)
  const instagramId = await connectAccount(app, browser)
  await browser.fetch('POST', `/api/socials/accounts/${instagramId}/sync`)

  const videos = await allMedia<MediaItem>(browser, '&platform=youtube')
  assert.equal(videos.length, channel.videos.length, 'every upload, private and unlisted too')
  const byId = new Map(videos.map((v) => [v.platform_media_id, v]))
  for (const video of channel.videos) {
    const item = byId.get(video.id)
    assert.ok(item, video.title)
    assert.equal(item.visibility, video.privacy)
    assert.equal(item.duration_seconds, video.durationSeconds)
    assert.equal(
      item.media_product_type,
      video.live !== 'none' ? 'LIVE' : video.short ? 'SHORTS' : 'VIDEO',
    )
  }
  assert.ok(videos.some((v) => v.media_product_type === 'SHORTS'))
  const everything = await allMedia<MediaItem>(browser)
  assert.ok(
    everything.some((m) => m.account_id === instagramId),
    'one gallery',
  )
  assert.equal(everything.filter((m) => m.account_id === youtubeId).length, videos.length)
  const instagramOnly = await allMedia<MediaItem>(browser, '&platform=instagram')
  assert.ok(instagramOnly.every((m) => m.account_id === instagramId))

  // deleted on YouTube, made private there: the next full reconciliation follows
  const [gone, hidden] = channel.videos.filter((v) => v.privacy === 'public')
  assert.ok(gone && hidden)
  app.youtube.control.removeVideo(gone.id)
  app.youtube.control.updateVideo(hidden.id, { privacy: 'private' })
  const again = await browser.fetch('POST', `/api/socials/accounts/${youtubeId}/sync`)
  assert.equal(again.json<{ removed: number }>().removed, 1, again.body)
  const after = new Map(
    (await allMedia<MediaItem>(browser, '&platform=youtube')).map((v) => [v.platform_media_id, v]),
  )
  assert.equal(after.has(gone.id), false)
  assert.equal(after.get(hidden.id)?.visibility, 'private')
})

test('an unchanged channel costs 2 quota units per routine sync; a new upload is read alone', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const id = await connectYoutube(app, browser)
  await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)
  const used = () => app.youtube.control.quota().used
  // the scheduler's routine run, an hour later
  app.clock.advance(2 * 3_600_000)
  const before = used()
  const report = await app.app.jobs.runner.runDue()
  assert.equal(report.syncs.synced, 1, JSON.stringify(report))
  assert.equal(used() - before, 2, 'channels + the newest playlist page')
  app.youtube.control.addVideo(1, { duration_seconds: 1200, title: 'Fresh upload' })
  app.clock.advance(2 * 3_600_000)
  const again = used()
  await app.app.jobs.runner.runDue()
  assert.equal(used() - again, 3, 'and the details of the one new video')
  const titles = await allMedia<MediaItem>(browser, '&platform=youtube')
  assert.equal(titles.length, (app.youtube.state.accountByIndex(1)?.channel?.videos ?? []).length)
})

test('outcomes in plain words: cancelled, scope unticked (the grant is given back), no channel', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const cancelled = await callback(app, browser, { decision: 'cancel' })
  assert.equal(cancelled.searchParams.get('reason'), 'access_denied')
  let page = await browser.fetch('GET', `${cancelled.pathname}${cancelled.search}`)
  assert.match(page.body, /You cancelled the YouTube authorization/)

  const unticked = await callback(app, browser, { granted: [] })
  assert.equal(unticked.searchParams.get('reason'), 'scope_missing')
  page = await browser.fetch('GET', `${unticked.pathname}${unticked.search}`)
  assert.match(page.body, /permission to see your YouTube account was not granted/)
  assert.match(page.body, /leave the permission .* ticked/)
  const revokes = app.youtube.control.calls().filter((c) => c.path.endsWith('/revoke'))
  assert.equal(revokes.length, 1, 'the useless grant was revoked at Google')
  assert.equal(revokes[0]?.status, 200)

  const viewer = await callback(app, browser, { account: 2 })
  assert.equal(viewer.searchParams.get('reason'), 'no_channel')
  page = await browser.fetch('GET', `${viewer.pathname}${viewer.search}`)
  assert.match(page.body, /That account has no YouTube channel/)
  assert.match(page.body, /Create a channel/, 'how to create one, from the provider')
  assert.equal(await count(app, 'user_social_accounts'), 0, 'nothing connected')
})

test('a failed code exchange says so with Google’s own (safe) words', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const { url } = await startConnect(browser, 'redirect', 'youtube')
  const done = await consentYoutube(app, url)
  app.youtube.control.addFault({ kind: 'http_5xx', count: 1, path: '/token' })
  const response = await browser.fetch('GET', done)
  const target = landing(response.headers.location)
  assert.equal(target.searchParams.get('reason'), 'token_exchange_failed')
  const page = await browser.fetch('GET', `${target.pathname}${target.search}`)
  assert.match(page.body, /Failed to exchange code for token/)
  assert.match(page.body, /YouTube is temporarily unavailable/)
  assert.equal(await count(app, 'user_social_accounts'), 0)
})

test('a 401 before the hour is up: refreshed once and the sync goes on; a second 401 needs a reconnect', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const id = await connectYoutube(app, browser)
  const [before] = await app.raw('SELECT credentials_version FROM user_social_accounts')
  app.youtube.control.expireAccessTokens()
  const sync = await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)
  assert.equal(sync.statusCode, 200, sync.body)
  const [after] = await app.raw('SELECT credentials_version FROM user_social_accounts')
  assert.ok(Number(after?.credentials_version) > Number(before?.credentials_version), 'refreshed')
  assert.ok(app.logs.some((l) => l.includes('access token refused: refreshed once')))
  // refused again right after a refresh: a reconnect, not a loop
  app.youtube.control.addFault({ kind: 'auth_error', count: 2 })
  const again = await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)
  assert.equal(again.statusCode, 409, again.body)
  assert.equal((await account(browser, id)).status, 'reauth_required')
})

test('invalid_grant about 7 days after connecting: reauth_required, and the message names "Testing"', async (t) => {
  const app = await buildTestApp(t)
  app.youtube.control.setPublishingStatus('testing')
  const browser = new Browser(app)
  await browser.register()
  const id = await connectYoutube(app, browser)
  // the session stays alive across the week (it idles out after 7 days without a request)
  app.clock.advance(4 * DAY)
  await account(browser, id)
  app.clock.advance(3 * DAY + 3 * 3_600_000)
  const sync = await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)
  assert.equal(sync.statusCode, 409, sync.body)
  const status = await account(browser, id)
  assert.equal(status.status, 'reauth_required')
  assert.match(status.status_message ?? '', /"Testing" mode/)
  assert.match(status.status_message ?? '', /In production/)
})

test('invalid_grant on refresh (revoked at Google): reauth_required; the 7-day hint only near 7 days', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const id = await connectYoutube(app, browser)
  app.youtube.control.revokeAccount(1)
  // the access token's hour is over: the sync refreshes first, and Google refuses the grant
  app.clock.advance(2 * 3_600_000)
  const sync = await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)
  assert.equal(sync.statusCode, 409, sync.body)
  const status = await account(browser, id)
  assert.equal(status.status, 'reauth_required')
  assert.match(status.status_message ?? '', /revoked or has expired/)
  assert.doesNotMatch(status.status_message ?? '', /Testing/)
})

test('a spent daily quota stops every YouTube account with one message until Pacific midnight; Instagram goes on', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const first = await connectYoutube(app, browser)
  const second = await connectYoutube(app, browser, 3)
  const instagram = await connectAccount(app, browser)
  app.youtube.control.setQuota({ used: app.youtube.control.quota().limit })
  const a = await browser.fetch('POST', `/api/socials/accounts/${first}/sync`)
  assert.equal(a.statusCode, 429, a.body)
  const b = await browser.fetch('POST', `/api/socials/accounts/${second}/sync`)
  assert.equal(b.statusCode, 429, b.body)
  for (const id of [first, second]) {
    const state = await account(browser, id)
    assert.equal(state.status, 'rate_limited')
    assert.match(state.status_message ?? '', /quota .*used up/)
    assert.match(state.status_message ?? '', /midnight Pacific time/)
  }
  // the second account never reached Google: the app-wide block held it
  const dataCalls = app.youtube.control.calls().filter((c) => c.path.includes('/youtube/v3/'))
  assert.equal(dataCalls.filter((c) => c.status === 403).length, 1)
  const ig = await browser.fetch('POST', `/api/socials/accounts/${instagram}/sync`)
  assert.equal(ig.statusCode, 200, ig.body)
})

test('disconnect revokes the grant at Google, then deletes; a revoke Google cannot take now is retried in the background', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const id = await connectYoutube(app, browser)
  const [row] = await app.raw('SELECT encrypted_credentials FROM user_social_accounts')
  const refreshToken = parseSealed(
    app.vault.decrypt(String(row?.encrypted_credentials)),
  )?.refreshToken
  assert.ok(refreshToken)
  const gone = await browser.fetch('DELETE', `/api/socials/accounts/${id}`)
  assert.equal(gone.statusCode, 204, gone.body)
  assert.equal(await count(app, 'user_social_accounts'), 0)
  // Google no longer honours the grant
  const refresh = await app.app.inject({
    method: 'POST',
    url: '/sandbox/youtube/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: app.youtube.state.settings.clientId,
      client_secret: app.youtube.state.settings.clientSecret,
    }).toString(),
  })
  assert.equal(refresh.statusCode, 400)
  assert.equal(refresh.json<{ error: string }>().error, 'invalid_grant')

  const other = await connectYoutube(app, browser)
  const [otherRow] = await app.raw('SELECT encrypted_credentials FROM user_social_accounts')
  const otherToken = parseSealed(app.vault.decrypt(String(otherRow?.encrypted_credentials)))
  assert.ok(otherToken?.refreshToken)
  // Google down twice: the disconnect's own attempt and the first retry
  app.youtube.control.addFault({ kind: 'http_5xx', count: 2, path: '/revoke' })
  const deleted = await browser.fetch('DELETE', `/api/socials/accounts/${other}`)
  assert.equal(deleted.statusCode, 204, deleted.body)
  assert.equal(await count(app, 'user_social_accounts'), 0, 'deleted here at once')
  assert.ok(app.logs.some((l) => l.includes('revocation at the platform failed')))
  const [queued] = await app.raw('SELECT * FROM pending_revocations')
  assert.ok(queued, 'the revocation is queued')
  assert.match(String(queued.encrypted_credentials), /^gAAAAA/, 'still sealed')
  for (const secret of [otherToken.accessToken, otherToken.refreshToken])
    assert.ok(!JSON.stringify(queued).includes(secret), 'no token in clear')
  const refreshWith = async (token: string) =>
    app.app.inject({
      method: 'POST',
      url: '/sandbox/youtube/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: token,
        client_id: app.youtube.state.settings.clientId,
        client_secret: app.youtube.state.settings.clientSecret,
      }).toString(),
    })
  assert.equal((await refreshWith(otherToken.refreshToken)).statusCode, 200, 'not revoked yet')
  // not due before a minute; then a failed retry, then (5 minutes later) the revocation
  assert.equal((await app.app.jobs.runner.runDue()).revocations.revoked, 0)
  app.clock.advance(61_000)
  assert.deepEqual((await app.app.jobs.runner.runDue()).revocations, {
    revoked: 0,
    retried: 1,
    dropped: 0,
  })
  app.clock.advance(5 * 60_000 + 1000)
  assert.deepEqual((await app.app.jobs.runner.runDue()).revocations, {
    revoked: 1,
    retried: 0,
    dropped: 0,
  })
  assert.equal(await count(app, 'pending_revocations'), 0)
  assert.equal((await refreshWith(otherToken.refreshToken)).statusCode, 400, 'revoked at Google')
  for (const line of app.logs)
    for (const secret of [otherToken.accessToken, otherToken.refreshToken])
      assert.ok(!line.includes(secret), 'no token in the logs')
})

test('a revocation Google refuses for good (the grant is already gone) is not queued', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const id = await connectYoutube(app, browser)
  app.youtube.control.revokeAccount(1)
  const deleted = await browser.fetch('DELETE', `/api/socials/accounts/${id}`)
  assert.equal(deleted.statusCode, 204)
  assert.equal(await count(app, 'user_social_accounts'), 0)
  assert.equal(await count(app, 'pending_revocations'), 0)
})

test('"delete all my data" gives every YouTube grant back to Google first; one Google cannot take now is queued', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  await connectYoutube(app, browser)
  await connectYoutube(app, browser, 3)
  await connectAccount(app, browser)
  const tokens = (
    await app.raw(
      "SELECT encrypted_credentials FROM user_social_accounts WHERE platform = 'youtube'",
    )
  ).map(
    (row) => parseSealed(app.vault.decrypt(String(row.encrypted_credentials)))?.refreshToken ?? '',
  )
  assert.equal(tokens.length, 2)
  app.youtube.control.addFault({ kind: 'http_5xx', count: 1, path: '/revoke' })
  const answer = await browser.fetch('DELETE', '/api/socials/data')
  assert.equal(answer.statusCode, 200, answer.body)
  assert.equal(answer.json<{ deleted_accounts: number }>().deleted_accounts, 3)
  assert.equal(await count(app, 'user_social_accounts'), 0)
  const revokes = app.youtube.control.calls().filter((c) => c.path.endsWith('/revoke'))
  assert.deepEqual(
    revokes.map((c) => c.status).sort(),
    [200, 503],
    'one revoked, one refused by an outage',
  )
  assert.equal(await count(app, 'pending_revocations'), 1, 'the refused one waits for a retry')
  app.clock.advance(61_000)
  assert.equal((await app.app.jobs.runner.runDue()).revocations.revoked, 1)
  assert.equal(await count(app, 'pending_revocations'), 0)
})
