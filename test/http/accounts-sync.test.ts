import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Browser, buildTestApp, connectAccount, connectedApp, count } from '../helpers/build-app.ts'
import type { AccountJson, MediaJson } from '../../src/http/presenters.ts'
import type { SyncResult } from '../../src/socials/sync-service.ts'

interface ErrorBody {
  error: { code: string; message: string }
}

const connected = (t: Parameters<typeof buildTestApp>[0], userIndex = 1) =>
  connectedApp(t, {}, userIndex)

/** The answer of a full sync run, zero counts unless given. */
function fullRun(fields: Partial<SyncResult>): SyncResult {
  return {
    mode: 'full',
    added: 0,
    updated: 0,
    refreshed: 0,
    removed: 0,
    pages: 0,
    api_calls: 0,
    ...fields,
  }
}

async function sync(browser: Browser, accountId: string) {
  return browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
}

async function allMedia(browser: Browser, query = ''): Promise<MediaJson[]> {
  const items: MediaJson[] = []
  let cursor: string | null = null
  for (let i = 0; i < 50; i++) {
    const response = await browser.fetch(
      'GET',
      `/api/socials/media?limit=7${query}${cursor === null ? '' : `&cursor=${cursor}`}`,
    )
    assert.equal(response.statusCode, 200, response.body)
    const body = response.json<{ items: MediaJson[]; next_cursor: string | null }>()
    items.push(...body.items)
    cursor = body.next_cursor
    if (cursor === null) return items
  }
  throw new Error('pagination did not end')
}

test('accounts list: seed fields, no token anywhere', async (t) => {
  const { browser, accountId } = await connected(t)
  const response = await browser.fetch('GET', '/api/socials/accounts')
  assert.equal(response.statusCode, 200)
  assert.equal(response.headers['cache-control'], 'no-store')
  const body = response.json<{ accounts: AccountJson[]; sandbox: boolean }>()
  assert.equal(body.sandbox, true)
  const account = body.accounts[0]
  assert.ok(account)
  assert.equal(account.id, accountId)
  for (const field of [
    'user_id',
    'platform',
    'account_type',
    'username',
    'display_name',
    'platform_user_id',
    'instagram_user_id',
    'instagram_account_type',
    'token_expires_at',
    'is_active',
    'connected_at',
    'last_sync',
    'posts_count',
    'status',
    'profile_url',
  ]) {
    assert.ok(field in account, field)
  }
  assert.equal(account.display_name, '@sandbox_creator')
  assert.equal(account.posts_count, 48)
  assert.equal(account.instagram_user_id, account.platform_user_id, 'the same id, both names')
  assert.doesNotMatch(
    response.body,
    /encrypted_credentials|credentials_format|encrypted_access_token|access_token|gAAAAA|IGAA/,
  )
})

test('sync: first run adds everything with the minimum of Graph calls; a second run changes nothing', async (t) => {
  const { app, browser, accountId } = await connected(t)
  const first = await sync(browser, accountId)
  assert.equal(first.statusCode, 200, first.body)
  // personal data is never cached, whichever route answers
  for (const response of [
    first,
    await browser.fetch('GET', '/api/socials/media?limit=2'),
    await browser.fetch('GET', '/api/auth/me'),
  ])
    assert.equal(response.headers['cache-control'], 'no-store')
  // 48 media at 25 per page = 2 pages, plus the profile call; albums need no extra calls
  assert.deepEqual(first.json(), fullRun({ added: 48, pages: 2, api_calls: 3 }))
  const children = app.emulator.state
    .userByIndex(1)
    ?.media.reduce((n, m) => n + m.children.length, 0)
  assert.ok(children !== undefined && children > 0)
  assert.equal(await count(app, 'media'), 48 + children, 'every album child stored')
  const again = await sync(browser, accountId)
  // "Sync now" is a full reconciliation: every page, to catch deletions
  assert.deepEqual(again.json(), fullRun({ pages: 2, api_calls: 3 }))
  const account = (await browser.fetch('GET', '/api/socials/accounts')).json<{
    accounts: AccountJson[]
  }>()
  assert.equal(account.accounts[0]?.status, 'active')
  assert.ok(account.accounts[0]?.last_sync)
})

test('sync follows edits and deletions made on Instagram', async (t) => {
  const { app, browser, accountId } = await connected(t)
  await sync(browser, accountId)
  const user = app.emulator.state.userByIndex(1)
  assert.ok(user)
  const [first, second, third] = user.media
  assert.ok(first && second && third)
  first.caption = 'edited on Instagram'
  user.media = user.media.filter((m) => m.id !== second.id && m.id !== third.id)
  const response = await sync(browser, accountId)
  assert.deepEqual(response.json(), fullRun({ updated: 1, removed: 2, pages: 2, api_calls: 3 }))
  const ids = new Set(
    (await app.raw('SELECT platform_media_id FROM media WHERE parent_id IS NULL')).map(
      (r) => r.platform_media_id,
    ),
  )
  assert.equal(ids.has(second.id), false)
  assert.equal(
    (await app.raw('SELECT caption FROM media WHERE platform_media_id = ?', [first.id]))[0]
      ?.caption,
    'edited on Instagram',
  )
})

test('media API: newest first, keyset pages without gaps or repeats, albums carry their children', async (t) => {
  const { app, browser, accountId } = await connected(t)
  await sync(browser, accountId)
  const items = await allMedia(browser)
  assert.equal(items.length, 48)
  assert.equal(new Set(items.map((i) => i.id)).size, 48)
  const times = items.map((i) => Date.parse(i.timestamp))
  assert.deepEqual(
    times,
    [...times].sort((a, b) => b - a),
  )
  const album = items.find((i) => i.media_type === 'CAROUSEL_ALBUM')
  assert.ok(album)
  const source = app.emulator.state.findMedia(album.platform_media_id)
  assert.equal(album.children.length, source?.media.children.length)
  assert.ok(album.children.length >= 2)
  const video = items.find((i) => i.media_type === 'VIDEO')
  assert.ok(video?.thumbnail_url, 'videos keep their thumbnail')
  assert.equal(video.media_product_type, 'REELS')
  const filtered = await allMedia(browser, `&account_id=${accountId}`)
  assert.equal(filtered.length, 48)
  const albums = await allMedia(browser, '&media_type=CAROUSEL_ALBUM')
  assert.ok(albums.length > 0 && albums.every((m) => m.media_type === 'CAROUSEL_ALBUM'))
  assert.equal(albums.length, items.filter((m) => m.media_type === 'CAROUSEL_ALBUM').length)
})

test('media API rejects bad cursors, limits and unknown parameters with 400', async (t) => {
  const { browser } = await connected(t)
  for (const query of [
    'cursor=nonsense!',
    'cursor=WzEsMl0',
    'limit=0',
    'limit=101',
    'limit=abc',
    'foo=bar',
    'account_id=not-a-uuid',
    'limit=5&limit=6',
    'media_type=GIF',
  ]) {
    const response = await browser.fetch('GET', `/api/socials/media?${query}`)
    assert.equal(response.statusCode, 400, query)
    assert.equal(response.json<ErrorBody>().error.code, 'ERR_VALIDATION', query)
  }
})

test('another user’s account is invisible: 404 on every :id route and in media filters', async (t) => {
  const { app, browser, accountId } = await connected(t)
  await sync(browser, accountId)
  const other = new Browser(app)
  await other.register()
  const checks = [
    await other.fetch('DELETE', `/api/socials/accounts/${accountId}`),
    await other.fetch('POST', `/api/socials/accounts/${accountId}/sync`),
    await other.fetch('GET', `/api/socials/media?account_id=${accountId}`),
  ]
  for (const response of checks) {
    assert.equal(response.statusCode, 404)
    assert.equal(response.json<ErrorBody>().error.code, 'ERR_NOT_FOUND')
  }
  assert.deepEqual((await other.fetch('GET', '/api/socials/media')).json(), {
    items: [],
    next_cursor: null,
  })
  assert.deepEqual(
    (await other.fetch('GET', '/api/socials/accounts')).json<{ accounts: unknown[] }>().accounts,
    [],
  )
  assert.equal(await count(app, 'user_social_accounts'), 1)
})

test('disconnect deletes the token and all of that account’s media, and nothing else', async (t) => {
  const { app, browser, accountId } = await connected(t)
  await sync(browser, accountId)
  const second = await connectAccount(app, browser, 2)
  await sync(browser, second)
  const response = await browser.fetch('DELETE', `/api/socials/accounts/${accountId}`)
  assert.equal(response.statusCode, 204)
  assert.equal(
    (await app.raw('SELECT id FROM user_social_accounts WHERE id = ?', [accountId])).length,
    0,
  )
  assert.equal((await app.raw('SELECT id FROM media WHERE account_id = ?', [accountId])).length, 0)
  assert.equal(
    (
      await app.raw('SELECT COUNT(*) AS n FROM media WHERE account_id = ? AND parent_id IS NULL', [
        second,
      ])
    )[0]?.n,
    12,
  )
  assert.equal(
    (await browser.fetch('DELETE', `/api/socials/accounts/${accountId}`)).statusCode,
    404,
  )
})

test('manual public accounts: a profile link only, duplicates refused, never synced', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const created = await browser.fetch('POST', '/api/socials/accounts', {
    body: { platform: 'instagram', username: '@nasa' },
  })
  assert.equal(created.statusCode, 201)
  const account = created.json<{ account: AccountJson }>().account
  assert.equal(account.account_type, 'public')
  assert.equal(account.profile_url, 'https://www.instagram.com/nasa/')
  const dup = await browser.fetch('POST', '/api/socials/accounts', {
    body: { platform: 'instagram', username: 'nasa' },
  })
  assert.equal(dup.statusCode, 409)
  for (const body of [
    { platform: 'myspace', username: 'x' },
    { platform: 'instagram', username: '../../etc' },
    { platform: 'instagram' },
    { platform: 'instagram', username: 'a', extra: 1 },
  ]) {
    assert.equal(
      (await browser.fetch('POST', '/api/socials/accounts', { body })).statusCode,
      400,
      JSON.stringify(body),
    )
  }
  const syncResponse = await sync(browser, account.id)
  assert.equal(syncResponse.statusCode, 400)
  assert.match(syncResponse.json<ErrorBody>().error.message, /Public profile links are not synced/)
  assert.equal(await count(app, 'user_social_accounts'), 1)
})

test('sync failing half-way keeps the pages stored, reports a transient error, and the next sync completes', async (t) => {
  const { app, browser, accountId } = await connected(t)
  // the profile call and page 1 succeed, page 2 fails with a 500
  app.emulator.state.faults.push({ kind: 'http_5xx', count: 1, path: '/17841457215396812/media' })
  const failed = await sync(browser, accountId)
  assert.equal(failed.statusCode, 503)
  assert.equal(failed.json<ErrorBody>().error.code, 'ERR_PROVIDER_UNAVAILABLE')
  assert.ok(failed.headers['retry-after'])
  assert.equal(
    (await app.raw('SELECT COUNT(*) AS n FROM media WHERE parent_id IS NULL'))[0]?.n,
    25,
    'page 1 kept',
  )
  const status = (
    await app.raw('SELECT status, status_message, last_sync FROM user_social_accounts')
  )[0]
  assert.equal(status?.status, 'degraded')
  assert.match(String(status?.status_message), /temporarily unavailable/)
  assert.equal(status?.last_sync, null)
  const retry = await sync(browser, accountId)
  // resumed after page 1 from the stored cursor: the profile and page 2 only
  assert.deepEqual(retry.json(), fullRun({ mode: 'resume', added: 23, pages: 1, api_calls: 2 }))
  assert.equal(
    (await app.raw('SELECT COUNT(*) AS n FROM media WHERE parent_id IS NULL'))[0]?.n,
    48,
    'no duplicates, nothing lost',
  )
})

test('sync: code 190 marks the account reauth_required (needs reconnect), keeps its media', async (t) => {
  for (const subcode of [460, 463]) {
    const { app, browser, accountId } = await connected(t)
    await sync(browser, accountId)
    app.emulator.state.faults.push({
      kind: 'graph_error',
      code: 190,
      subcode,
      message: 'Error validating access token',
      count: 1,
    })
    const response = await sync(browser, accountId)
    assert.equal(response.statusCode, 409)
    assert.equal(response.json<ErrorBody>().error.code, 'ERR_REAUTH_REQUIRED')
    const account = (await browser.fetch('GET', '/api/socials/accounts')).json<{
      accounts: AccountJson[]
    }>().accounts[0]
    assert.equal(account?.status, 'reauth_required')
    assert.equal(account.needs_reconnect, true)
    assert.equal(
      (await app.raw('SELECT COUNT(*) AS n FROM media WHERE parent_id IS NULL'))[0]?.n,
      48,
    )
    // reconnecting the same account makes it active again and keeps its gallery
    await connectAccount(app, browser)
    assert.equal((await app.raw('SELECT status FROM user_social_accounts'))[0]?.status, 'active')
    assert.equal(
      (await app.raw('SELECT COUNT(*) AS n FROM media WHERE parent_id IS NULL'))[0]?.n,
      48,
    )
  }
})

test('sync: throttling codes answer 429 with Retry-After from the usage header', async (t) => {
  for (const code of [4, 17, 32, 613, 80002] as const) {
    const { app, browser, accountId } = await connected(t)
    app.emulator.state.faults.push({ kind: 'throttle', code, count: 1, minutes: 7 })
    const response = await sync(browser, accountId)
    assert.equal(response.statusCode, 429, String(code))
    assert.equal(response.json<ErrorBody>().error.code, 'ERR_RATE_LIMITED')
    assert.equal(response.headers['retry-after'], '420')
    assert.equal(
      (await app.raw('SELECT status FROM user_social_accounts'))[0]?.status,
      'rate_limited',
    )
  }
})

test(
  'sync: an Instagram that does not answer in time is a transient failure',
  { timeout: 20_000 },
  async (t) => {
    const { app, browser, accountId } = await connected(t)
    app.emulator.state.faults.push({ kind: 'timeout', count: 1, hang_ms: 2000 })
    const started = Date.now()
    const response = await sync(browser, accountId)
    assert.equal(response.statusCode, 503)
    assert.match(response.json<ErrorBody>().error.message, /timed out/)
    assert.ok(Date.now() - started < 1900, 'gave up at the client timeout')
    assert.equal((await app.raw('SELECT status FROM user_social_accounts'))[0]?.status, 'degraded')
  },
)

test('sync of an expired token asks for a reconnect without calling Instagram', async (t) => {
  const { app, browser, accountId, email } = await connected(t)
  app.clock.advance(61 * 86_400_000)
  const login = await browser.fetch('POST', '/api/auth/login', {
    body: { email, password: 'correct horse battery' },
  })
  assert.equal(login.statusCode, 200)
  const before = app.emulator.state.calls.length
  const response = await sync(browser, accountId)
  assert.equal(response.statusCode, 409)
  assert.match(response.json<ErrorBody>().error.message, /expired/)
  assert.equal(app.emulator.state.calls.length, before)
  assert.equal(
    (await app.raw('SELECT status FROM user_social_accounts'))[0]?.status,
    'reauth_required',
  )
})

test('concurrent sync requests for one account share one run', async (t) => {
  const { app, browser, accountId } = await connected(t)
  const before = app.emulator.state.calls.length
  const results = await Promise.all([
    sync(browser, accountId),
    sync(browser, accountId),
    sync(browser, accountId),
  ])
  for (const r of results)
    assert.deepEqual(r.json(), fullRun({ added: 48, pages: 2, api_calls: 3 }))
  assert.equal(app.emulator.state.calls.length - before, 3)
})
