/**
 * @module providers/tiktok/emulator/main — `npm run emulator:tiktok`: the TikTok emulator (Login
 * Kit v2 + Display API read side) on its own port, so the app (or anything else) can be pointed
 * at it as if it were TikTok's servers. It prints the variables that point the app at it, and the
 * control token.
 *
 * It also serves the control API under `/_control` (see `control.ts`), gated: a loopback `Host`
 * only, no foreign `Origin`, `Authorization: Bearer <control token>`, JSON bodies only, with the
 * bounds of `bounds.ts`. The token is random per process unless EMULATOR_CONTROL_TOKEN sets it.
 *
 * Environment (all optional): EMULATOR_PORT (8083), EMULATOR_HOST (127.0.0.1),
 * EMULATOR_CLIENT_ID (the client key), EMULATOR_CLIENT_SECRET, EMULATOR_REDIRECT_URIS
 * (comma-separated), EMULATOR_TOKEN_LIFETIMES (current | legacy), EMULATOR_OAUTH_ERROR_STATUS
 * (400 | 200), EMULATOR_WEBHOOK_URL (where `authorization.removed` events are POSTed, with the
 * global `fetch`), EMULATOR_CONTROL_TOKEN (at least 32 characters).
 */
import { createManualClock } from '../../../clock.ts'
import {
  controlBanner,
  fail,
  runEmulatorServer,
  standaloneSettings,
} from '../../emulator-core/server.ts'
import { standaloneTiktokEmulator } from './control.ts'
import { DEFAULT_CLIENT_KEY, createTiktokEmulator } from './index.ts'

const env = process.env
const settings = standaloneSettings(env, {
  port: 8083,
  clientId: DEFAULT_CLIENT_KEY,
  clientSecret: 'tiktok-emulator-client-secret',
  redirectUri: 'http://localhost:8080/api/socials/oauth/tiktok/callback',
})
const lifetimes = env.EMULATOR_TOKEN_LIFETIMES ?? 'current'
if (lifetimes !== 'current' && lifetimes !== 'legacy')
  fail('EMULATOR_TOKEN_LIFETIMES must be current or legacy')
const errorStatus = env.EMULATOR_OAUTH_ERROR_STATUS ?? '400'
if (errorStatus !== '400' && errorStatus !== '200')
  fail('EMULATOR_OAUTH_ERROR_STATUS must be 400 or 200')
const webhookUrl = env.EMULATOR_WEBHOOK_URL
if (webhookUrl !== undefined && !/^https?:\/\/\S+$/.test(webhookUrl))
  fail('EMULATOR_WEBHOOK_URL must be an http(s) URL')
const { clientId: clientKey, clientSecret, redirectUris } = settings

let base = `http://${settings.host}:${settings.port}`
const emulator = createTiktokEmulator({
  clock: createManualClock(),
  baseUrl: () => base,
  clientKey,
  clientSecret,
  redirectUris,
  lifetimes,
  oauthErrorStatus: errorStatus === '200' ? 200 : 400,
  ...(webhookUrl === undefined ? {} : { webhookUrl, fetch: (url, init) => fetch(url, init) }),
})
await runEmulatorServer({
  port: settings.port,
  host: settings.host,
  logLevel: env.LOG_LEVEL ?? 'info',
  plugin: standaloneTiktokEmulator(emulator, { token: settings.controlToken }),
  onListening: (address) => {
    base = address
    return [
      `TikTok emulator (Login Kit v2 + Display API) listening on ${base}`,
      'Point the app at it with:',
      `  TIKTOK_CLIENT_KEY=${clientKey}`,
      settings.defaultSecret
        ? `  TIKTOK_CLIENT_SECRET=${clientSecret}`
        : '  TIKTOK_CLIENT_SECRET=<your EMULATOR_CLIENT_SECRET>',
      `  TIKTOK_AUTHORIZE_URL=${base}/v2/auth/authorize/`,
      `  TIKTOK_API_URL=${base}`,
      `  (registered redirect URIs: ${redirectUris.join(', ')})`,
      webhookUrl === undefined
        ? '  (no EMULATOR_WEBHOOK_URL: authorization.removed events are not delivered)'
        : `  (authorization.removed events go to ${webhookUrl})`,
      ...controlBanner(base, settings),
    ]
  },
})
