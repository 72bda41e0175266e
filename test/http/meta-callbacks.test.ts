import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Browser, buildTestApp, connectAccount, count, type TestApp } from '../helpers/build-app.ts'
import { signRequest, verifySignedRequest } from '../../src/providers/instagram/signed-request.ts'
import { createHmac } from 'node:crypto'

const DEAUTH = '/api/socials/oauth/instagram/deauthorize'
const DELETION = '/api/socials/oauth/instagram/data-deletion'
const IG_USER = '17841457215396812' // sandbox_creator's professional id
const IG_SCOPED = '27281358591558846' // and its app-scoped id

function post(app: TestApp, url: string, form: string) {
  return app.request({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form,
  })
}
function signed(app: TestApp, payload: Record<string, unknown>): string {
  return `signed_request=${encodeURIComponent(signRequest(payload, app.emulator.state.settings.clientSecret))}`
}
async function connected(t: Parameters<typeof buildTestApp>[0]) {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const accountId = await connectAccount(app, browser)
  await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
  return { app, browser, accountId }
}

test('signed_request: the SDK vector shape, padding on either part, and strict decoding', () => {
  const secret = 'app-secret'
  // PHP's SDK keeps the '=' padding: pick a payload whose encoding has some
  let body = ''
  for (let pad = ''; !body.endsWith('='); pad += 'x') {
    const payload = { algorithm: 'HMAC-SHA256', user_id: '218471', issued_at: 1291836800, pad }
    body = Buffer.from(JSON.stringify(payload)).toString('base64')
  }
  const padded = body.replace(/\+/g, '-').replace(/\//g, '_')
  // the HMAC is over the payload segment exactly as received, padding included
  const sig = createHmac('sha256', secret).update(padded).digest('base64url')
  assert.deepEqual(verifySignedRequest(`${sig}.${padded}`, secret), {
    userId: '218471',
    issuedAt: 1291836800,
  })
  assert.throws(
    () => verifySignedRequest(`${sig}.${padded.replace(/=+$/, '')}`, secret),
    /Invalid signed_request/,
    'another segment, another signature',
  )
})

test('deauthorize: valid request revokes the account and deletes its token; reconnect restores it', async (t) => {
  const { app, browser, accountId } = await connected(t)
  const response = await post(
    app,
    DEAUTH,
    signed(app, { algorithm: 'HMAC-SHA256', user_id: IG_SCOPED, issued_at: 1 }),
  )
  assert.equal(response.statusCode, 200)
  const row = (
    await app.raw(
      'SELECT status, encrypted_access_token, token_expires_at FROM user_social_accounts',
    )
  )[0]
  assert.deepEqual(row, { status: 'revoked', encrypted_access_token: null, token_expires_at: null })
  assert.ok((await count(app, 'media')) > 0, 'the gallery is kept until the user decides')
  const account = (await browser.fetch('GET', '/api/socials/accounts')).json<{
    accounts: { status: string; needs_reconnect: boolean }[]
  }>().accounts[0]
  assert.deepEqual([account?.status, account?.needs_reconnect], ['revoked', true])
  const sync = await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
  assert.equal(sync.statusCode, 409)
  assert.equal((await app.raw('SELECT status FROM user_social_accounts'))[0]?.status, 'revoked')
  // a replay is harmless: 200, nothing more changes
  const replay = await post(
    app,
    DEAUTH,
    signed(app, { algorithm: 'HMAC-SHA256', user_id: IG_USER }),
  )
  assert.equal(replay.statusCode, 200)
  assert.deepEqual(replay.json(), { revoked: 0 })
  assert.equal(await connectAccount(app, browser), accountId)
  assert.equal((await app.raw('SELECT status FROM user_social_accounts'))[0]?.status, 'active')
})

test('bad signed_request values answer 400, change nothing and are not logged', async (t) => {
  const { app } = await connected(t)
  const before = JSON.stringify(await app.raw('SELECT * FROM user_social_accounts'))
  const secret = app.emulator.state.settings.clientSecret
  const good = signRequest({ algorithm: 'HMAC-SHA256', user_id: IG_USER }, secret)
  const [sig = '', payload = ''] = good.split('.')
  const cases: Record<string, string> = {
    forged: `signed_request=${signRequest({ algorithm: 'HMAC-SHA256', user_id: IG_USER }, 'not-the-secret')}`,
    'tampered payload': `signed_request=${sig}.${Buffer.from(JSON.stringify({ algorithm: 'HMAC-SHA256', user_id: '1' })).toString('base64url')}`,
    'no dot': `signed_request=${sig}${payload}`,
    'three parts': `signed_request=${good}.x`,
    'bad base64': `signed_request=%25%25%25.${payload}`,
    'not json': signed(app, { x: 1 }).replace(/\.[^.]+$/, '.bm90IGpzb24'),
    'wrong algorithm': signed(app, { algorithm: 'HMAC-SHA1', user_id: IG_USER }),
    'numeric user_id': signed(app, { algorithm: 'HMAC-SHA256', user_id: 17841457215396812 }),
    'missing user_id': signed(app, { algorithm: 'HMAC-SHA256' }),
    missing: 'other=1',
    oversized: `signed_request=${'A'.repeat(5000)}.${payload}`,
    repeated: `signed_request=${good}&signed_request=${good}`,
  }
  for (const [name, form] of Object.entries(cases)) {
    for (const url of [DEAUTH, DELETION]) {
      const response = await post(app, url, form)
      assert.equal(response.statusCode, 400, `${name} ${url}`)
      assert.equal(response.json<{ error: { code: string } }>().error.code, 'ERR_VALIDATION')
    }
  }
  const huge = await post(app, DEAUTH, `signed_request=${'A'.repeat(20_000)}`)
  assert.equal(huge.statusCode, 413)
  assert.equal(JSON.stringify(await app.raw('SELECT * FROM user_social_accounts')), before)
  assert.equal(await count(app, 'data_deletion_requests'), 0)
  const logs = app.logs.join('\n')
  assert.equal(logs.includes(sig), false, 'signed_request never logged')
  assert.match(logs, /deauthorize callback refused/)
})

test('data deletion: everything for that Instagram user goes; Meta gets a status URL and a stable code', async (t) => {
  const { app } = await connected(t)
  const other = new Browser(app)
  await other.register()
  await connectAccount(app, other, 2)
  const response = await post(
    app,
    DELETION,
    signed(app, { algorithm: 'HMAC-SHA256', user_id: IG_USER, issued_at: 1, expires: 2 }),
  )
  assert.equal(response.statusCode, 200)
  const body = response.json<{ url: string; confirmation_code: string }>()
  assert.match(body.confirmation_code, /^[A-Z0-9]{16}$/)
  assert.equal(body.url, `${app.config.publicUrl}/data-deletion/${body.confirmation_code}`)
  assert.equal(
    (
      await app.raw('SELECT COUNT(*) AS n FROM user_social_accounts WHERE instagram_user_id = ?', [
        IG_USER,
      ])
    )[0]?.n,
    0,
  )
  assert.equal(
    await count(app, 'user_social_accounts'),
    1,
    "the other Instagram user's account stays",
  )
  assert.equal(
    (
      await app.raw(
        'SELECT COUNT(*) AS n FROM media m JOIN user_social_accounts a ON a.id = m.account_id',
      )
    )[0]?.n,
    await count(app, 'media'),
    'no orphan media',
  )
  const again = await post(
    app,
    DELETION,
    signed(app, { algorithm: 'HMAC-SHA256', user_id: IG_USER }),
  )
  assert.equal(
    again.json<{ confirmation_code: string }>().confirmation_code,
    body.confirmation_code,
  )
  const page = await app.request({ method: 'GET', url: new URL(body.url).pathname })
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /completed/)
  assert.equal(
    (await app.request({ method: 'GET', url: '/data-deletion/ZZZZZZZZZZZZZZZZ' })).statusCode,
    404,
  )
  assert.equal(
    (await app.request({ method: 'GET', url: '/data-deletion/%3Cscript%3E' })).body.includes(
      '<script>',
    ),
    false,
  )
})

test('a user can delete all their own social data (and only theirs)', async (t) => {
  const { app, browser } = await connected(t)
  const other = new Browser(app)
  await other.register()
  await connectAccount(app, other, 2)
  assert.equal(
    (await browser.fetch('DELETE', '/api/socials/data', { origin: 'https://evil.example' }))
      .statusCode,
    403,
  )
  const response = await browser.fetch('DELETE', '/api/socials/data')
  assert.deepEqual(response.json(), { deleted_accounts: 1 })
  assert.equal(await count(app, 'user_social_accounts'), 1)
  assert.deepEqual((await browser.fetch('GET', '/api/socials/media')).json(), {
    items: [],
    next_cursor: null,
  })
})

test('callbacks in production without Instagram credentials answer 503', async (t) => {
  const app = await buildTestApp(t, {
    NODE_ENV: 'production',
    PUBLIC_URL: 'https://gallery.example',
  })
  const response = await post(
    app,
    DEAUTH,
    `signed_request=${signRequest({ algorithm: 'HMAC-SHA256', user_id: '1' }, 'x')}`,
  )
  assert.equal(response.statusCode, 503)
  assert.equal(response.json<{ error: { code: string } }>().error.code, 'ERR_NOT_CONFIGURED')
})
