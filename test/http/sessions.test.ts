/**
 * Expired sessions are removed by the hourly purge, not on sign-in (review D14): signing in must
 * not scan the whole `sessions` table, and the purge finds expired rows through indexes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SESSION_IDLE_MS } from '../../src/http/session.ts'
import { Browser, buildTestApp, type TestApp } from '../helpers/build-app.ts'
import { DAY, HOUR, runDue } from '../helpers/jobs.ts'

/** Counts the calls of `store.deleteExpiredSessions` (the store object the app itself uses). */
function countPurges(app: TestApp): { readonly calls: number } {
  const counter = { calls: 0 }
  const original = app.store.deleteExpiredSessions.bind(app.store)
  app.store.deleteExpiredSessions = (now) => {
    counter.calls++
    return original(now)
  }
  return counter
}

async function sessionUsers(app: TestApp): Promise<string[]> {
  return (await app.raw('SELECT user_id FROM sessions ORDER BY user_id')).map((r) =>
    String(r.user_id),
  )
}

test('registering and signing in do not purge the sessions table', async (t) => {
  const app = await buildTestApp(t)
  const purges = countPurges(app)
  const browser = new Browser(app)
  const { email } = await browser.register('sessions@example.com', 'correct horse battery')
  for (let i = 0; i < 3; i++) {
    const login = await browser.fetch('POST', '/api/auth/login', {
      body: { email, password: 'correct horse battery' },
    })
    assert.equal(login.statusCode, 200)
  }
  const other = new Browser(app)
  await other.register()
  assert.equal(purges.calls, 0, 'no sign-in ran deleteExpiredSessions')
  assert.equal((await sessionUsers(app)).length, 2, 'each login replaced its browser’s session')
})

test('the hourly purge removes expired sessions and keeps live ones', async (t) => {
  const app = await buildTestApp(t)
  const purges = countPurges(app)
  const early = new Browser(app)
  const earlyUser = await early.register()
  app.clock.advance(SESSION_IDLE_MS - DAY) // six days on
  const late = new Browser(app)
  const lateUser = await late.register()
  await runDue(app)
  assert.equal(purges.calls, 1, 'the purge ran')
  assert.deepEqual(await sessionUsers(app), [earlyUser.id, lateUser.id].sort(), 'none expired yet')

  app.clock.advance(2 * DAY) // the early session is now idle for eight days
  assert.equal((await early.fetch('GET', '/api/auth/me')).statusCode, 401)
  await runDue(app)
  assert.equal(purges.calls, 2, 'hourly: the clock moved on, so the purge ran again')
  assert.deepEqual(await sessionUsers(app), [lateUser.id], 'the expired session is gone')
  assert.equal((await late.fetch('GET', '/api/auth/me')).statusCode, 200)

  app.clock.advance(HOUR / 2)
  await runDue(app)
  assert.equal(purges.calls, 2, 'not again within the hour')
})

test('the purge finds expired sessions through indexes, not a table scan', async (t) => {
  const app = await buildTestApp(t)
  if (app.backend === 'sqlite') {
    const plan = await app.raw(
      'EXPLAIN QUERY PLAN DELETE FROM sessions WHERE (expires_at <= ? OR idle_expires_at <= ?)',
      [1, 1],
    )
    const detail = plan.map((row) => String(row.detail))
    assert.ok(!detail.some((d) => /^SCAN sessions/.test(d)), detail.join('; '))
    assert.ok(
      detail.some((d) => d.includes('sessions_expires_at')),
      detail.join('; '),
    )
    assert.ok(
      detail.some((d) => d.includes('sessions_idle_expires_at')),
      detail.join('; '),
    )
  } else {
    const indexes = await app.raw(
      `SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'sessions'`,
    )
    const defs = indexes.map((row) => String(row.indexdef))
    assert.ok(
      defs.some((d) => /\(expires_at\)/.test(d)),
      defs.join('; '),
    )
    assert.ok(
      defs.some((d) => /\(idle_expires_at\)/.test(d)),
      defs.join('; '),
    )
  }
})
