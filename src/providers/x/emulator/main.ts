/**
 * @module providers/x/emulator/main — `npm run emulator:x`: the X emulator (OAuth 2.0 with PKCE +
 * API v2 read side) on its own port, so the app (or anything else) can be pointed at it as if it
 * were X's servers. It prints the variables that point the app at it, and the control token.
 *
 * It also serves the control API under `/_control` (see `control.ts`), gated. The token is random
 * per process unless EMULATOR_CONTROL_TOKEN sets it. The app's mounted sandbox has no control API.
 *
 * Environment (all optional): EMULATOR_PORT (8084), EMULATOR_HOST (127.0.0.1),
 * EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET, EMULATOR_REDIRECT_URIS (comma-separated),
 * EMULATOR_CLIENT_TYPE (confidential | public), EMULATOR_MONTHLY_POST_CAP (3000000),
 * EMULATOR_CONTROL_TOKEN (at least 32 characters).
 */
import { createManualClock } from '../../../clock.ts'
import {
  controlBanner,
  fail,
  runEmulatorServer,
  standaloneSettings,
} from '../../emulator-core/server.ts'
import { MAX_POST_CAP } from './bounds.ts'
import { standaloneXEmulator } from './control.ts'
import { DEFAULT_CLIENT_ID, createXEmulator } from './index.ts'

const env = process.env
const settings = standaloneSettings(env, {
  port: 8084,
  clientId: DEFAULT_CLIENT_ID,
  clientSecret: 'x-emulator-client-secret',
  redirectUri: 'http://localhost:8080/api/socials/oauth/x/callback',
})
const cap = Number(env.EMULATOR_MONTHLY_POST_CAP ?? 3_000_000)
if (!Number.isInteger(cap) || cap < 1 || cap > MAX_POST_CAP)
  fail(`EMULATOR_MONTHLY_POST_CAP must be a whole number from 1 to ${MAX_POST_CAP}`)
const clientType = env.EMULATOR_CLIENT_TYPE ?? 'confidential'
if (clientType !== 'confidential' && clientType !== 'public')
  fail('EMULATOR_CLIENT_TYPE must be confidential or public')
const { clientId, clientSecret, redirectUris } = settings

let base = `http://${settings.host}:${settings.port}`
const emulator = createXEmulator({
  clock: createManualClock(),
  baseUrl: () => base,
  clientId,
  clientSecret,
  clientType,
  redirectUris,
  monthlyPostCap: cap,
})
await runEmulatorServer({
  port: settings.port,
  host: settings.host,
  logLevel: env.LOG_LEVEL ?? 'info',
  plugin: standaloneXEmulator(emulator, { token: settings.controlToken }),
  onListening: (address) => {
    base = address
    return [
      `X emulator (OAuth 2.0 + API v2) listening on ${base}`,
      'Point the app at it with:',
      `  X_CLIENT_ID=${clientId}`,
      clientType === 'public'
        ? '  (public client: leave X_CLIENT_SECRET unset)'
        : settings.defaultSecret
          ? `  X_CLIENT_SECRET=${clientSecret}`
          : '  X_CLIENT_SECRET=<your EMULATOR_CLIENT_SECRET>',
      `  X_AUTHORIZE_URL=${base}/i/oauth2/authorize`,
      `  X_API_URL=${base}`,
      `  (registered redirect URIs: ${redirectUris.join(', ')})`,
      ...controlBanner(base, settings),
    ]
  },
})
