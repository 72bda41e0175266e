import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  TIKTOK_NOT_CONFIGURED_MESSAGE,
  TIKTOK_PATHS,
  TIKTOK_SCOPES,
  readTiktokConfig,
} from '../../src/providers/tiktok/config.ts'
import {
  TIKTOK_CALLS,
  TIKTOK_CAPABILITIES,
  TIKTOK_MINUTE_BUDGET,
} from '../../src/providers/tiktok/capabilities.ts'
import type { ConfigReader } from '../../src/providers/types.ts'
import { envReaders } from '../../src/config/load-config.ts'

/** The loader's own readers (`envReaders`), lent as `loadConfig` lends them, in `nodeEnv`. */
function reader(
  env: Record<string, string>,
  nodeEnv: ConfigReader['nodeEnv'] = 'production',
): ConfigReader & { problems: string[] } {
  const problems: string[] = []
  return { nodeEnv, publicUrl: 'https://gallery.example', problems, ...envReaders(env, problems) }
}

const CREDENTIALS = {
  TIKTOK_CLIENT_KEY: 'awfixtureclientkey01',
  TIKTOK_CLIENT_SECRET: 'fixture-client-secret',
}

test('real mode with both credentials: TikTok defaults and the callback under PUBLIC_URL', () => {
  const env = reader(CREDENTIALS)
  const config = readTiktokConfig(env)
  assert.deepEqual(env.problems, [])
  assert.equal(config.mode, 'real')
  assert.deepEqual(config.settings, {
    clientKey: CREDENTIALS.TIKTOK_CLIENT_KEY,
    clientSecret: CREDENTIALS.TIKTOK_CLIENT_SECRET,
    redirectUri: 'https://gallery.example/api/socials/oauth/tiktok/callback',
    authorizeUrl: 'https://www.tiktok.com/v2/auth/authorize/',
    apiUrl: 'https://open.tiktokapis.com',
    scopes: ['user.info.basic', 'user.info.profile', 'video.list'],
    requestTimeoutMs: 15_000,
  })
  assert.deepEqual(config.pacing, { limits: {}, slowDownPercent: 80, maxPauseMs: 1_000 })
})

test('the API paths are TikTok v2 paths, with their trailing slash', () => {
  assert.deepEqual(TIKTOK_PATHS, {
    token: '/v2/oauth/token/',
    revoke: '/v2/oauth/revoke/',
    userInfo: '/v2/user/info/',
    videoList: '/v2/video/list/',
    videoQuery: '/v2/video/query/',
  })
  assert.deepEqual([...TIKTOK_SCOPES], ['user.info.basic', 'user.info.profile', 'video.list'])
})

test('every variable is read; the authorize URL keeps (or not) its trailing slash as given', () => {
  const env = reader({
    ...CREDENTIALS,
    TIKTOK_REDIRECT_URI: 'https://gallery.example/custom/callback',
    TIKTOK_AUTHORIZE_URL: 'https://auth.proxy.example/v2/auth/authorize/',
    TIKTOK_API_URL: 'https://api.proxy.example/',
    TIKTOK_REQUEST_TIMEOUT_MS: '5000',
  })
  const { settings } = readTiktokConfig(env)
  assert.deepEqual(env.problems, [])
  assert.equal(settings.redirectUri, 'https://gallery.example/custom/callback')
  assert.equal(settings.authorizeUrl, 'https://auth.proxy.example/v2/auth/authorize/')
  assert.equal(settings.apiUrl, 'https://api.proxy.example', 'no trailing slash on the origin')
  assert.equal(settings.requestTimeoutMs, 5000)

  const bare = reader({ ...CREDENTIALS, TIKTOK_AUTHORIZE_URL: 'http://localhost:8083/auth' })
  assert.equal(readTiktokConfig(bare).settings.authorizeUrl, 'http://localhost:8083/auth')
  assert.deepEqual(bare.problems, [], 'loopback http is accepted')
})

test('modes: sandbox without credentials outside production, unconfigured in production', () => {
  for (const nodeEnv of ['development', 'test'] as const) {
    const env = reader({}, nodeEnv)
    assert.equal(readTiktokConfig(env).mode, 'sandbox', nodeEnv)
    assert.deepEqual(env.problems, [])
  }
  const production = reader({}, 'production')
  assert.equal(readTiktokConfig(production).mode, 'unconfigured')
  assert.deepEqual(production.problems, [], 'unconfigured is not a problem: connect answers 503')
  assert.equal(readTiktokConfig(reader(CREDENTIALS, 'development')).mode, 'real')
})

test('the not-configured message names the variables to set', () => {
  for (const name of ['TIKTOK_CLIENT_KEY', 'TIKTOK_CLIENT_SECRET', 'TIKTOK_REDIRECT_URI'])
    assert.ok(TIKTOK_NOT_CONFIGURED_MESSAGE.includes(name), name)
})

test('problems: a key without its secret (and the reverse), bad URLs, a timeout out of range', () => {
  const keyOnly = reader({ TIKTOK_CLIENT_KEY: CREDENTIALS.TIKTOK_CLIENT_KEY })
  assert.equal(readTiktokConfig(keyOnly).mode, 'unconfigured')
  assert.equal(keyOnly.problems.length, 1)
  assert.match(
    keyOnly.problems[0] ?? '',
    /TIKTOK_CLIENT_KEY is set but TIKTOK_CLIENT_SECRET is not/,
  )

  const secretOnly = reader({ TIKTOK_CLIENT_SECRET: 'x' }, 'development')
  assert.equal(readTiktokConfig(secretOnly).mode, 'sandbox')
  assert.equal(secretOnly.problems.length, 1)
  assert.match(
    secretOnly.problems[0] ?? '',
    /TIKTOK_CLIENT_SECRET is set but TIKTOK_CLIENT_KEY is not/,
  )

  const urls = reader({
    ...CREDENTIALS,
    TIKTOK_AUTHORIZE_URL: 'not a url',
    TIKTOK_API_URL: 'http://open.tiktokapis.com',
    TIKTOK_REDIRECT_URI: 'https://gallery.example/cb?x=1',
  })
  const config = readTiktokConfig(urls)
  assert.equal(urls.problems.length, 3, urls.problems.join('\n'))
  assert.ok(urls.problems.some((p) => p.startsWith('TIKTOK_AUTHORIZE_URL must be an absolute URL')))
  assert.ok(urls.problems.some((p) => p.startsWith('TIKTOK_API_URL must use https')))
  assert.ok(urls.problems.some((p) => p.startsWith('TIKTOK_REDIRECT_URI must not contain')))
  assert.equal(config.settings.authorizeUrl, 'https://www.tiktok.com/v2/auth/authorize/')

  for (const bad of ['0', '99', 'soon', '120001']) {
    const env = reader({ ...CREDENTIALS, TIKTOK_REQUEST_TIMEOUT_MS: bad })
    const c = readTiktokConfig(env)
    assert.equal(env.problems.length, 1, bad)
    assert.match(env.problems[0] ?? '', /^TIKTOK_REQUEST_TIMEOUT_MS must be a whole number/)
    assert.equal(c.settings.requestTimeoutMs, 15_000, 'the default stands in')
  }
})

test('capabilities: rotating refresh tokens, PKCE, comma scopes, signed covers, revocation', () => {
  const c = TIKTOK_CAPABILITIES
  assert.deepEqual(c.renewal, { kind: 'refresh_token', rotating: true, marginMs: 300_000 })
  assert.equal(c.listingCoverage, 'complete')
  assert.equal(c.pkce, 'required')
  assert.equal(c.clientAuth, 'body')
  assert.equal(c.scopeSeparator, ',')
  assert.equal(c.mediaUrls, 'signed')
  assert.equal(c.revocation, 'endpoint')
})

test('budget: one app-wide sliding minute of 600 the three metered endpoints share', () => {
  const { budgets } = TIKTOK_CAPABILITIES
  assert.deepEqual(budgets.windows, [
    {
      name: TIKTOK_MINUTE_BUDGET,
      per: 'app',
      counts: 'every_call',
      window: { kind: 'rolling', ms: 60_000 },
      limit: 600,
    },
  ])
  assert.equal(budgets.costs[TIKTOK_CALLS.userInfo], 1)
  assert.equal(budgets.costs[TIKTOK_CALLS.videoList], 1)
  assert.equal(budgets.costs[TIKTOK_CALLS.videoQuery], 1)
  assert.equal(
    budgets.costs[TIKTOK_CALLS.token],
    0,
    'OAuth calls are not in the per-endpoint limit',
  )
  assert.equal(budgets.costs[TIKTOK_CALLS.revoke], 0)
  assert.equal(budgets.defaultCost, 1)
  assert.equal(budgets.syncCost, undefined, 'no daily quota to stretch sync intervals over')
  assert.deepEqual(Object.keys(budgets.costs).sort(), Object.values(TIKTOK_CALLS).sort())
})
