/**
 * @module providers/instagram/emulator/main — `npm run emulator`: the Instagram emulator on its own
 * port, so the app (or anything else) can be pointed at it as if it were Meta's servers. It prints
 * the variables that point the app at it, and the control token.
 *
 * It also serves the control API under `/_control` (users, media, invalidations, faults, clock,
 * settings, reset, state; see `control.ts`), gated: a loopback `Host` only (else 421), no foreign
 * `Origin` (403), `Authorization: Bearer <control token>` (401) and JSON bodies only (415), with
 * the bounds of `bounds.ts`. The token is random per process (32 bytes, base64url) unless
 * EMULATOR_CONTROL_TOKEN sets it. The app's mounted sandbox has no control API at all.
 *
 * Environment (all optional): EMULATOR_PORT (8081), EMULATOR_HOST (127.0.0.1),
 * EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET, EMULATOR_REDIRECT_URIS (comma-separated),
 * EMULATOR_TOKEN_SHAPE (flat | wrapped), EMULATOR_LATENCY_MS, EMULATOR_CONTROL_TOKEN (at least
 * 32 characters).
 *
 * The server itself (listen, banner, signals) is the shared runner of `emulator-core/server.ts`.
 */
import { createManualClock } from '../../../clock.ts'
import { standaloneEmulator } from './control.ts'
import { createEmulator } from './index.ts'
import {
  controlBanner,
  fail,
  runEmulatorServer,
  standaloneSettings,
} from '../../emulator-core/server.ts'

const env = process.env
const settings = standaloneSettings(env, {
  port: 8081,
  clientId: 'emulator-instagram-app',
  clientSecret: 'emulator-client-secret',
  redirectUri: 'http://localhost:8080/api/socials/oauth/instagram/callback',
})
const latency = Number(env.EMULATOR_LATENCY_MS ?? 0)
if (!Number.isFinite(latency) || latency < 0)
  fail('EMULATOR_LATENCY_MS must be a number of milliseconds')
const shape = env.EMULATOR_TOKEN_SHAPE ?? 'flat'
if (shape !== 'flat' && shape !== 'wrapped') fail('EMULATOR_TOKEN_SHAPE must be flat or wrapped')
const { clientId, clientSecret, redirectUris } = settings

let base = `http://${settings.host}:${settings.port}`
const emulator = createEmulator({
  clock: createManualClock(),
  baseUrl: () => base,
  clientId,
  clientSecret,
  redirectUris,
  tokenResponseShape: shape,
  latencyMs: latency,
})
await runEmulatorServer({
  port: settings.port,
  host: settings.host,
  logLevel: env.LOG_LEVEL ?? 'info',
  plugin: standaloneEmulator(emulator, { token: settings.controlToken }),
  onListening: (address) => {
    base = address
    return [
      `Instagram emulator listening on ${base}`,
      'Point the app at it with:',
      `  INSTAGRAM_CLIENT_ID=${clientId}`,
      settings.defaultSecret
        ? `  INSTAGRAM_CLIENT_SECRET=${clientSecret}`
        : '  INSTAGRAM_CLIENT_SECRET=<your EMULATOR_CLIENT_SECRET>',
      `  INSTAGRAM_AUTHORIZE_URL=${base}/oauth/authorize`,
      `  INSTAGRAM_TOKEN_URL=${base}/oauth/access_token`,
      `  INSTAGRAM_GRAPH_URL=${base}/graph`,
      `  (registered redirect URIs: ${redirectUris.join(', ')})`,
      ...controlBanner(base, settings),
    ]
  },
})
