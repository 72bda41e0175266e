/**
 * The sandbox with all four platforms: a new user connects one account of each (Instagram,
 * YouTube, TikTok, X) through its emulator's consent page, syncs each, and sees one gallery
 * holding every platform's media (each reachable by the platform filter). TikTok's signed
 * `authorization.removed` webhook revokes the matching connection; a forged one changes nothing.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Browser, allMedia, buildTestApp, connectAccount, connectOn } from '../helpers/build-app.ts'
import { tiktokSignature } from '../../src/providers/tiktok/emulator/webhook.ts'
import { TIKTOK_WEBHOOK_PATH } from '../../src/providers/tiktok/inbound.ts'

test('one account of each of the four platforms, one gallery', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const providers = (await browser.fetch('GET', '/api/socials/providers')).json<{
    providers: { platform: string; mode: string }[]
  }>().providers
  assert.deepEqual(
    providers.map((p) => [p.platform, p.mode]),
    [
      ['instagram', 'sandbox'],
      ['youtube', 'sandbox'],
      ['tiktok', 'sandbox'],
      ['x', 'sandbox'],
    ],
  )
  const ids: Record<string, string> = {
    instagram: await connectAccount(app, browser),
    youtube: await connectOn(app, browser, 'youtube'),
    tiktok: await connectOn(app, browser, 'tiktok'),
    x: await connectOn(app, browser, 'x'),
  }
  for (const [platform, id] of Object.entries(ids)) {
    const sync = await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)
    assert.equal(sync.statusCode, 200, `${platform}: ${sync.body}`)
  }
  const all = await allMedia(browser, '')
  for (const [platform, id] of Object.entries(ids)) {
    const own = await allMedia(browser, `&platform=${platform}`)
    assert.ok(own.length > 0, `${platform} has media`)
    assert.ok(
      own.every((m) => m.account_id === id),
      `${platform}: only its own`,
    )
    assert.equal(
      all.filter((m) => m.account_id === id).length,
      own.length,
      `${platform} in one gallery`,
    )
  }
})

test('TikTok’s signed authorization.removed revokes the connection; a forged or stale one changes nothing', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const id = await connectOn(app, browser, 'tiktok')
  const [row] = await app.raw('SELECT platform_user_id FROM user_social_accounts')
  const openId = String(row?.platform_user_id)
  const secret = app.config.providers.tiktok.mode === 'sandbox' ? sandboxSecret(app) : ''
  const body = JSON.stringify({
    client_key: 'sandbox',
    event: 'authorization.removed',
    create_time: Math.floor(app.clock.now() / 1000),
    user_openid: openId,
    content: JSON.stringify({ reason: 1 }),
  })
  const send = (signature: string, payload = body) =>
    app.app.inject({
      method: 'POST',
      url: TIKTOK_WEBHOOK_PATH,
      headers: { 'content-type': 'application/json', 'tiktok-signature': signature },
      payload,
    })
  const seconds = Math.floor(app.clock.now() / 1000)
  const forged = await send(tiktokSignature('not-the-secret', seconds, body))
  assert.equal(forged.statusCode, 401)
  const stale = await send(tiktokSignature(secret, seconds - 3600, body))
  assert.equal(stale.statusCode, 401)
  const tampered = await send(tiktokSignature(secret, seconds, body), body.replace(openId, 'x'))
  assert.equal(tampered.statusCode, 401)
  const status = async () => {
    const list = (await browser.fetch('GET', '/api/socials/accounts')).json<{
      accounts: { id: string; status: string }[]
    }>().accounts
    return list.find((a) => a.id === id)?.status
  }
  assert.equal(await status(), 'active')
  const genuine = await send(tiktokSignature(secret, seconds, body))
  assert.equal(genuine.statusCode, 200, genuine.body)
  assert.deepEqual(genuine.json(), { revoked: 1 })
  assert.equal(await status(), 'revoked')
  // other events are acknowledged and ignored
  const other = JSON.stringify({ event: 'video.publish.completed', user_openid: openId })
  const ignored = await send(tiktokSignature(secret, seconds, other), other)
  assert.deepEqual(ignored.json(), { ignored: true })
})

/** The client secret of the test app's TikTok sandbox (what TikTok signs its webhooks with). */
function sandboxSecret(app: Awaited<ReturnType<typeof buildTestApp>>): string {
  return app.tiktok.state.settings.clientSecret
}

test('X: a routine sync asks only for posts newer than the newest stored one (X bills every post it returns)', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const id = await connectOn(app, browser, 'x')
  assert.equal((await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)).statusCode, 200)
  const read = () => app.x.control.usage().postsRead
  const before = read()
  // the scheduler's routine run, two hours later: incremental (a full reconciliation, which
  // reads every post to find deletions, comes within a day)
  app.clock.advance(2 * 3_600_000)
  await browser.fetch('GET', '/api/socials/accounts')
  const report = await app.app.jobs.runner.runDue()
  assert.equal(report.syncs.synced, 1, JSON.stringify(report.syncs))
  // without since_id X would return (and bill) a page of 100; with it only what is newer than the
  // newest stored post — the few text-only posts after it, at most
  assert.ok(read() - before <= 5, `posts read: ${read() - before}`)
  const timeline = app.x.control
    .calls()
    .filter((c) => c.path.includes('/tweets'))
    .at(-1)
  assert.ok(timeline, 'the timeline was asked')
})

test('TikTok: signed covers (about 6 h) are re-listed before they expire, without a full listing at every run', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const id = await connectOn(app, browser, 'tiktok')
  assert.equal((await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)).statusCode, 200)
  let full = 0
  for (let quarter = 0; quarter < 4 * 12; quarter++) {
    app.clock.advance(15 * 60_000)
    if (quarter % 16 === 0) await browser.fetch('GET', '/api/socials/accounts')
    const report = await app.app.jobs.runner.runDue()
    full += report.syncs.modes.full
    const [row] = await app.raw('SELECT MIN(url_expires_at) AS t FROM media')
    assert.ok(Number(row?.t) > app.clock.now() + 30 * 60_000, `${quarter / 4} h: covers stay valid`)
  }
  // a full listing about every 4 hours (a third of the covers' life before they expire)
  assert.ok(full >= 2 && full <= 4, `full listings in 12 h: ${full}`)
})

test('the platform filter refuses a platform it does not know, in the JSON envelope', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  for (const platform of ['myspace', 'YouTube', '', 'x'.repeat(300)]) {
    const answer = await browser.fetch(
      'GET',
      `/api/socials/media?platform=${encodeURIComponent(platform)}`,
    )
    assert.equal(answer.statusCode, 400, platform)
    assert.equal(answer.json<{ error: { code: string } }>().error.code, 'ERR_VALIDATION')
  }
})

test('X: a read limit too small for a daily reconciliation says how late deletions may come, in /readyz and the jobs report', async (t) => {
  const app = await buildTestApp(t, { X_MONTHLY_POST_READ_LIMIT: '2000' })
  const browser = new Browser(app)
  await browser.register()
  const id = await connectOn(app, browser, 'x')
  assert.equal((await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)).statusCode, 200)
  app.clock.advance(2 * 3_600_000)
  const report = await app.app.jobs.runner.runDue()
  const [warning] = report.warnings
  assert.equal(warning?.platform, 'x')
  assert.match(
    warning.message,
    /posts deleted on X may stay in the gallery up to [\d.]+ (days|hours)/,
  )
  assert.match(warning.message, /Raise X_MONTHLY_POST_READ_LIMIT/)
  const ready = await app.app.inject({ method: 'GET', url: '/readyz' })
  assert.deepEqual(ready.json<{ warnings: unknown }>().warnings, report.warnings)
})

test('X: a read limit that allows a daily reconciliation: no warning', async (t) => {
  const app = await buildTestApp(t, { X_MONTHLY_POST_READ_LIMIT: '200000' })
  const browser = new Browser(app)
  await browser.register()
  const id = await connectOn(app, browser, 'x')
  assert.equal((await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)).statusCode, 200)
  app.clock.advance(2 * 3_600_000)
  const report = await app.app.jobs.runner.runDue()
  assert.deepEqual(report.warnings, [])
  const ready = await app.app.inject({ method: 'GET', url: '/readyz' })
  assert.equal(ready.json<{ warnings?: unknown }>().warnings, undefined)
})
