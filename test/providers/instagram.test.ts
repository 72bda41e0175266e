/**
 * Instagram passes the provider conformance suite against its emulator (served over https
 * addresses in-process, as a real deployment reaches Meta).
 */
import type { TestContext } from 'node:test'
import Fastify from 'fastify'
import { createManualClock } from '../../src/clock.ts'
import { createEmulator } from '../../src/providers/instagram/emulator/index.ts'
import { createInjectFetch } from '../../src/providers/emulator-core/inject-fetch.ts'
import { createInstagramClient } from '../../src/providers/instagram/client.ts'
import type { FetchLike } from '../../src/providers/types.ts'
import type { InstagramConfig } from '../../src/providers/instagram/config.ts'
import {
  recordIssuedTokens,
  runProviderConformance,
  type ConformanceHarness,
} from './conformance.ts'

const BASE = 'https://instagram.emulator.test'
const REDIRECT_URI = 'https://gallery.example/api/socials/oauth/instagram/callback'

async function harness(t: TestContext): Promise<ConformanceHarness> {
  const clock = createManualClock(Date.UTC(2026, 10, 1))
  const emulator = createEmulator({
    clock,
    baseUrl: () => BASE,
    clientId: 'conformance-app',
    clientSecret: 'conformance-secret-0123456789',
    redirectUris: [REDIRECT_URI],
  })
  const app = Fastify()
  await app.register(emulator.plugin)
  t.after(() => app.close())
  const inject = createInjectFetch(app, BASE)
  // every token and code the emulator hands out, for the secrecy checks
  const issued = new Set<string>()
  const fetch: FetchLike = async (input, init) => {
    const response = await inject(input, init)
    await recordIssuedTokens(response, issued)
    return response
  }
  const config: InstagramConfig = {
    clientId: 'conformance-app',
    clientSecret: 'conformance-secret-0123456789',
    redirectUri: REDIRECT_URI,
    authorizeUrl: `${BASE}/oauth/authorize`,
    tokenUrl: `${BASE}/oauth/access_token`,
    graphUrl: `${BASE}/graph`,
    graphVersion: 'v24.0',
    scopes: ['instagram_business_basic'],
    mediaPageSize: 25,
    requestTimeoutMs: 200,
  }
  const client = createInstagramClient({ config, fetch, now: () => clock.now() })
  return {
    client,
    async authorize(authorizationUrl) {
      const form = new URLSearchParams(new URL(authorizationUrl).searchParams)
      form.set('decision', 'allow')
      form.set('user_index', '1')
      const answer = await app.inject({
        method: 'POST',
        url: '/oauth/authorize',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: form.toString(),
      })
      const code = new URL(String(answer.headers.location)).searchParams.get('code') ?? ''
      issued.add(code.replace(/#_$/, ''))
      return code.replace(/#_$/, '')
    },
    postIds: () => (emulator.state.userByIndex(1)?.media ?? []).map((m) => m.id),
    fail(kind) {
      const faults = {
        unavailable: { kind: 'http_5xx', count: 1 },
        timeout: { kind: 'timeout', count: 1, hang_ms: 400 },
        rate_limited: { kind: 'throttle', code: 80002, count: 1, minutes: 20 },
        refused: {
          kind: 'graph_error',
          code: 100,
          message: 'Unsupported get request',
          status: 400,
          count: 1,
        },
        reauth: {
          kind: 'graph_error',
          code: 190,
          subcode: 460,
          message: 'Error validating access token',
          status: 400,
          count: 1,
        },
      } as const
      emulator.control.addFault(faults[kind])
    },
    advance: (ms) => clock.advance(ms),
    issuedSecrets: () => [...issued],
  }
}

runProviderConformance({
  name: 'instagram',
  setup: harness,
  expected: {
    redirectUri: REDIRECT_URI,
    scopes: ['instagram_business_basic'],
    scopeSeparator: ',',
  },
  skip: {
    'refresh-rotation': 'Instagram extends its access token; there is no refresh token to rotate',
  },
})
