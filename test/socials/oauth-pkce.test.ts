/**
 * PKCE (RFC 7636, S256) in the connection flow, for a platform whose capabilities ask for it
 * (YouTube, TikTok and X will): a fresh verifier per authorization, stored only encrypted with
 * the state, its S256 challenge in the authorization URL, and the verifier given to the code
 * exchange. Instagram (`pkce: 'none'`) keeps its flow without one.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { INSTAGRAM_CAPABILITIES } from '../../src/providers/instagram/client.ts'
import type { Credentials, ProviderClient } from '../../src/providers/types.ts'
import { createOAuthService } from '../../src/socials/oauth-service.ts'
import { codeChallengeS256, createCodeVerifier } from '../../src/providers/oauth/pkce.ts'
import type { WebhookNotifier } from '../../src/webhooks/webhooks.ts'
import { instagramConnections } from '../helpers/jobs.ts'
import { buildTestApp } from '../helpers/build-app.ts'

test('PKCE S256: RFC 7636 appendix B’s example, and fresh verifiers of 43 unreserved characters', () => {
  assert.equal(
    codeChallengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'),
    'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  )
  const seen = new Set<string>()
  for (let i = 0; i < 50; i++) {
    const verifier = createCodeVerifier()
    assert.match(verifier, /^[A-Za-z0-9\-._~]{43}$/)
    seen.add(verifier)
  }
  assert.equal(seen.size, 50)
})

test('a platform that takes PKCE: challenge in the URL, verifier encrypted with the state, given to the exchange', async (t) => {
  const app = await buildTestApp(t)
  const user = await app.store.createUser({
    email: 'pkce@example.com',
    password_hash: 'x',
    now: app.clock.now(),
  })
  const seen: { challenge?: string | undefined; verifier?: string | undefined } = {}
  const credentials: Credentials = {
    accessToken: 'act.1',
    accessTokenExpiresAt: app.clock.now() + 3_600_000,
    refreshToken: 'rft.1',
    refreshTokenExpiresAt: null,
    scopes: ['https://www.googleapis.com/auth/youtube.readonly'],
    refreshTokenIssuedAt: null,
    issuedAt: app.clock.now(),
  }
  const client = {
    capabilities: { ...INSTAGRAM_CAPABILITIES, pkce: 'required' },
    authorizationUrl(state: string, challenge?: string) {
      seen.challenge = challenge
      return `https://accounts.example/auth?state=${state}&code_challenge=${challenge ?? ''}`
    },
    async exchangeCode(_code: string, verifier?: string) {
      seen.verifier = verifier
      return credentials
    },
    checkGrant: () => ({ ok: true }),
    async fetchIdentity() {
      return {
        ok: true,
        identity: {
          providerAccountId: 'UC123',
          aliases: [],
          username: 'channel',
          profileUrl: 'https://www.youtube.com/@channel',
          avatarUrl: null,
          mediaCount: 3,
          attributes: {},
        },
      }
    },
    checkEligible: () => ({ ok: true }),
  } satisfies Omit<ProviderClient, 'renew' | 'listMedia'> as unknown as ProviderClient
  const service = createOAuthService({
    store: app.store,
    vault: app.vault,
    clock: app.clock,
    connections: instagramConnections(() => client),
    notConfiguredMessage: () => 'not configured',
    webhooks: { events: null, deliverSoon() {} } as Partial<WebhookNotifier> as WebhookNotifier,
  })
  const { authorizationUrl, binding } = await service.startConnect(user.id, 'instagram', 'redirect')
  const state = new URL(authorizationUrl).searchParams.get('state') ?? ''
  const [row] = await app.raw('SELECT * FROM oauth_states')
  const stored = String(row?.encrypted_code_verifier)
  assert.ok(!authorizationUrl.includes(app.vault.decrypt(stored)), 'the verifier stays here')
  const verifier = app.vault.decrypt(stored)
  assert.match(verifier, /^[A-Za-z0-9_-]{43}$/)
  assert.equal(
    seen.challenge,
    createHash('sha256').update(verifier).digest('base64url'),
    'the S256 challenge of the stored verifier',
  )

  const result = await service.handleCallback(
    'instagram',
    { state, code: 'auth-code' },
    user.id,
    binding,
  )
  assert.equal(result.ok, true)
  assert.equal(seen.verifier, verifier, 'the exchange got the verifier')
  assert.equal((await app.raw('SELECT * FROM oauth_states')).length, 0, 'consumed')
  const [account] = await app.store.listAccounts(user.id)
  assert.equal(account?.platform_user_id, 'UC123')
  assert.equal(account?.credentials_expire_at, null, 'a refresh token without an end')
})

test('Instagram (pkce: none): no verifier stored, no challenge sent', async (t) => {
  const app = await buildTestApp(t)
  const user = await app.store.createUser({
    email: 'nopkce@example.com',
    password_hash: 'x',
    now: app.clock.now(),
  })
  let challenge: string | undefined = 'unset'
  const service = createOAuthService({
    store: app.store,
    vault: app.vault,
    clock: app.clock,
    notConfiguredMessage: () => 'not configured',
    connections: instagramConnections(
      () =>
        ({
          capabilities: INSTAGRAM_CAPABILITIES,
          authorizationUrl(_state: string, given?: string) {
            challenge = given
            return 'https://www.instagram.com/oauth/authorize'
          },
        }) as unknown as ProviderClient,
    ),
    webhooks: { events: null, deliverSoon() {} } as Partial<WebhookNotifier> as WebhookNotifier,
  })
  await service.startConnect(user.id, 'instagram', 'popup')
  assert.equal(challenge, undefined)
  const [row] = await app.raw('SELECT encrypted_code_verifier FROM oauth_states')
  assert.equal(row?.encrypted_code_verifier, null)
})
