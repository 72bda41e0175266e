/**
 * @module providers/youtube/emulator/main — `npm run emulator:youtube`: the YouTube emulator (Google
 * OAuth + Data API v3 read side) on its own port, so the app (or anything else) can be pointed at
 * it as if it were Google's servers. It prints the variables that point the app at it, and the
 * control token.
 *
 * It also serves the control API under `/_control` (see `control.ts`), gated: a loopback `Host`
 * only, no foreign `Origin`, `Authorization: Bearer <control token>`, JSON bodies only, with the
 * bounds of `bounds.ts`. The token is random per process (32 bytes, base64url) unless
 * EMULATOR_CONTROL_TOKEN sets it. The app's mounted sandbox has no control API at all.
 *
 * Environment (all optional): EMULATOR_PORT (8082), EMULATOR_HOST (127.0.0.1),
 * EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET, EMULATOR_REDIRECT_URIS (comma-separated),
 * EMULATOR_DAILY_QUOTA_UNITS (10000), EMULATOR_PUBLISHING_STATUS (production | testing),
 * EMULATOR_CONTROL_TOKEN (at least 32 characters).
 *
 * The server itself (listen, banner, signals) is the shared runner of `emulator-core/server.ts`.
 */
import { createManualClock } from '../../../clock.ts'
import {
  controlBanner,
  fail,
  runEmulatorServer,
  standaloneSettings,
} from '../../emulator-core/server.ts'
import { MAX_QUOTA_UNITS } from './bounds.ts'
import { standaloneYoutubeEmulator } from './control.ts'
import { DEFAULT_CLIENT_ID, createYoutubeEmulator } from './index.ts'

const env = process.env
const settings = standaloneSettings(env, {
  port: 8082,
  clientId: DEFAULT_CLIENT_ID,
  clientSecret: 'GOCSPX-emulator-client-secret',
  redirectUri: 'http://localhost:8080/api/socials/oauth/youtube/callback',
})
const quota = Number(env.EMULATOR_DAILY_QUOTA_UNITS ?? 10_000)
if (!Number.isInteger(quota) || quota < 1 || quota > MAX_QUOTA_UNITS)
  fail(`EMULATOR_DAILY_QUOTA_UNITS must be a whole number from 1 to ${MAX_QUOTA_UNITS}`)
const status = env.EMULATOR_PUBLISHING_STATUS ?? 'production'
if (status !== 'production' && status !== 'testing')
  fail('EMULATOR_PUBLISHING_STATUS must be production or testing')
const { clientId, clientSecret, redirectUris } = settings

let base = `http://${settings.host}:${settings.port}`
const emulator = createYoutubeEmulator({
  clock: createManualClock(),
  baseUrl: () => base,
  clientId,
  clientSecret,
  redirectUris,
  dailyQuotaUnits: quota,
  publishingStatus: status,
})
await runEmulatorServer({
  port: settings.port,
  host: settings.host,
  logLevel: env.LOG_LEVEL ?? 'info',
  plugin: standaloneYoutubeEmulator(emulator, { token: settings.controlToken }),
  onListening: (address) => {
    base = address
    return [
      `YouTube emulator (Google OAuth + Data API v3) listening on ${base}`,
      'Point the app at it with:',
      `  YOUTUBE_CLIENT_ID=${clientId}`,
      settings.defaultSecret
        ? `  YOUTUBE_CLIENT_SECRET=${clientSecret}`
        : '  YOUTUBE_CLIENT_SECRET=<your EMULATOR_CLIENT_SECRET>',
      `  YOUTUBE_AUTHORIZE_URL=${base}/o/oauth2/v2/auth`,
      `  YOUTUBE_TOKEN_URL=${base}/token`,
      `  YOUTUBE_REVOKE_URL=${base}/revoke`,
      `  YOUTUBE_API_URL=${base}`,
      `  YOUTUBE_WEB_URL=${base}/web`,
      `  (registered redirect URIs: ${redirectUris.join(', ')})`,
      ...controlBanner(base, settings),
    ]
  },
})
