/**
 * @module providers/x/sandbox — the X emulator mounted inside the app for the embedded default
 * (development without X credentials). The in-process `fetch` that reaches it is
 * provider-neutral: `providers/emulator-core/inject-fetch.ts`. Never used in production: the
 * config only selects sandbox mode outside production.
 *
 * The mounted sandbox (`emulator.plugin` at `/sandbox/x`) serves only what a person needs through
 * the page: the consent page and its form, the token and revoke endpoints, the API and the media
 * CDN. It has no control API; tests shape the world in-process through `emulator.control`.
 *
 * With a `seed`, the client secret and the token signing secret are derived from it (HMAC, with
 * labels of their own, distinct from the other sandboxes'), so that tokens the app keeps stay
 * valid across restarts. This module imports nothing from the app or its config: the app merges
 * `sandboxXEndpoints` over its `XConfig`.
 */
import { sandboxSecrets } from '../emulator-core/sandbox-secrets.ts'
import type { Clock } from '../../clock.ts'
import { createXEmulator, type XEmulator } from './emulator/index.ts'

export const X_SANDBOX_PREFIX = '/sandbox/x'

export interface XSandboxOptions {
  /** The app's PUBLIC_URL (no trailing slash). */
  readonly publicUrl: string
  /** The app's registered callback (`X_REDIRECT_URI`). */
  readonly redirectUri: string
  readonly clock: Clock
  /** Keeps emulator tokens valid across restarts; derive it from a persistent secret. */
  readonly seed?: string
}

export function createXSandbox(options: XSandboxOptions): XEmulator {
  const base = `${options.publicUrl.replace(/\/+$/, '')}${X_SANDBOX_PREFIX}`
  const secrets = sandboxSecrets(options.seed, 'psg-x-sandbox')
  return createXEmulator({
    clock: options.clock,
    baseUrl: () => base,
    clientId: 'c2FuZGJveC14LWNsaWVudDoxOmNp',
    clientType: 'confidential',
    redirectUris: [options.redirectUri],
    ...secrets,
  })
}

export interface XSandboxEndpoints {
  readonly clientId: string
  readonly clientSecret: string
  readonly authorizeUrl: string
  readonly apiUrl: string
}

/** The endpoints of a sandbox mounted at PUBLIC_URL + X_SANDBOX_PREFIX. */
export function sandboxXEndpoints(emulator: XEmulator): XSandboxEndpoints {
  const base = emulator.baseUrl()
  return {
    clientId: emulator.state.settings.clientId,
    clientSecret: emulator.state.settings.clientSecret,
    authorizeUrl: `${base}/i/oauth2/authorize`,
    apiUrl: base,
  }
}
