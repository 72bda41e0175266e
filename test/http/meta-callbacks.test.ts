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
/** A signed_request form as Meta sends it: `issued_at` is now on the app's clock unless given. */
function signed(app: TestApp, payload: Record<string, unknown>): string {
  const dated = { issued_at: Math.floor(app.clock.now() / 1000), ...payload }
  return `signed_request=${encodeURIComponent(signRequest(dated, app.emulator.state.settings.clientSecret))}`
}
/** A genuine signed_request of `sandbox_creator`, issued now. */
const genuineSignedRequest = (app: TestApp): string =>
  signRequest(
    { algorithm: 'HMAC-SHA256', user_id: IG_USER, issued_at: Math.floor(app.clock.now() / 1000) },
    app.emulator.state.settings.clientSecret,
  )
/** Every account row, with its jobs' state, as one string, to compare before and after. */
const accountRows = async (app: TestApp): Promise<string> =>
  JSON.stringify(await app.raw('SELECT * FROM social_accounts_with_jobs'))
const accountStatus = async (app: TestApp) =>
  (await app.raw('SELECT status FROM user_social_accounts'))[0]?.status
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
  const then = 1291836800_000 + 1000 // when the vector was made: freshness is judged on that clock
  assert.deepEqual(verifySignedRequest(`${sig}.${padded}`, secret, then), {
    userId: '218471',
    issuedAt: 1291836800,
  })
  assert.throws(
    () => verifySignedRequest(`${sig}.${padded.replace(/=+$/, '')}`, secret, then),
    /Invalid signed_request/,
    'another segment, another signature',
  )
})

test('deauthorize: valid request revokes the account and deletes its token; reconnect restores it', async (t) => {
  const { app, browser, accountId } = await connected(t)
  const response = await post(
    app,
    DEAUTH,
    signed(app, { algorithm: 'HMAC-SHA256', user_id: IG_SCOPED }),
  )
  assert.equal(response.statusCode, 200)
  const row = (
    await app.raw(
      'SELECT status, encrypted_credentials, token_expires_at, credentials_expire_at FROM user_social_accounts',
    )
  )[0]
  assert.deepEqual(row, {
    status: 'revoked',
    encrypted_credentials: null,
    token_expires_at: null,
    credentials_expire_at: null,
  })
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
  const before = await accountRows(app)
  const good = genuineSignedRequest(app)
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
  assert.equal(await accountRows(app), before)
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
    signed(app, {
      algorithm: 'HMAC-SHA256',
      user_id: IG_USER,
      expires: Math.floor(app.clock.now() / 1000) + 3600,
    }),
  )
  assert.equal(response.statusCode, 200)
  const body = response.json<{ url: string; confirmation_code: string }>()
  assert.match(body.confirmation_code, /^[A-Z0-9]{16}$/)
  assert.equal(body.url, `${app.config.publicUrl}/data-deletion/${body.confirmation_code}`)
  assert.equal(
    (
      await app.raw('SELECT COUNT(*) AS n FROM user_social_accounts WHERE platform_user_id = ?', [
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

test('a stale, future or undated signed_request answers 400 saying why; nothing is revoked or deleted (F6)', async (t) => {
  const { app } = await connected(t)
  const before = await accountRows(app)
  const media = await count(app, 'media')
  const secret = app.emulator.state.settings.clientSecret
  const nowS = Math.floor(app.clock.now() / 1000)
  const cases: [string, string, RegExp][] = [
    [
      'dated 2010-01-01 (the red team’s captured request)',
      signed(app, { algorithm: 'HMAC-SHA256', user_id: IG_USER, issued_at: 1262304000 }),
      /^signed_request is too old \(issued more than 5 minutes ago\)$/,
    ],
    [
      'six minutes old',
      signed(app, { algorithm: 'HMAC-SHA256', user_id: IG_USER, issued_at: nowS - 360 }),
      /^signed_request is too old/,
    ],
    [
      'two minutes ahead',
      signed(app, { algorithm: 'HMAC-SHA256', user_id: IG_USER, issued_at: nowS + 120 }),
      /^signed_request is dated in the future \(more than 60 seconds ahead of this server's clock\)$/,
    ],
    [
      'no issued_at',
      `signed_request=${signRequest({ algorithm: 'HMAC-SHA256', user_id: IG_USER }, secret)}`,
      /^signed_request has no issued_at time/,
    ],
    [
      'issued_at as a string',
      signed(app, { algorithm: 'HMAC-SHA256', user_id: IG_USER, issued_at: String(nowS) }),
      /^signed_request has no issued_at time/,
    ],
  ]
  for (const [name, form, message] of cases) {
    for (const url of [DEAUTH, DELETION]) {
      const response = await post(app, url, form)
      assert.equal(response.statusCode, 400, `${name} ${url}`)
      const error = response.json<{ error: { code: string; message: string } }>().error
      assert.equal(error.code, 'ERR_VALIDATION')
      assert.match(error.message, message, `${name} ${url}`)
      const value = decodeURIComponent(form.replace(/^signed_request=/, ''))
      assert.equal(response.body.includes(value.split('.')[0] ?? ''), false, 'never echoed')
    }
  }
  assert.equal(await accountRows(app), before)
  assert.equal(await count(app, 'media'), media)
  assert.equal(await count(app, 'data_deletion_requests'), 0)
  assert.match(app.logs.join('\n'), /"reason":"signed_request is too old[^"]*".*callback refused/)

  // the same request, dated now, is honoured
  const fresh = await post(app, DEAUTH, signed(app, { algorithm: 'HMAC-SHA256', user_id: IG_USER }))
  assert.equal(fresh.statusCode, 200)
  assert.deepEqual(fresh.json(), { revoked: 1 })
})

test('a captured deauthorize replayed after the user reconnected: refused once its 5 minutes are over (F6)', async (t) => {
  const { app, browser, accountId } = await connected(t)
  const captured = signed(app, { algorithm: 'HMAC-SHA256', user_id: IG_SCOPED })
  assert.deepEqual((await post(app, DEAUTH, captured)).json(), { revoked: 1 })
  assert.equal(await connectAccount(app, browser), accountId)
  assert.equal(await accountStatus(app), 'active')

  // Within its 5 minutes a replay is still honoured: no memory of seen requests is kept (the
  // window is the defence, and a replay needs a request captured off Meta's TLS connection).
  app.clock.advance(60_000)
  assert.deepEqual((await post(app, DEAUTH, captured)).json(), { revoked: 1 })
  assert.equal(await connectAccount(app, browser), accountId)

  // after the window: refused, the new connection stands, and so does its token
  app.clock.advance(4 * 60_000 + 1000)
  const replay = await post(app, DEAUTH, captured)
  assert.equal(replay.statusCode, 400)
  assert.match(replay.json<{ error: { message: string } }>().error.message, /too old/)
  const row = (await app.raw('SELECT status, encrypted_credentials FROM user_social_accounts'))[0]
  assert.equal(row?.status, 'active')
  assert.notEqual(row?.encrypted_credentials, null)
  const deletion = await post(app, DELETION, captured)
  assert.equal(deletion.statusCode, 400, 'nor can it be replayed as a data-deletion request')
  assert.equal(await count(app, 'user_social_accounts'), 1)
})

test('other spellings of a genuine signed_request are refused: flipped low bits, bad padding (F10)', async (t) => {
  const { app } = await connected(t)
  const before = await accountRows(app)
  const genuine = genuineSignedRequest(app)
  const [signature = '', payload = ''] = genuine.split('.')
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const last = alphabet.indexOf(signature.at(-1) ?? '')
  const flipped = [1, 2, 3].map((low) => `${signature.slice(0, -1)}${alphabet[last ^ low]}`)
  for (const spelling of [...flipped, `${signature}==`, `${signature.slice(0, -1)}=`])
    for (const url of [DEAUTH, DELETION]) {
      const form = `signed_request=${encodeURIComponent(`${spelling}.${payload}`)}`
      const response = await post(app, url, form)
      assert.equal(response.statusCode, 400, `${spelling} ${url}`)
      assert.equal(
        response.json<{ error: { message: string } }>().error.message,
        'Invalid signed_request',
      )
    }
  assert.equal(await accountRows(app), before)
  assert.equal(await count(app, 'data_deletion_requests'), 0)
  // exact padding is a spelling Meta's tooling writes (the PHP SDK): still accepted
  const padded = await post(
    app,
    DEAUTH,
    `signed_request=${encodeURIComponent(`${signature}=.${payload}`)}`,
  )
  assert.deepEqual(padded.json(), { revoked: 1 })
})
