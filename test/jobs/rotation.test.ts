/**
 * Rotating refresh tokens (TikTok's and X's: each refresh answers a new refresh token and the one
 * sent stops working at once) through the whole app, on SQLite and PostgreSQL: two instances on
 * one database, their schedulers and "Sync now" on both refreshing the same accounts at once,
 * against the sandboxes' emulators (which refuse a spent refresh token, so any reuse shows in
 * their call logs); and a refresh whose answer was lost (the emulator rotated, the app never saw
 * the new token): `reauth_required` with a message saying to connect again, never a silent
 * `active` with dead credentials; when another instance did store newer credentials, the
 * refusal is absorbed.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import {
  Browser,
  buildTestApp,
  connectOn,
  testClockStart,
  writeRaw,
  type TestApp,
} from '../helpers/build-app.ts'
import { DAY, HOUR } from '../helpers/jobs.ts'
import {
  ACCOUNT_COLUMNS,
  storedAccount,
  tiktokGeneration,
  tiktokVerdict,
  xVerdict,
  type StoredAccount,
} from '../helpers/rotation.ts'
import { createRefresher } from '../../src/socials/refresher.ts'
import { createTiktokClient, REFRESH_REFUSED_MESSAGE } from '../../src/providers/tiktok/client.ts'
import { sandboxTiktokEndpoints } from '../../src/providers/tiktok/sandbox.ts'
import { createInjectFetch } from '../../src/providers/emulator-core/inject-fetch.ts'

/** Accounts per platform (one person each connects one TikTok and one X account). */
const N = 10
const TIKTOK_TOKEN = '/v2/oauth/token/'
const X_TOKEN = '/2/oauth2/token'

interface Person {
  readonly onA: Browser
  readonly onB: Browser
  readonly tiktok: string
  readonly x: string
}

/** Two instances on one database (and one clock and one set of emulators), `people` connected. */
async function fleet(t: TestContext, people: number) {
  const a = await buildTestApp(t, {}, { clockStart: testClockStart() })
  const b = await buildTestApp(t, {}, { share: a })
  const persons: Person[] = []
  for (let i = 0; i < people; i++) {
    const onA = new Browser(a)
    await onA.register()
    const tiktok = await connectOn(a, onA, 'tiktok')
    const x = await connectOn(a, onA, 'x')
    const onB = new Browser(b)
    for (const [name, value] of onA.cookies) onB.cookies.set(name, value)
    persons.push({ onA, onB, tiktok, x })
  }
  return { a, b, persons }
}

async function accounts(app: TestApp): Promise<StoredAccount[]> {
  const rows = await app.raw(`SELECT ${ACCOUNT_COLUMNS} FROM user_social_accounts ORDER BY id`)
  return rows.map((row) => storedAccount(app.vault, row))
}

/** Token-endpoint calls of both emulators since `since` (an index into each call log). */
function tokenCalls(app: TestApp, since: { tiktok: number; x: number }) {
  const tiktok = app.tiktok.state.calls
    .slice(since.tiktok)
    .filter((c) => c.path.endsWith(TIKTOK_TOKEN))
  const x = app.x.state.calls.slice(since.x).filter((c) => c.path.endsWith(X_TOKEN))
  return { tiktok, x }
}

const mark = (app: TestApp) => ({
  tiktok: app.tiktok.state.calls.length,
  x: app.x.state.calls.length,
})

/** Every stored refresh token is the one its emulator takes now. */
function verdicts(app: TestApp, stored: readonly StoredAccount[]): string[] {
  return stored.map((account) => {
    const token = account.credentials?.refreshToken ?? ''
    return account.platform === 'tiktok'
      ? tiktokVerdict(app.tiktok.state, token)
      : xVerdict(app.x.state, token)
  })
}

/** "Sync now" answers: 200, or 409 ERR_CONFLICT while the other instance syncs that account. */
const unexpected = (answers: readonly { statusCode: number; body: string }[]) =>
  answers.filter((r) => r.statusCode !== 200 && !r.body.includes('"ERR_CONFLICT"'))

/** Everything at once: both schedulers, and "Sync now" of every account on both instances. */
async function stampede(a: TestApp, b: TestApp, persons: readonly Person[]) {
  const syncNow = persons.flatMap((p) =>
    [p.tiktok, p.x].flatMap((id) => [
      p.onA.fetch('POST', `/api/socials/accounts/${id}/sync`),
      p.onB.fetch('POST', `/api/socials/accounts/${id}/sync`),
    ]),
  )
  const [reportA, reportB, ...answers] = await Promise.all([
    a.app.jobs.runner.runDue(),
    b.app.jobs.runner.runDue(),
    ...syncNow,
  ])
  return { reportA, reportB, answers }
}

test(`two instances' schedulers and "Sync now" on both, ${N} TikTok + ${N} X accounts, access tokens dead: one refresh per account per expiry, no spent refresh token presented, all healthy`, async (t) => {
  const started = Date.now()
  const { a, b, persons } = await fleet(t, N)
  const before = await accounts(a)
  assert.equal(before.length, 2 * N)
  assert.deepEqual(new Set(verdicts(a, before)), new Set(['current']))
  // the token endpoints answer slowly: refreshes overlap the other workers' attempts
  a.tiktok.control.addFault({ kind: 'latency', ms: 120, count: 100, path: TIKTOK_TOKEN })
  a.x.control.addFault({ kind: 'latency', ms: 120, count: 100, path: X_TOKEN })

  // expiry 1: time passes the 2-hour access tokens (both sides see them dead); the scheduler's
  // renewal is due too (the connection's end, as a refresh token near its end would make it)
  a.clock.advance(2 * HOUR + 10 * 60_000)
  await writeRaw(a, 'UPDATE user_social_accounts SET credentials_expire_at = ?', [
    a.clock.now() + DAY,
  ])
  let since = mark(a)
  const first = await stampede(a, b, persons)
  const statuses = first.answers.map((r) => r.statusCode)
  assert.deepEqual(
    unexpected(first.answers).map((r) => r.body),
    [],
    '"Sync now" answers 200, or 409 while the other instance syncs',
  )
  let calls = tokenCalls(a, since)
  const refused1 = [...calls.tiktok, ...calls.x].filter((c) => c.status !== 200)
  assert.equal(refused1.length, 0, 'no refresh presented a spent refresh token')
  assert.equal(calls.tiktok.length, N, 'one TikTok refresh per account')
  assert.equal(calls.x.length, N, 'one X refresh per account')
  const after1 = await accounts(a)
  assert.deepEqual(
    after1.map((s) => s.status),
    after1.map(() => 'active'),
    after1.map((s) => `${s.platform}: ${s.status} ${s.message}`).join('\n'),
  )
  assert.deepEqual(new Set(verdicts(a, after1)), new Set(['current']), 'what is stored is current')
  for (const [i, account] of after1.entries()) {
    const old = before[i]
    assert.equal(account.id, old?.id)
    assert.notEqual(account.credentials?.refreshToken, old?.credentials?.refreshToken)
    assert.equal(account.version, (old?.version ?? 0) + 1, 'one new version per account')
    if (account.platform === 'tiktok')
      assert.equal(
        tiktokGeneration(a.tiktok.state, account.credentials?.refreshToken ?? ''),
        2,
        'the grant was refreshed exactly once',
      )
  }
  const renewedByScheduler = first.reportA.renewals.renewed + first.reportB.renewals.renewed
  const syncedByScheduler = first.reportA.syncs.synced + first.reportB.syncs.synced
  const syncNowOk = statuses.filter((s) => s === 200).length

  // expiry 2: the platforms refuse the access tokens before their time (a 401 with a token that
  // should still work): the one refresh after a 401, from both instances at once
  a.clock.advance(61 * 60_000) // syncs due again, access tokens still inside their lifetime
  a.tiktok.control.expireAccessTokens()
  a.x.control.expireAccessTokens()
  a.tiktok.control.addFault({ kind: 'latency', ms: 120, count: 100, path: TIKTOK_TOKEN })
  a.x.control.addFault({ kind: 'latency', ms: 120, count: 100, path: X_TOKEN })
  since = mark(a)
  const second = await stampede(a, b, persons)
  assert.deepEqual(
    unexpected(second.answers).map((r) => r.body),
    [],
  )
  calls = tokenCalls(a, since)
  assert.equal([...calls.tiktok, ...calls.x].filter((c) => c.status !== 200).length, 0)
  assert.equal(calls.tiktok.length, N, 'one TikTok refresh per account after the 401s')
  assert.equal(calls.x.length, N, 'one X refresh per account after the 401s')
  const after2 = await accounts(a)
  assert.deepEqual(new Set(after2.map((s) => s.status)), new Set(['active']))
  assert.deepEqual(new Set(verdicts(a, after2)), new Set(['current']))
  for (const [i, account] of after2.entries())
    assert.equal(account.version, (after1[i]?.version ?? 0) + 1)

  // the credentials work: a further sync of every account succeeds without refreshing
  a.tiktok.state.faults = []
  a.x.state.faults = []
  since = mark(a)
  const further = await Promise.all(
    persons.flatMap((p) =>
      [p.tiktok, p.x].map((id) => p.onB.fetch('POST', `/api/socials/accounts/${id}/sync`)),
    ),
  )
  assert.deepEqual(
    further.map((r) => r.statusCode),
    further.map(() => 200),
    further.map((r) => r.body).join(' | '),
  )
  calls = tokenCalls(a, since)
  assert.equal(calls.tiktok.length + calls.x.length, 0, 'no refresh needed')
  const final = await accounts(a)
  assert.deepEqual(new Set(final.map((s) => s.status)), new Set(['active']))
  t.diagnostic(
    `expiry 1: ${syncNowOk}/${statuses.length} "Sync now" ran (others 409), scheduler renewed ${renewedByScheduler} and synced ${syncedByScheduler}; ` +
      `refreshes per expiry: ${N} TikTok + ${N} X, 0 refused; ${Date.now() - started} ms`,
  )
})

/** The app's stored refresh token, spent behind its back: the refresh whose answer was lost. */
async function rotateBehindTheAppsBack(app: TestApp, platform: 'tiktok' | 'x', token: string) {
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token })
  if (platform === 'tiktok') {
    form.set('client_key', app.tiktok.state.settings.clientKey)
    form.set('client_secret', app.tiktok.state.settings.clientSecret)
  }
  const basic = Buffer.from(
    `${app.x.state.settings.clientId}:${app.x.state.settings.clientSecret}`,
  ).toString('base64')
  const response = await app.app.inject({
    method: 'POST',
    url: platform === 'tiktok' ? `/sandbox/tiktok${TIKTOK_TOKEN}` : `/sandbox/x${X_TOKEN}`,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(platform === 'x' ? { authorization: `Basic ${basic}` } : {}),
    },
    payload: form.toString(),
  })
  assert.equal(response.statusCode, 200, response.body)
  // the answer (the new tokens) is dropped: nobody stores it
}

for (const platform of ['tiktok', 'x'] as const) {
  test(`${platform}: a refresh whose answer was lost: invalid_grant, nothing newer stored → reauth_required saying to connect again, never active with dead credentials`, async (t) => {
    const { a, b, persons } = await fleet(t, 1)
    const person = persons[0]
    assert.ok(person !== undefined, 'one person')
    const id = platform === 'tiktok' ? person.tiktok : person.x
    const [before] = (await accounts(a)).filter((s) => s.id === id)
    assert.ok(before?.credentials?.refreshToken, 'a refresh token is stored')
    await rotateBehindTheAppsBack(a, platform, before.credentials.refreshToken)
    a.clock.advance(2 * HOUR + 10 * 60_000) // the access token is dead: the next call refreshes
    const since = mark(a)
    // the retried refresh, from both instances at once
    const [onA, onB] = await Promise.all([
      person.onA.fetch('POST', `/api/socials/accounts/${id}/sync`),
      person.onB.fetch('POST', `/api/socials/accounts/${id}/sync`),
    ])
    const answered = [onA, onB].filter((r) => !r.body.includes('ERR_CONFLICT'))
    assert.ok(answered.length >= 1, `one sync ran: ${onA.body} | ${onB.body}`)
    for (const r of answered) assert.notEqual(r.statusCode, 200, r.body)
    const calls = tokenCalls(a, since)
    const presented = platform === 'tiktok' ? calls.tiktok : calls.x
    assert.equal(presented.length, 1, 'the spent refresh token was presented once, not retried')
    assert.equal(presented[0]?.status, 400)
    const [after] = (await accounts(a)).filter((s) => s.id === id)
    assert.equal(after?.status, 'reauth_required')
    assert.match(after.message ?? '', /connect (TikTok|the account) again|reconnect the account/)
    if (platform === 'tiktok') assert.equal(after.message, REFRESH_REFUSED_MESSAGE)
    assert.equal(after.version, before.version, 'nothing was written over the credentials')
    // what "Sync now" answered says the same
    const error = answered[0]?.json<{ error: { code: string; message: string } }>().error
    assert.equal(error?.message, after.message)
    // and the scheduler does not make it look healthy again
    a.clock.advance(2 * HOUR)
    await a.app.jobs.runner.runDue()
    await b.app.jobs.runner.runDue()
    const [later] = (await accounts(a)).filter((s) => s.id === id)
    assert.equal(later?.status, 'reauth_required')
    const list = await person.onA.fetch('GET', '/api/socials/accounts')
    assert.match(list.body, /reauth_required/)
  })
}

test('tiktok: invalid_grant after another instance stored newer credentials: re-read, they stand, the account stays healthy', async (t) => {
  const { a, persons } = await fleet(t, 1)
  const person = persons[0]
  assert.ok(person !== undefined)
  // instance C read the account (its token due) before instance B refreshed it
  a.clock.advance(2 * HOUR + 10 * 60_000)
  const rows = await a.raw('SELECT user_id FROM user_social_accounts WHERE id = ?', [person.tiktok])
  const snapshot = await a.store.getAccount(String(rows[0]?.user_id), person.tiktok)
  assert.ok(snapshot !== null)
  const refreshed = await person.onB.fetch('POST', `/api/socials/accounts/${person.tiktok}/sync`)
  assert.equal(refreshed.statusCode, 200, refreshed.body)
  const [newer] = (await accounts(a)).filter((s) => s.id === person.tiktok)
  assert.equal(newer?.version, snapshot.credentials_version + 1)

  // C now presents the refresh token it read, which B's refresh spent
  const config = { ...a.config.providers.tiktok.settings, ...sandboxTiktokEndpoints(a.tiktok) }
  const client = createTiktokClient({
    config,
    fetch: createInjectFetch(a.app, a.tiktok.baseUrl()),
    now: () => a.clock.now(),
  })
  const c = createRefresher({
    store: a.store,
    vault: a.vault,
    clock: a.clock,
    logger: a.app.log,
    webhooks: a.app.jobs.webhooks,
    labelOf: () => 'TikTok',
    instanceId: 'instance-c',
  })
  const owner = 'instance-c:renewal'
  const now = a.clock.now()
  assert.ok(await a.store.acquireAccountLease('renewal', person.tiktok, now, now + 120_000, owner))
  const since = mark(a)
  const outcome = await c.renewHeld(snapshot, owner, client)
  await a.store.releaseAccountLease('renewal', { accountId: person.tiktok, owner })
  const calls = tokenCalls(a, since).tiktok
  assert.deepEqual(
    calls.map((call) => call.status),
    [400],
    'the spent token was refused (invalid_grant)',
  )
  assert.equal(outcome.kind, 'superseded')
  assert.equal(
    outcome.kind === 'superseded' ? outcome.credentials?.refreshToken : null,
    newer?.credentials?.refreshToken,
    "B's credentials are what C goes on with",
  )
  const [after] = (await accounts(a)).filter((s) => s.id === person.tiktok)
  assert.equal(after?.status, 'active')
  assert.equal(after.message, null)
  assert.equal(after.version, newer?.version, 'nothing written')
  assert.equal(tiktokVerdict(a.tiktok.state, after.credentials?.refreshToken ?? ''), 'current')
  // and it works: the next sync (after the access token's time) refreshes with B's token
  a.clock.advance(2 * HOUR + 10 * 60_000)
  const again = await person.onA.fetch('POST', `/api/socials/accounts/${person.tiktok}/sync`)
  assert.equal(again.statusCode, 200, again.body)
  const [last] = (await accounts(a)).filter((s) => s.id === person.tiktok)
  assert.equal(last?.status, 'active')
  assert.equal(last.version, (newer?.version ?? 0) + 1)
})

test('tiktok: a refresh that stalled past its lease: the worker that took over is refused and records reauth_required; the stalled answer lands and its rotated tokens heal the account', async (t) => {
  const { a, persons } = await fleet(t, 1)
  const person = persons[0]
  assert.ok(person !== undefined)
  a.clock.advance(2 * HOUR + 10 * 60_000) // the access token is dead: renewal is due
  const rows = await a.raw('SELECT user_id FROM user_social_accounts WHERE id = ?', [person.tiktok])
  const snapshot = await a.store.getAccount(String(rows[0]?.user_id), person.tiktok)
  assert.ok(snapshot !== null)
  const config = { ...a.config.providers.tiktok.settings, ...sandboxTiktokEndpoints(a.tiktok) }
  const client = createTiktokClient({
    config,
    fetch: createInjectFetch(a.app, a.tiktok.baseUrl()),
    now: () => a.clock.now(),
  })
  const worker = (instanceId: string) =>
    createRefresher({
      store: a.store,
      vault: a.vault,
      clock: a.clock,
      logger: a.app.log,
      webhooks: a.app.jobs.webhooks,
      labelOf: () => 'TikTok',
      instanceId,
    })
  // C's renewal: TikTok answers (and rotates), then C stalls before it can commit
  let answered = (): void => {}
  const atTikTok = new Promise<void>((resolve) => (answered = resolve))
  let resume = (): void => {}
  const stalled = new Promise<void>((resolve) => (resume = resolve))
  const slow = {
    ...client,
    renew: async (credentials: Parameters<typeof client.renew>[0]) => {
      const renewed = await client.renew(credentials)
      answered()
      await stalled
      return renewed
    },
  }
  const now = a.clock.now()
  assert.ok(await a.store.acquireAccountLease('renewal', person.tiktok, now, now + 120_000, 'c'))
  const since = mark(a)
  const late = worker('instance-c').renewHeld(snapshot, 'c', slow)
  await atTikTok

  // C's lease lapses; D takes the renewal over with the refresh token it read (now spent)
  const later = now + 130_000
  assert.ok(
    await a.store.acquireAccountLease('renewal', person.tiktok, later, later + 120_000, 'd'),
    'the lapsed lease is taken over',
  )
  const refused = await worker('instance-d').renewHeld(snapshot, 'd', client)
  assert.equal(refused.kind, 'failed')
  assert.equal((await accounts(a)).find((s) => s.id === person.tiktok)?.status, 'reauth_required')

  // C's answer lands: its tokens are the only ones TikTok honours, so they are stored
  resume()
  const outcome = await late
  assert.equal(outcome.kind, 'renewed')
  assert.deepEqual(
    tokenCalls(a, since).tiktok.map((call) => call.status),
    [200, 400],
    "C's refresh rotated, D's retry with the spent token was refused",
  )
  const [after] = (await accounts(a)).filter((s) => s.id === person.tiktok)
  assert.equal(after?.status, 'active', 'healed')
  assert.equal(after.message, null)
  assert.equal(after.version, snapshot.credentials_version + 1)
  assert.equal(tiktokVerdict(a.tiktok.state, after.credentials?.refreshToken ?? ''), 'current')
  // and it works
  const again = await person.onA.fetch('POST', `/api/socials/accounts/${person.tiktok}/sync`)
  assert.equal(again.statusCode, 200, again.body)
})
