/**
 * Leases with owners (review D1, D2, D6): a run whose lease was taken over writes nothing more
 * and deletes nothing; a heartbeat keeps a long run's lease; renewals are claimed one per free
 * worker; webhook deliveries go out concurrently, each attempt under its own lease.
 */
import { accessTokenCredentials } from '../../src/socials/credentials.ts'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Browser, buildTestApp, connectAccount, connectedApp, count } from '../helpers/build-app.ts'
import { DAY, accountRow, renewalWith, runDue } from '../helpers/jobs.ts'
import { SYNC_LEASE_MS } from '../../src/socials/sync-service.ts'
import type { Credentials, FetchLike } from '../../src/providers/types.ts'
import type { MediaInput } from '../../src/store/types.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

function setLatency(app: { emulator: { state: { settings: { latencyMs: number } } } }, ms: number) {
  const state = app.emulator.state
  state.settings = { ...state.settings, latencyMs: ms }
}

test('a sync whose lease was taken over (it stalled past it) writes nothing more and deletes nothing', async (t) => {
  const env = { INSTAGRAM_MEDIA_PAGE_SIZE: '6', INSTAGRAM_REQUEST_TIMEOUT_MS: '10000' }
  const { app: first, accountId } = await connectedApp(t, env)
  const second = await buildTestApp(t, env, { share: first })
  setLatency(first, 300)
  // A: a scheduled full sync (the first one), 8 pages of 6
  const a = runDue(first)
  await until('two pages stored', async () => (await count(first, 'media')) >= 12)
  // A stalls past its lease; B claims the account (retrying if A's heartbeat renewed it first)
  let claimed: string | undefined
  for (let i = 0; i < 5 && claimed === undefined; i++) {
    first.clock.advance(SYNC_LEASE_MS + 1)
    const now = first.clock.now()
    const [account] = await second.store.claimDueSyncs({
      now,
      leaseUntil: now + SYNC_LEASE_MS,
      limit: 1,
      owner: 'instance-b:run-b',
    })
    claimed = account?.sync_lease_owner ?? undefined
  }
  assert.equal(claimed, 'instance-b:run-b', 'B took the account over')
  // B's run sees the media stored so far (marks them seen by its own run id)
  const stored = await second.store.listMedia({
    user_id: String((await accountRow(first)).user_id),
    limit: 100,
  })
  const seenByB: MediaInput[] = stored.map((m) => ({
    platform_media_id: m.platform_media_id,
    media_type: m.media_type,
    media_product_type: m.media_product_type,
    media_url: m.media_url,
    thumbnail_url: m.thumbnail_url,
    permalink: m.permalink,
    caption: m.caption,
    timestamp: m.timestamp,
    url_expires_at: m.url_expires_at,
    duration_seconds: m.duration_seconds,
    visibility: m.visibility,
    children: m.children.map((c) => ({
      platform_media_id: c.platform_media_id,
      media_type: c.media_type,
      media_product_type: c.media_product_type,
      media_url: c.media_url,
      thumbnail_url: c.thumbnail_url,
      permalink: c.permalink,
      caption: c.caption,
      timestamp: c.timestamp,
      url_expires_at: c.url_expires_at,
      duration_seconds: c.duration_seconds,
      visibility: c.visibility,
    })),
  }))
  const owner = { id: accountId, user_id: stored[0]?.user_id ?? '' }
  assert.ok(
    await second.store.upsertMediaPage(
      owner,
      'run-b',
      seenByB,
      first.clock.now(),
      'instance-b:run-b',
    ),
  )
  const before = await count(first, 'media')
  const report = await a
  assert.equal(await count(first, 'media'), before, 'A wrote no page and deleted nothing')
  assert.equal(report.syncs.failed, 1, 'A stopped when it noticed')
  const row = await accountRow(first)
  assert.equal(row.sync_lease_owner, 'instance-b:run-b', "A did not release B's lease")
  assert.equal(row.status, 'active', 'A wrote no outcome')
  assert.equal(row.sync_failures, 0)
  assert.equal(row.last_full_sync, null)
  assert.ok(
    first.logs.some((l) => l.includes('sync lease lost to another run')),
    'A said why it stopped',
  )
})

test('a heartbeat keeps the lease of a run slower than the lease', async (t) => {
  const env = { INSTAGRAM_MEDIA_PAGE_SIZE: '25', INSTAGRAM_REQUEST_TIMEOUT_MS: '10000' }
  const { app: first } = await connectedApp(t, env)
  const second = await buildTestApp(t, env, { share: first })
  // every Instagram call takes 3 s: the first one spans 8 minutes of the test clock
  setLatency(first, 3000)
  const a = runDue(first)
  await until(
    'the run holds the lease',
    async () => (await accountRow(first)).sync_lease_owner !== null,
  )
  first.clock.advance(4 * 60_000)
  // the heartbeat's next tick (within a second) renews the lease from this moment: wait for it
  // in the database rather than for a fixed time (a busy machine may take longer)
  const renewedFrom = first.clock.now()
  await until(
    'a heartbeat renewed the lease',
    async () =>
      Number((await accountRow(first)).sync_lease_until) >= renewedFrom + SYNC_LEASE_MS - 1_000,
  )
  first.clock.advance(4 * 60_000)
  const now = first.clock.now()
  const taken = await second.store.claimDueSyncs({
    now,
    leaseUntil: now + SYNC_LEASE_MS,
    limit: 1,
    owner: 'instance-b:run-b',
  })
  assert.equal(taken.length, 0, '8 minutes into a 5-minute lease, the heartbeat still holds it')
  setLatency(first, 0)
  const report = await a
  assert.equal(report.syncs.synced, 1)
  assert.equal((await accountRow(first)).sync_lease_owner, null, 'released at the end')
})

test('renewals are claimed one account per free worker, never in a batch', async (t) => {
  const app = await buildTestApp(t)
  for (let i = 0; i < 6; i++) {
    const browser = new Browser(app)
    await browser.register()
    await connectAccount(app, browser)
  }
  app.clock.advance(40 * DAY)
  let mostLeased = 0
  let renewals = 0
  const client = {
    async renew(current: Credentials): Promise<Credentials> {
      const leased = await app.raw(
        'SELECT COUNT(*) AS n FROM social_accounts_with_jobs WHERE renew_lease_until IS NOT NULL',
      )
      mostLeased = Math.max(mostLeased, Number(leased[0]?.n))
      await sleep(20)
      renewals++
      return accessTokenCredentials(
        `${current.accessToken}-renewed`,
        app.clock.now() + 60 * DAY,
        app.clock.now(),
      )
    },
  }
  const renewal = renewalWith(app, client, 2)
  const report = await renewal.runDue()
  assert.equal(report.renewed, 6)
  assert.equal(renewals, 6)
  assert.ok(mostLeased <= 2, `at most one lease per worker (saw ${mostLeased} leased at once)`)
})

test('webhook deliveries go out concurrently (bounded), each attempt under its own lease', async (t) => {
  let inFlight = 0
  let most = 0
  const sent: string[] = []
  const slow: FetchLike = async (_url, init) => {
    inFlight++
    most = Math.max(most, inFlight)
    await sleep(150)
    inFlight--
    sent.push(typeof init?.body === 'string' ? init.body : '')
    return new Response(null, { status: 204 })
  }
  const app = await buildTestApp(
    t,
    {
      WEBHOOK_URL: 'https://hooks.example/in',
      WEBHOOK_SECRET: 'webhook-secret-for-tests-0123456789abcdef',
    },
    { webhookFetch: slow },
  )
  const { events } = app.app.jobs.webhooks
  assert.ok(events !== null, 'webhooks are on')
  for (let i = 0; i < 8; i++) {
    const now = app.clock.now()
    await app.store.enqueueWebhook({ ...events.dataDeleted({ n: i }, now), now })
    app.app.jobs.webhooks.deliverSoon()
  }
  await app.app.jobs.webhooks.idle()
  await app.app.jobs.webhooks.deliverDue()
  assert.equal(sent.length, 8, 'each event once')
  assert.ok(most > 1 && most <= 4, `concurrent, at most 4 at a time (saw ${most})`)
  const rows = await app.raw('SELECT status, attempts, lease_owner FROM webhook_deliveries')
  assert.deepEqual(
    new Set(rows.map((r) => `${String(r.status)} ${String(r.attempts)} ${String(r.lease_owner)}`)),
    new Set(['delivered 1 null']),
  )
})
