/**
 * The refresher under a rotating refresh-token policy (TikTok's and X's: each refresh returns a
 * new refresh token and the old one stops working), on the real store (SQLite or PostgreSQL),
 * with a stand-in platform that enforces rotation exactly: a refresh with a used refresh token is
 * `invalid_grant`. Instagram's extend policy is covered by the renewal and lifecycle tests.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { GalleryError } from '../../src/errors.ts'
import { INSTAGRAM_CAPABILITIES } from '../../src/providers/instagram/client.ts'
import type { Credentials, ProviderClient } from '../../src/providers/types.ts'
import { createRefresher, type Refresher } from '../../src/socials/refresher.ts'
import { openCredentials, sealCredentials } from '../../src/socials/credentials.ts'
import type { EventType, SocialAccountRecord } from '../../src/store/types.ts'
import type { WebhookNotifier } from '../../src/webhooks/webhooks.ts'
import { buildTestApp, type TestApp } from '../helpers/build-app.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR

/** A platform whose refresh tokens rotate; `renew` may be slowed down to make workers overlap. */
function rotatingPlatform(app: TestApp, options: { delayMs?: number } = {}) {
  let generation = 1
  let revoked = false
  const renewals: string[] = []
  const issue = (n: number): Credentials => ({
    accessToken: `act.${n}`,
    accessTokenExpiresAt: app.clock.now() + 2 * HOUR,
    refreshToken: `rft.${n}`,
    refreshTokenExpiresAt: app.clock.now() + 180 * DAY,
    scopes: ['user.info.basic', 'video.list'],
    refreshTokenIssuedAt: null,
    issuedAt: app.clock.now(),
  })
  const client = {
    capabilities: {
      ...INSTAGRAM_CAPABILITIES,
      renewal: { kind: 'refresh_token', rotating: true, marginMs: 5 * 60_000 },
      pkce: 'required',
    },
    async renew(current: Credentials): Promise<Credentials> {
      renewals.push(current.refreshToken ?? 'none')
      if (options.delayMs !== undefined)
        await new Promise((done) => setTimeout(done, options.delayMs))
      if (revoked || current.refreshToken !== `rft.${generation}`)
        throw new GalleryError(
          'ERR_REAUTH_REQUIRED',
          'The refresh token is invalid (invalid_grant)',
        )
      generation++
      // the answer carries only the access token's scopes-as-granted and both new tokens
      return { ...issue(generation), scopes: null }
    },
  } as unknown as ProviderClient
  return {
    client,
    renewals,
    first: () => issue(1),
    revoke: () => {
      revoked = true
    },
  }
}

/** Webhooks on, with events the store writes into its outbox (delivery is not under test). */
function recordingWebhooks(): WebhookNotifier {
  let n = 0
  const event = (type: EventType) => ({
    id: `evt_${String(++n).padStart(4, '0')}`,
    event_type: type,
    payload: '{}',
  })
  return {
    events: { account: (type) => event(type), dataDeleted: () => event('data.deleted') },
    deliverSoon() {},
  } as Partial<WebhookNotifier> as WebhookNotifier
}

async function setUp(t: TestContext, options: { delayMs?: number } = {}) {
  const app = await buildTestApp(t)
  const platform = rotatingPlatform(app, options)
  const user = await app.store.createUser({
    email: `refresher-${Math.random()}@example.com`,
    password_hash: 'scrypt$x',
    now: app.clock.now(),
  })
  const { account } = await app.store.upsertOAuthAccount({
    user_id: user.id,
    platform: 'tiktok',
    username: 'creator',
    platform_user_id: 'open-id-1',
    platform_scoped_id: null,
    platform_attributes: {},
    credentials: sealCredentials(app.vault, platform.first()),
    posts_count: null,
    profile_url: 'https://www.tiktok.com/@creator',
    profile_picture_url: null,
    now: app.clock.now(),
  })
  const webhooks = recordingWebhooks()
  /** The events the store wrote to the outbox, in order. */
  const events = async (): Promise<string[]> =>
    (await app.raw('SELECT event_type FROM webhook_deliveries ORDER BY created_at, id')).map((r) =>
      String(r.event_type),
    )
  const refresher = (instanceId: string): Refresher =>
    createRefresher({
      store: app.store,
      vault: app.vault,
      clock: app.clock,
      logger: app.app.log,
      webhooks,
      labelOf: () => 'TikTok',
      instanceId,
      sleep: (ms) => new Promise((done) => setTimeout(done, Math.min(ms, 20))),
    })
  const reread = async (): Promise<SocialAccountRecord> => {
    const current = await app.store.getAccount(user.id, account.id)
    assert.ok(current !== null)
    return current
  }
  return { app, platform, account, events, refresher, reread }
}

test('an expired access token with a live refresh token is a working connection: refreshed before the call', async (t) => {
  const { app, platform, account, refresher, reread } = await setUp(t)
  app.clock.advance(3 * HOUR) // the 2-hour access token is dead, the refresh token lives
  const credentials = await refresher('i1').credentialsFor(account, platform.client)
  assert.equal(credentials.accessToken, 'act.2')
  assert.deepEqual(platform.renewals, ['rft.1'])
  const stored = await reread()
  assert.equal(stored.status, 'active')
  assert.equal(stored.credentials_version, account.credentials_version + 1)
  assert.equal(stored.renew_lease_owner, null, 'the lease is released')
  const opened = openCredentials(app.vault, stored, app.clock.now(), 'TikTok').credentials
  assert.equal(opened.refreshToken, 'rft.2', 'the rotated refresh token is what is kept')
  assert.deepEqual(opened.scopes, ['user.info.basic', 'video.list'], 'unreported scopes stay')
  // inside its lifetime and outside the margin: no call at all
  const again = await refresher('i1').credentialsFor(stored, platform.client)
  assert.equal(again.accessToken, 'act.2')
  assert.equal(platform.renewals.length, 1)
})

test('two instances refreshing the same account at once: one refresh, both get its result, the account stays healthy', async (t) => {
  const { app, platform, account, events, refresher, reread } = await setUp(t, { delayMs: 150 })
  app.clock.advance(2 * HOUR - 60_000) // inside the 5-minute margin
  const [a, b, c] = await Promise.all([
    refresher('i1').credentialsFor(account, platform.client),
    refresher('i2').credentialsFor(account, platform.client),
    refresher('i3').credentialsFor(account, platform.client),
  ])
  assert.deepEqual(platform.renewals, ['rft.1'], 'the refresh token was presented once')
  assert.deepEqual([a.accessToken, b.accessToken, c.accessToken], ['act.2', 'act.2', 'act.2'])
  const stored = await reread()
  assert.equal(stored.status, 'active')
  assert.equal(stored.credentials_version, account.credentials_version + 1)
  assert.deepEqual(await events(), [])
})

test('one process: concurrent calls share one refresh (in-process single flight)', async (t) => {
  const { app, platform, account, refresher } = await setUp(t, { delayMs: 50 })
  app.clock.advance(3 * HOUR)
  const one = refresher('i1')
  const results = await Promise.all(
    [1, 2, 3, 4].map(() => one.credentialsFor(account, platform.client)),
  )
  assert.deepEqual(new Set(results.map((r) => r.accessToken)), new Set(['act.2']))
  assert.equal(platform.renewals.length, 1)
})

test('invalid_grant after another worker rotated the token: re-read, its credentials stand, no reconnect', async (t) => {
  const { app, platform, account, events, refresher, reread } = await setUp(t)
  app.clock.advance(3 * HOUR)
  // worker 1 refreshes; worker 2 still holds the account as it was before (rft.1)
  await refresher('i1').credentialsFor(account, platform.client)
  const outcome = await refresher('i2').renewHeld(account, 'i2:run', platform.client)
  assert.equal(outcome.kind, 'superseded')
  assert.equal(outcome.kind === 'superseded' ? outcome.credentials?.accessToken : null, 'act.2')
  assert.deepEqual(platform.renewals, ['rft.1', 'rft.1'], 'the stale token was refused once')
  const stored = await reread()
  assert.equal(stored.status, 'active', 'not reauth_required')
  assert.deepEqual(await events(), [])
})

test('invalid_grant with nothing newer stored: reauth_required once, with its event', async (t) => {
  const { app, platform, account, events, refresher, reread } = await setUp(t)
  app.clock.advance(3 * HOUR)
  platform.revoke()
  await assert.rejects(refresher('i1').credentialsFor(account, platform.client), (error) => {
    assert.ok(error instanceof GalleryError)
    assert.equal(error.code, 'ERR_REAUTH_REQUIRED')
    return true
  })
  const stored = await reread()
  assert.equal(stored.status, 'reauth_required')
  assert.equal(stored.renew_lease_owner, null)
  assert.deepEqual(await events(), ['account.reauth_required'])
  // the next caller does not present the dead token again
  await assert.rejects(refresher('i2').credentialsFor(stored, platform.client))
  assert.equal(platform.renewals.length, 1)
})

test('a failed renewal never overwrites revoked', async (t) => {
  const { app, platform, account, events, reread } = await setUp(t)
  app.clock.advance(3 * HOUR)
  const slowRevoking = {
    ...platform.client,
    async renew(): Promise<Credentials> {
      // the deauthorize lands while the refresh is on its way
      await app.store.revokeByPlatformIdentity(
        'tiktok',
        'open-id-1',
        'Removed on TikTok',
        app.clock.now(),
      )
      throw new GalleryError('ERR_REAUTH_REQUIRED', 'invalid_grant')
    },
  } as ProviderClient
  const refresher = createRefresher({
    store: app.store,
    vault: app.vault,
    clock: app.clock,
    logger: app.app.log,
    webhooks: recordingWebhooks(),
    labelOf: () => 'TikTok',
  })
  const outcome = await refresher.renewHeld(account, 'i1:run', slowRevoking)
  assert.equal(outcome.kind, 'failed')
  const stored = await reread()
  assert.equal(stored.status, 'revoked')
  assert.equal(stored.status_message, 'Removed on TikTok')
  assert.deepEqual(await events(), [], 'no event for a change not made')
})

test('another worker holds the renewal lease: wait for its result instead of presenting the same refresh token', async (t) => {
  const { app, platform, account, refresher, reread } = await setUp(t)
  app.clock.advance(3 * HOUR)
  const now = app.clock.now()
  assert.ok(
    await app.store.acquireAccountLease('renewal', account.id, now, now + 60_000, 'other:run'),
  )
  const waiting = refresher('i1').credentialsFor(account, platform.client)
  // the other worker finishes its refresh a moment later
  await new Promise((done) => setTimeout(done, 60))
  const renewed = await platform.client.renew(platform.first())
  assert.ok(
    await app.store.completeRenewal({
      accountId: account.id,
      owner: 'other:run',
      expectedVersion: account.credentials_version,
      credentials: sealCredentials(app.vault, renewed),
      now: app.clock.now(),
    }),
  )
  assert.equal((await waiting).accessToken, 'act.2')
  assert.deepEqual(platform.renewals, ['rft.1'], 'only the other worker refreshed')
  assert.equal((await reread()).status, 'active')
})

test('Instagram’s extend policy: credentials are used as stored, no call before the sync', async (t) => {
  const { app, account, refresher } = await setUp(t)
  let renewals = 0
  const instagramLike = {
    capabilities: INSTAGRAM_CAPABILITIES,
    async renew(): Promise<Credentials> {
      renewals++
      throw new Error('not expected')
    },
  } as unknown as ProviderClient
  app.clock.advance(HOUR + 58 * 60_000)
  const credentials = await refresher('i1').credentialsFor(account, instagramLike)
  assert.equal(credentials.accessToken, 'act.1')
  assert.equal(renewals, 0)
})

test('a reconnection that lands during a refresh: its credentials stand, nothing is left leased', async (t) => {
  const { app, platform, account, refresher, reread } = await setUp(t)
  app.clock.advance(3 * HOUR)
  const reconnecting = {
    ...platform.client,
    async renew(): Promise<Credentials> {
      // the person reconnects in another tab while the refresh is on its way; the old refresh
      // token is then refused
      await app.store.upsertOAuthAccount({
        user_id: account.user_id,
        platform: 'tiktok',
        username: 'creator',
        platform_user_id: 'open-id-1',
        platform_scoped_id: null,
        platform_attributes: {},
        credentials: sealCredentials(app.vault, {
          ...platform.first(),
          accessToken: 'act.reconnected',
          refreshToken: 'rft.reconnected',
        }),
        posts_count: null,
        profile_url: 'https://www.tiktok.com/@creator',
        profile_picture_url: null,
        now: app.clock.now(),
      })
      throw new GalleryError('ERR_REAUTH_REQUIRED', 'invalid_grant')
    },
  } as ProviderClient
  const credentials = await refresher('i1').credentialsFor(account, reconnecting)
  assert.equal(credentials.accessToken, 'act.reconnected')
  const stored = await reread()
  assert.equal(stored.status, 'active')
  assert.equal(stored.renew_lease_owner, null, 'nothing left leased')
  assert.equal(stored.renew_lease_until, null)
})
