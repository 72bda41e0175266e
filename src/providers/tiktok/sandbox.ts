/**
 * @module providers/tiktok/sandbox — the TikTok emulator mounted inside the app for the embedded
 * default (development without TikTok credentials). The in-process `fetch` that reaches it is
 * provider-neutral: `providers/emulator-core/inject-fetch.ts`. Never used in production: the
 * config only selects sandbox mode outside production.
 *
 * The mounted sandbox (`emulator.plugin` at `/sandbox/tiktok`) serves only what a person needs
 * through the page: the consent page and its form, the token and revoke endpoints, the Display
 * API, the cover CDN and the share links. It has no control API (anyone who reaches the app
 * could otherwise reshape every account, revoke every connection or exhaust memory); tests shape
 * the world in-process through `emulator.control`.
 *
 * With a `seed`, the client secret and the token signing secret are derived from it (HMAC, with
 * labels of their own, distinct from the other sandboxes'), so that tokens the app keeps stay
 * valid across restarts. This module imports nothing from the app or its config: the app merges
 * `sandboxTiktokEndpoints` over its `TiktokConfig`.
 */
import { sandboxSecrets } from '../emulator-core/sandbox-secrets.ts'
import type { Clock } from '../../clock.ts'
import { DEFAULT_CLIENT_KEY, createTiktokEmulator, type TiktokEmulator } from './emulator/index.ts'

export const TIKTOK_SANDBOX_PREFIX = '/sandbox/tiktok'

export interface TiktokSandboxOptions {
  /** The app's PUBLIC_URL (no trailing slash). */
  readonly publicUrl: string
  /** The app's registered callback (`TIKTOK_REDIRECT_URI`). */
  readonly redirectUri: string
  readonly clock: Clock
  /** Keeps emulator tokens valid across restarts; derive it from a persistent secret. */
  readonly seed?: string
}

export function createTiktokSandbox(options: TiktokSandboxOptions): TiktokEmulator {
  const base = `${options.publicUrl.replace(/\/+$/, '')}${TIKTOK_SANDBOX_PREFIX}`
  const secrets = sandboxSecrets(options.seed, 'psg-tiktok-sandbox')
  return createTiktokEmulator({
    clock: options.clock,
    baseUrl: () => base,
    clientKey: DEFAULT_CLIENT_KEY,
    redirectUris: [options.redirectUri],
    ...secrets,
  })
}

export interface TiktokSandboxEndpoints {
  readonly clientKey: string
  readonly clientSecret: string
  readonly authorizeUrl: string
  readonly apiUrl: string
}

/** The endpoints of a sandbox mounted at PUBLIC_URL + TIKTOK_SANDBOX_PREFIX. */
export function sandboxTiktokEndpoints(emulator: TiktokEmulator): TiktokSandboxEndpoints {
  const base = emulator.baseUrl()
  return {
    clientKey: emulator.state.settings.clientKey,
    clientSecret: emulator.state.settings.clientSecret,
    authorizeUrl: `${base}/v2/auth/authorize/`,
    apiUrl: base,
  }
}
