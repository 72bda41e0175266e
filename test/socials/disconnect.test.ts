/**
 * Disconnecting: a platform that can revoke a grant (`capabilities.revocation: 'endpoint'`, as
 * YouTube, TikTok and X can) is asked to, with the stored credentials; a failure there is logged
 * (without any token) and never keeps the person connected here. Instagram has nothing to call.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { GalleryError } from '../../src/errors.ts'
import { INSTAGRAM_CAPABILITIES } from '../../src/providers/instagram/client.ts'
import type { Credentials, ProviderClient } from '../../src/providers/types.ts'
import { createOAuthService } from '../../src/socials/oauth-service.ts'
import { sealCredentials } from '../../src/socials/credentials.ts'
import type { WebhookNotifier } from '../../src/webhooks/webhooks.ts'
import { instagramConnections } from '../helpers/jobs.ts'
import { buildTestApp, type TestApp } from '../helpers/build-app.ts'

const NO_WEBHOOKS = {
  events: null,
  deliverSoon() {},
} as Partial<WebhookNotifier> as WebhookNotifier

async function connected(app: TestApp, email: string) {
  const now = app.clock.now()
  const user = await app.store.createUser({ email, password_hash: 'x', now })
  const { account } = await app.store.upsertOAuthAccount({
    user_id: user.id,
    platform: 'youtube',
    username: 'channel',
    platform_user_id: `UC-${email}`,
    platform_scoped_id: null,
    platform_attributes: {},
    credentials: sealCredentials(app.vault, {
      accessToken: `ya29.access-${email}`,
      accessTokenExpiresAt: now + 3_600_000,
      refreshToken: `1//refresh-${email}`,
      refreshTokenExpiresAt: null,
      scopes: null,
      refreshTokenIssuedAt: null,
      issuedAt: now,
    }),
    posts_count: null,
    profile_url: 'https://www.youtube.com/@channel',
    profile_picture_url: null,
    now,
  })
  return { user, account }
}

/** The service with one configured platform, `youtube`, whose clients are `client`. */
function service(app: TestApp, client: Partial<ProviderClient>, warnings: unknown[]) {
  const instagram = instagramConnections(() => client as ProviderClient).get('instagram')
  assert.ok(instagram !== undefined)
  return createOAuthService({
    store: app.store,
    vault: app.vault,
    clock: app.clock,
    connections: new Map([
      [
        'youtube',
        {
          ...instagram,
          platform: 'youtube',
          label: 'YouTube',
          // every client of a platform has the platform's capabilities
          capabilities: client.capabilities ?? INSTAGRAM_CAPABILITIES,
        },
      ],
    ]),
    notConfiguredMessage: () => 'not configured',
    webhooks: NO_WEBHOOKS,
    logger: {
      warn: (fields: unknown) => warnings.push(fields),
      info: () => undefined,
    } as never,
  })
}

test('a platform with revocation: the grant is revoked there, then everything here is deleted', async (t) => {
  const app = await buildTestApp(t)
  const { user, account } = await connected(app, 'a@example.com')
  const other = await connected(app, 'b@example.com')
  const revoked: Credentials[] = []
  const warnings: unknown[] = []
  const oauth = service(
    app,
    {
      capabilities: { ...INSTAGRAM_CAPABILITIES, revocation: 'endpoint' },
      async revoke(credentials) {
        revoked.push(credentials)
      },
    },
    warnings,
  )
  assert.equal(await oauth.disconnect(user.id, other.account.id), false, 'not this user’s')
  assert.equal(revoked.length, 0)
  assert.equal(await oauth.disconnect(user.id, account.id), true)
  assert.deepEqual(
    revoked.map((c) => [c.accessToken, c.refreshToken]),
    [['ya29.access-a@example.com', '1//refresh-a@example.com']],
  )
  assert.equal(await app.store.getAccount(user.id, account.id), null)
  assert.deepEqual(warnings, [])
})

test('a revocation that fails is logged without a token, and the account is deleted anyway', async (t) => {
  const app = await buildTestApp(t)
  const { user, account } = await connected(app, 'c@example.com')
  const warnings: unknown[] = []
  const oauth = service(
    app,
    {
      capabilities: { ...INSTAGRAM_CAPABILITIES, revocation: 'endpoint' },
      async revoke() {
        throw new GalleryError('ERR_PROVIDER_UNAVAILABLE', 'Google did not answer')
      },
    },
    warnings,
  )
  assert.equal(await oauth.disconnect(user.id, account.id), true)
  assert.equal(await app.store.getAccount(user.id, account.id), null)
  assert.equal(warnings.length, 1)
  assert.ok(!JSON.stringify(warnings).includes('c@example.com'), 'no token in the log')
  // Google did not answer: the grant waits, sealed, for a retry
  const [queued] = await app.raw('SELECT platform, encrypted_credentials FROM pending_revocations')
  assert.equal(queued?.platform, 'youtube')
  assert.ok(!String(queued?.encrypted_credentials).includes('c@example.com'), 'sealed')
})

test('Instagram (no revocation endpoint): nothing is called, the account is deleted', async (t) => {
  const app = await buildTestApp(t)
  const { user, account } = await connected(app, 'd@example.com')
  let calls = 0
  const oauth = service(
    app,
    {
      capabilities: INSTAGRAM_CAPABILITIES,
      async revoke() {
        calls++
      },
    },
    [],
  )
  assert.equal(await oauth.disconnect(user.id, account.id), true)
  assert.equal(calls, 0)
})
