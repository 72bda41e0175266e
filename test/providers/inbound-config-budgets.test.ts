/**
 * What the registry derives from each connectable platform's data: its inbound routes (mounted by
 * buildApp, the server-to-server ones exempt from the same-origin check and no other), its
 * configuration section (read by the platform itself), and the budgets the rate governor counts.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyBaseLogger } from 'fastify'
import { buildTestApp } from '../helpers/build-app.ts'
import {
  CONNECTABLE,
  inboundRoutes,
  readProvidersConfig,
  serverToServerRoutes,
} from '../../src/providers/registry.ts'
import { INSTAGRAM_CAPABILITIES } from '../../src/providers/instagram/client.ts'
import { readInstagramConfig } from '../../src/providers/instagram/config.ts'
import type { ConfigReader, ProviderBudgets } from '../../src/providers/types.ts'
import { envReaders } from '../../src/config/load-config.ts'
import { createRateGovernor } from '../../src/socials/rate-governor.ts'
import type { ApiCallReservation, Store } from '../../src/store/types.ts'

test('inbound routes: declared once each; only POST callbacks are server-to-server (CSRF-exempt)', () => {
  const seen = new Set<string>()
  for (const { route } of inboundRoutes()) {
    const key = `${route.method} ${route.path}`
    assert.ok(!seen.has(key), `${key} declared twice`)
    seen.add(key)
    assert.match(route.path, /^\//)
    if (route.serverToServer) assert.equal(route.method, 'POST', key)
  }
  assert.deepEqual([...serverToServerRoutes()].sort(), [
    'POST /api/socials/oauth/instagram/data-deletion',
    'POST /api/socials/oauth/instagram/deauthorize',
    'POST /api/socials/oauth/tiktok/webhook',
  ])
})

test('buildApp mounts every inbound route of every connectable platform', async (t) => {
  const { app } = await buildTestApp(t)
  for (const { route } of inboundRoutes())
    assert.ok(app.hasRoute({ method: route.method, url: route.path }), route.path)
  assert.ok(app.hasRoute({ method: 'DELETE', url: '/api/socials/data' }))
  // a server-to-server callback needs no Origin: it reaches the handler (400: no signed_request)
  const callback = await app.inject({
    method: 'POST',
    url: '/api/socials/oauth/instagram/deauthorize',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'signed_request=',
  })
  assert.equal(callback.statusCode, 400)
  // the same-origin check still guards the core routes next to them
  const cross = await app.inject({
    method: 'DELETE',
    url: '/api/socials/data',
    headers: { origin: 'https://evil.example', cookie: 'psg_session=x' },
  })
  assert.equal(cross.statusCode, 403)
})

/** The loader's own readers (`envReaders`), lent as `loadConfig` lends them. */
function reader(env: Record<string, string>, problems: string[] = []): ConfigReader {
  return {
    nodeEnv: 'production',
    publicUrl: 'https://gallery.example',
    problems,
    ...envReaders(env, problems),
  }
}

test('config: every connectable platform contributes its section; Instagram reads its own variables', () => {
  const sections = readProvidersConfig(reader({}))
  assert.deepEqual(Object.keys(sections).sort(), CONNECTABLE.map((p) => p.info.id).sort())
  assert.equal(sections.instagram.mode, 'unconfigured')
  const real = readInstagramConfig(
    reader({
      INSTAGRAM_CLIENT_ID: 'id',
      INSTAGRAM_CLIENT_SECRET: 'secret',
      INSTAGRAM_CALLS_PER_HOUR_PER_ACCOUNT: '50',
    }),
  )
  assert.equal(real.mode, 'real')
  assert.equal(
    real.settings.redirectUri,
    'https://gallery.example/api/socials/oauth/instagram/callback',
  )
  assert.deepEqual(real.pacing.limits, { account_hourly: 50 })
  const problems: string[] = []
  readInstagramConfig(reader({ INSTAGRAM_CLIENT_ID: 'id' }, problems))
  assert.deepEqual(problems, [
    'INSTAGRAM_CLIENT_ID and INSTAGRAM_CLIENT_SECRET must be set together',
  ])
})

/** A store that admits every call and remembers what was reserved. */
function recordingStore(reservations: ApiCallReservation[]): Store {
  return {
    async reserveApiCall(reservation: ApiCallReservation) {
      reservations.push(reservation)
      return { allowed: true }
    },
    async recordApiUsage() {},
    async getApiBudgets() {
      return []
    },
  } as unknown as Store
}

const silent = { warn() {}, info() {}, error() {} } as unknown as FastifyBaseLogger
const clock = { now: () => 1_000_000 }

test("the governor counts the platform's declared windows under <platform>:app and <platform>:account:<id>", async () => {
  const reservations: ApiCallReservation[] = []
  const governor = createRateGovernor({
    store: recordingStore(reservations),
    clock,
    logger: silent,
    platform: 'instagram',
    budgets: INSTAGRAM_CAPABILITIES.budgets,
    pacing: { limits: { account_hourly: 42 }, slowDownPercent: 80, maxPauseMs: 0 },
  })
  await governor.beforeCall(null)
  await governor.beforeCall('a1')
  const hour = { kind: 'rolling', ms: 3_600_000 } as const
  assert.deepEqual(reservations, [
    {
      parts: [{ scope: 'instagram:app', window: hour, cap: null, cost: 1 }],
      blockedBy: [],
      now: 1_000_000,
    },
    {
      parts: [{ scope: 'instagram:account:a1', window: hour, cap: 42, cost: 1 }],
      blockedBy: ['instagram:app'],
      now: 1_000_000,
    },
  ])

  // another platform's data: X-like 15-minute windows, the spec's own limits
  reservations.length = 0
  const quarter: ProviderBudgets = {
    windows: [
      { name: 'app', per: 'app', window: { kind: 'rolling', ms: 900_000 }, limit: 1_500 },
      { name: 'user', per: 'account', window: { kind: 'rolling', ms: 900_000 }, limit: 900 },
    ],
    costs: {},
    defaultCost: 1,
  }
  const x = createRateGovernor({
    store: recordingStore(reservations),
    clock,
    logger: silent,
    platform: 'x',
    budgets: quarter,
    pacing: { limits: {}, slowDownPercent: 80, maxPauseMs: 0 },
  })
  await x.beforeCall(null)
  await x.beforeCall('a2')
  assert.deepEqual(
    reservations.map((r) => [r.parts.map((p) => [p.scope, p.cap, p.window]), r.blockedBy]),
    [
      [[['x:app', 1_500, { kind: 'rolling', ms: 900_000 }]], []],
      [[['x:account:a2', 900, { kind: 'rolling', ms: 900_000 }]], ['x:app']],
    ],
  )
})

test("the governor reserves daily windows as fixed bounds at midnight Pacific time, with the call kind's cost", async () => {
  const reservations: ApiCallReservation[] = []
  const budgets: ProviderBudgets = {
    windows: [
      {
        name: 'quota',
        per: 'app',
        counts: 'every_call',
        window: { kind: 'daily', timeZone: 'America/Los_Angeles' },
        limit: 10_000,
      },
    ],
    costs: { search: 100 },
    defaultCost: 1,
  }
  const now = Date.parse('2026-01-15T20:00:00Z')
  const youtube = createRateGovernor({
    store: recordingStore(reservations),
    clock: { now: () => now },
    logger: silent,
    platform: 'youtube',
    budgets,
    pacing: { limits: {}, slowDownPercent: 80, maxPauseMs: 0 },
  })
  await youtube.beforeCall('a3', 'search')
  await youtube.beforeCall('a3', 'videos')
  await youtube.beforeCall('a3')
  const day = {
    kind: 'fixed',
    start: Date.parse('2026-01-15T08:00:00Z'),
    end: Date.parse('2026-01-16T08:00:00Z'),
  }
  // an account's call spends the project's quota (every_call); it has no budget of its own
  assert.deepEqual(
    reservations.map((r) => [r.parts, r.blockedBy]),
    [100, 1, 1].map((cost) => [
      [
        {
          scope: 'youtube:account:a3',
          window: { kind: 'rolling', ms: 3_600_000 },
          cap: null,
          cost,
        },
        { scope: 'youtube:app', window: day, cap: 10_000, cost },
      ],
      ['youtube:app'],
    ]),
  )
})

test('the governor refuses budgets no call could ever fit, and unknown time zones', () => {
  const make =
    (budgets: ProviderBudgets, limits: Record<string, number> = {}) =>
    () =>
      createRateGovernor({
        store: recordingStore([]),
        clock,
        logger: silent,
        platform: 'youtube',
        budgets,
        pacing: { limits, slowDownPercent: 80, maxPauseMs: 0 },
      })
  const costly: ProviderBudgets = {
    windows: [{ name: 'q', per: 'app', window: { kind: 'rolling', ms: 60_000 }, limit: 10 }],
    costs: { search: 100 },
    defaultCost: 1,
  }
  assert.throws(make(costly), /costing 100 units can never fit budget "q"/)
  assert.doesNotThrow(make(costly, { q: 100 }), 'a configured limit that fits')
  const nowhere: ProviderBudgets = {
    windows: [
      { name: 'd', per: 'app', window: { kind: 'daily', timeZone: 'Mars/Olympus' }, limit: 10 },
    ],
    costs: {},
    defaultCost: 1,
  }
  assert.throws(make(nowhere), /unknown time zone/)
})
