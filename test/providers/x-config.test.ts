import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  DEFAULT_MONTHLY_POST_READ_LIMIT,
  MONTHLY_POST_READS_BUDGET,
  X_NOT_CONFIGURED_MESSAGE,
  X_SCOPES,
  readXConfig,
  xTimelinePath,
} from '../../src/providers/x/config.ts'
import {
  ACCOUNT_WINDOW_BUDGET,
  X_CALLS,
  X_CAPABILITIES,
  X_PAGE_SIZE,
} from '../../src/providers/x/capabilities.ts'
import type { ConfigReader } from '../../src/providers/types.ts'
import { envReaders } from '../../src/config/load-config.ts'
import { windowAt } from '../../src/socials/budget-windows.ts'

/** The loader's own readers (`envReaders`), lent as `loadConfig` lends them, in `nodeEnv`. */
function reader(
  env: Record<string, string>,
  nodeEnv: ConfigReader['nodeEnv'] = 'production',
): ConfigReader & { problems: string[] } {
  const problems: string[] = []
  return { nodeEnv, publicUrl: 'https://gallery.example', problems, ...envReaders(env, problems) }
}

const CONFIDENTIAL = {
  X_CLIENT_ID: 'Zml4dHVyZS1jbGllbnQtaWQ6MTpjaQ',
  X_CLIENT_SECRET: 'fixture-secret',
}

test('real mode with a confidential client: X defaults, the callback under PUBLIC_URL, 10,000 posts a month', () => {
  const env = reader(CONFIDENTIAL)
  const config = readXConfig(env)
  assert.deepEqual(env.problems, [])
  assert.equal(config.mode, 'real')
  assert.deepEqual(config.settings, {
    clientId: CONFIDENTIAL.X_CLIENT_ID,
    clientSecret: 'fixture-secret',
    redirectUri: 'https://gallery.example/api/socials/oauth/x/callback',
    authorizeUrl: 'https://x.com/i/oauth2/authorize',
    apiUrl: 'https://api.x.com',
    scopes: ['tweet.read', 'users.read', 'offline.access'],
    monthlyPostReadLimit: 10_000,
    requestTimeoutMs: 15_000,
  })
  assert.deepEqual(config.pacing.limits, {
    [MONTHLY_POST_READS_BUDGET]: DEFAULT_MONTHLY_POST_READ_LIMIT,
  })
  assert.equal(config.pacing.slowDownPercent, 80)
  assert.ok(config.pacing.maxPauseMs > 0, '15-minute windows are helped by pacing')
})

test('a public client: the Client ID alone is real mode, with no secret', () => {
  const env = reader({ X_CLIENT_ID: 'public-client-id' })
  const config = readXConfig(env)
  assert.deepEqual(env.problems, [])
  assert.equal(config.mode, 'real')
  assert.equal(config.settings.clientSecret, '')
})

test('a secret without a Client ID is a problem, and no secret is kept', () => {
  for (const nodeEnv of ['production', 'development'] as const) {
    const env = reader({ X_CLIENT_SECRET: 'orphan' }, nodeEnv)
    const config = readXConfig(env)
    assert.equal(env.problems.length, 1, nodeEnv)
    assert.match(env.problems[0] ?? '', /X_CLIENT_SECRET is set but X_CLIENT_ID is not/)
    assert.notEqual(config.mode, 'real')
    assert.equal(config.settings.clientSecret, '')
  }
})

test('every variable is read', () => {
  const env = reader({
    ...CONFIDENTIAL,
    X_REDIRECT_URI: 'https://gallery.example/custom/x',
    X_AUTHORIZE_URL: 'https://auth.proxy.example/i/oauth2/authorize',
    X_API_URL: 'https://api.proxy.example/',
    X_MONTHLY_POST_READ_LIMIT: '250000',
    X_REQUEST_TIMEOUT_MS: '5000',
  })
  const { settings, pacing } = readXConfig(env)
  assert.deepEqual(env.problems, [])
  assert.equal(settings.redirectUri, 'https://gallery.example/custom/x')
  assert.equal(settings.authorizeUrl, 'https://auth.proxy.example/i/oauth2/authorize')
  assert.equal(settings.apiUrl, 'https://api.proxy.example', 'no trailing slash')
  assert.equal(settings.monthlyPostReadLimit, 250_000)
  assert.equal(settings.requestTimeoutMs, 5000)
  assert.deepEqual(pacing.limits, { monthly_post_reads: 250_000 })
})

test('modes: sandbox without credentials outside production, unconfigured in production', () => {
  for (const nodeEnv of ['development', 'test'] as const) {
    const env = reader({}, nodeEnv)
    assert.equal(readXConfig(env).mode, 'sandbox', nodeEnv)
    assert.deepEqual(env.problems, [])
  }
  const env = reader({})
  assert.equal(readXConfig(env).mode, 'unconfigured')
  assert.deepEqual(
    env.problems,
    [],
    'no credentials in production is not a problem: connecting answers 503',
  )
  assert.match(X_NOT_CONFIGURED_MESSAGE, /X_CLIENT_ID/)
  assert.match(X_NOT_CONFIGURED_MESSAGE, /X_CLIENT_SECRET/)
  assert.match(X_NOT_CONFIGURED_MESSAGE, /X_REDIRECT_URI/)
})

test('bad values are problems: a monthly limit below one page or not a number, a non-https URL', () => {
  for (const [name, value, pattern] of [
    [
      'X_MONTHLY_POST_READ_LIMIT',
      '99',
      /X_MONTHLY_POST_READ_LIMIT must be a whole number from 100/,
    ],
    ['X_MONTHLY_POST_READ_LIMIT', 'lots', /X_MONTHLY_POST_READ_LIMIT/],
    ['X_REQUEST_TIMEOUT_MS', '10', /X_REQUEST_TIMEOUT_MS/],
    ['X_API_URL', 'http://api.x.com', /X_API_URL/],
    ['X_AUTHORIZE_URL', 'not a url', /X_AUTHORIZE_URL/],
    ['X_REDIRECT_URI', 'https://gallery.example/cb?x=1', /X_REDIRECT_URI/],
  ] as const) {
    const env = reader({ ...CONFIDENTIAL, [name]: value })
    readXConfig(env)
    assert.equal(env.problems.length, 1, `${name}=${value}: ${env.problems.join('; ')}`)
    assert.match(env.problems[0] ?? '', pattern)
  }
})

test('scopes: read posts and users, and offline.access for a refresh token', () => {
  assert.deepEqual([...X_SCOPES], ['tweet.read', 'users.read', 'offline.access'])
  assert.equal(xTimelinePath('123'), '/2/users/123/tweets')
  assert.equal(
    xTimelinePath('1/../x'),
    '/2/users/1%2F..%2Fx/tweets',
    'an id never escapes its path segment',
  )
})

test('capabilities: rotating refresh tokens, a 3,200-post window, PKCE required, Basic, stable media, revocation', () => {
  const c = X_CAPABILITIES
  assert.deepEqual(c.renewal, { kind: 'refresh_token', rotating: true, marginMs: 5 * 60_000 })
  assert.equal(c.listingCoverage, 'window')
  assert.equal(c.pkce, 'required')
  assert.equal(c.clientAuth, 'basic')
  assert.equal(c.scopeSeparator, ' ')
  assert.equal(c.mediaUrls, 'stable')
  assert.equal(c.revocation, 'endpoint')
})

test('budgets: a rolling 15-minute window per account, a monthly post-read cap every call counts, in posts', () => {
  const { windows, costs, defaultCost } = X_CAPABILITIES.budgets
  const account = windows.find((w) => w.name === ACCOUNT_WINDOW_BUDGET)
  assert.deepEqual(account, {
    name: 'account_15min',
    per: 'account',
    window: { kind: 'rolling', ms: 15 * 60_000 },
    limit: 900 * 100,
  })
  const monthly = windows.find((w) => w.name === MONTHLY_POST_READS_BUDGET)
  assert.ok(monthly !== undefined)
  assert.equal(monthly.per, 'app')
  assert.equal(monthly.counts, 'every_call', 'every account spends the same monthly cap')
  assert.deepEqual(monthly.window, { kind: 'monthly', timeZone: 'UTC' })
  assert.equal(monthly.limit, DEFAULT_MONTHLY_POST_READ_LIMIT)
  // the month is the calendar month in UTC
  const bounds = windowAt(monthly.window, Date.UTC(2026, 1, 14, 23))
  assert.equal(bounds.start, Date.UTC(2026, 1, 1))
  assert.equal(bounds.end, Date.UTC(2026, 2, 1))
  // a timeline call is charged its most: a full page of posts; OAuth calls are free
  assert.equal(costs[X_CALLS.timeline], X_PAGE_SIZE)
  assert.equal(X_PAGE_SIZE, 100)
  assert.equal(costs[X_CALLS.me], 2, 'a User read costs two post reads')
  assert.equal(costs[X_CALLS.token], 0)
  assert.equal(costs[X_CALLS.revoke], 0)
  assert.equal(defaultCost, 1)
  // the smallest configurable cap still fits the dearest call
  assert.ok(Math.max(...Object.values(costs)) <= 100)
})
