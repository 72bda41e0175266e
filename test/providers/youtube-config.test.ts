import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  DEFAULT_DAILY_QUOTA_UNITS,
  PROJECT_DAILY_BUDGET,
  YOUTUBE_NOT_CONFIGURED_MESSAGE,
  YOUTUBE_READONLY_SCOPE,
  readYoutubeConfig,
} from '../../src/providers/youtube/config.ts'
import { YOUTUBE_CAPABILITIES, YOUTUBE_CALLS } from '../../src/providers/youtube/capabilities.ts'
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
  YOUTUBE_CLIENT_ID: '123456789012-abcdef.apps.googleusercontent.com',
  YOUTUBE_CLIENT_SECRET: 'GOCSPX-fixture-secret',
}

test('real mode with both credentials: Google defaults, the callback under PUBLIC_URL, the 10,000-unit quota', () => {
  const env = reader(CREDENTIALS)
  const config = readYoutubeConfig(env)
  assert.deepEqual(env.problems, [])
  assert.equal(config.mode, 'real')
  assert.deepEqual(config.settings, {
    clientId: CREDENTIALS.YOUTUBE_CLIENT_ID,
    clientSecret: CREDENTIALS.YOUTUBE_CLIENT_SECRET,
    redirectUri: 'https://gallery.example/api/socials/oauth/youtube/callback',
    authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    revokeUrl: 'https://oauth2.googleapis.com/revoke',
    apiUrl: 'https://www.googleapis.com',
    webUrl: 'https://www.youtube.com',
    scopes: [YOUTUBE_READONLY_SCOPE],
    dailyQuotaUnits: 10_000,
    requestTimeoutMs: 15_000,
  })
  assert.deepEqual(config.pacing.limits, { [PROJECT_DAILY_BUDGET]: DEFAULT_DAILY_QUOTA_UNITS })
  assert.equal(config.pacing.slowDownPercent, 80, 'the last 20 % of the day is kept')
})

test('every variable of issue 14 item 1 is read, and the request timeout', () => {
  const env = reader({
    ...CREDENTIALS,
    YOUTUBE_REDIRECT_URI: 'https://gallery.example/custom/callback',
    YOUTUBE_AUTHORIZE_URL: 'https://auth.proxy.example/o/oauth2/v2/auth',
    YOUTUBE_TOKEN_URL: 'https://auth.proxy.example/token',
    YOUTUBE_REVOKE_URL: 'https://auth.proxy.example/revoke',
    YOUTUBE_API_URL: 'https://api.proxy.example/',
    YOUTUBE_WEB_URL: 'https://web.proxy.example',
    YOUTUBE_DAILY_QUOTA_UNITS: '1000000',
    YOUTUBE_REQUEST_TIMEOUT_MS: '5000',
  })
  const { settings, pacing } = readYoutubeConfig(env)
  assert.deepEqual(env.problems, [])
  assert.equal(settings.redirectUri, 'https://gallery.example/custom/callback')
  assert.equal(settings.authorizeUrl, 'https://auth.proxy.example/o/oauth2/v2/auth')
  assert.equal(settings.tokenUrl, 'https://auth.proxy.example/token')
  assert.equal(settings.revokeUrl, 'https://auth.proxy.example/revoke')
  assert.equal(settings.apiUrl, 'https://api.proxy.example', 'no trailing slash')
  assert.equal(settings.webUrl, 'https://web.proxy.example')
  assert.equal(settings.dailyQuotaUnits, 1_000_000)
  assert.equal(settings.requestTimeoutMs, 5000)
  assert.deepEqual(pacing.limits, { project_daily: 1_000_000 })
})

test('modes: sandbox without credentials outside production, unconfigured in production', () => {
  for (const nodeEnv of ['development', 'test'] as const) {
    const env = reader({}, nodeEnv)
    assert.equal(readYoutubeConfig(env).mode, 'sandbox', nodeEnv)
    assert.deepEqual(env.problems, [])
  }
  const production = reader({}, 'production')
  assert.equal(readYoutubeConfig(production).mode, 'unconfigured')
  assert.deepEqual(production.problems, [], 'unconfigured is not a problem: connect answers 503')
  assert.equal(readYoutubeConfig(reader(CREDENTIALS, 'development')).mode, 'real')
})

test('the not-configured message names the variables to set', () => {
  for (const name of ['YOUTUBE_CLIENT_ID', 'YOUTUBE_CLIENT_SECRET', 'YOUTUBE_REDIRECT_URI'])
    assert.ok(YOUTUBE_NOT_CONFIGURED_MESSAGE.includes(name), name)
})

test('problems: an id without its secret (and the reverse), bad URLs, a quota out of range', () => {
  const idOnly = reader({ YOUTUBE_CLIENT_ID: CREDENTIALS.YOUTUBE_CLIENT_ID })
  assert.equal(readYoutubeConfig(idOnly).mode, 'unconfigured')
  assert.equal(idOnly.problems.length, 1)
  assert.match(
    idOnly.problems[0] ?? '',
    /YOUTUBE_CLIENT_ID is set but YOUTUBE_CLIENT_SECRET is not/,
  )

  const secretOnly = reader({ YOUTUBE_CLIENT_SECRET: 'x' }, 'development')
  assert.equal(readYoutubeConfig(secretOnly).mode, 'sandbox')
  assert.match(
    secretOnly.problems[0] ?? '',
    /YOUTUBE_CLIENT_SECRET is set but YOUTUBE_CLIENT_ID is not/,
  )

  const urls = reader({
    ...CREDENTIALS,
    YOUTUBE_TOKEN_URL: 'not a url',
    YOUTUBE_API_URL: 'http://www.googleapis.com',
    YOUTUBE_REDIRECT_URI: 'https://gallery.example/cb?x=1',
  })
  readYoutubeConfig(urls)
  assert.equal(urls.problems.length, 3)
  assert.ok(urls.problems.some((p) => p.startsWith('YOUTUBE_TOKEN_URL must be an absolute URL')))
  assert.ok(urls.problems.some((p) => p.startsWith('YOUTUBE_API_URL must use https')))
  assert.ok(urls.problems.some((p) => p.startsWith('YOUTUBE_REDIRECT_URI must not contain')))

  for (const bad of ['0', '-5', 'lots', '100000001']) {
    const env = reader({ ...CREDENTIALS, YOUTUBE_DAILY_QUOTA_UNITS: bad })
    const config = readYoutubeConfig(env)
    assert.equal(env.problems.length, 1, bad)
    assert.match(env.problems[0] ?? '', /^YOUTUBE_DAILY_QUOTA_UNITS must be a whole number/)
    assert.equal(config.settings.dailyQuotaUnits, 10_000, 'the default stands in')
  }
})

test('capabilities: non-rotating refresh tokens, PKCE, one app-wide daily quota in Pacific time', () => {
  const c = YOUTUBE_CAPABILITIES
  assert.deepEqual(c.renewal, { kind: 'refresh_token', rotating: false, marginMs: 300_000 })
  assert.equal(c.listingCoverage, 'complete')
  assert.equal(c.pkce, 'required')
  assert.equal(c.clientAuth, 'body')
  assert.equal(c.scopeSeparator, ' ')
  assert.equal(c.mediaUrls, 'stable')
  assert.equal(c.revocation, 'endpoint')
  assert.deepEqual(c.budgets.windows, [
    {
      name: PROJECT_DAILY_BUDGET,
      per: 'app',
      counts: 'every_call',
      window: { kind: 'daily', timeZone: 'America/Los_Angeles' },
      limit: 10_000,
      reserve: 0.2,
    },
  ])
  assert.equal(c.budgets.costs[YOUTUBE_CALLS.channels], 1)
  assert.equal(c.budgets.costs[YOUTUBE_CALLS.playlistItems], 1)
  assert.equal(c.budgets.costs[YOUTUBE_CALLS.videos], 1)
  assert.equal(c.budgets.costs[YOUTUBE_CALLS.token], 0, 'OAuth calls are not Data API quota')
  assert.equal(c.budgets.costs[YOUTUBE_CALLS.revoke], 0)
  assert.equal(c.budgets.costs[YOUTUBE_CALLS.shortsProbe], 0)
  assert.equal(c.budgets.defaultCost, 1)
})
