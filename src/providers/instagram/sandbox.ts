/**
 * @module providers/instagram/sandbox — the emulator mounted inside the app for the embedded
 * default (development without Instagram credentials). The in-process `fetch` that reaches it is
 * provider-neutral: `providers/emulator-core/inject-fetch.ts`.
 * Never used in production: `loadConfig` only selects sandbox mode outside production.
 *
 * The mounted sandbox (`emulator.plugin` at `/sandbox/instagram`) serves only what a person needs
 * through the page: the consent page and its form, the OAuth and token endpoints, the Graph API
 * and the CDN. It has no control API: anyone who reaches the app could otherwise plant or remove
 * posts in every user's gallery, invalidate every connection or exhaust memory. Tests shape the
 * world in-process through `emulator.control`; the HTTP control API exists only in the standalone
 * `npm run emulator`, gated (`emulator/control.ts`).
 */
import { sandboxSecrets } from '../emulator-core/sandbox-secrets.ts'
import type { Clock } from '../../clock.ts'
import type { InstagramConfig } from './config.ts'
import { createEmulator, type Emulator } from './emulator/index.ts'

export const SANDBOX_PREFIX = '/sandbox/instagram'

export interface SandboxOptions {
  /** PUBLIC_URL's origin, where the app mounts the sandbox. */
  readonly publicUrl: string
  /** The app's registered callback (`INSTAGRAM_REDIRECT_URI`). */
  readonly redirectUri: string
  readonly clock: Clock
  /** Keeps emulator tokens valid across restarts; derive it from a persistent secret. */
  readonly seed?: string
}

export function createSandbox(options: SandboxOptions): Emulator {
  const base = `${options.publicUrl}${SANDBOX_PREFIX}`
  const secrets = sandboxSecrets(options.seed, 'psg-sandbox')
  return createEmulator({
    clock: options.clock,
    baseUrl: () => base,
    clientId: 'sandbox-instagram-app',
    redirectUris: [options.redirectUri],
    ...secrets,
  })
}

/** The Instagram endpoints of a sandbox mounted at PUBLIC_URL + SANDBOX_PREFIX. */
export function sandboxInstagramConfig(
  settings: InstagramConfig,
  emulator: Emulator,
): InstagramConfig {
  const base = emulator.baseUrl()
  return {
    ...settings,
    clientId: emulator.state.settings.clientId,
    clientSecret: emulator.state.settings.clientSecret,
    authorizeUrl: `${base}/oauth/authorize`,
    tokenUrl: `${base}/oauth/access_token`,
    graphUrl: `${base}/graph`,
  }
}
