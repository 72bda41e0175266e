/**
 * @module providers/youtube/sandbox — the YouTube emulator mounted inside the app for the embedded
 * default (development without Google credentials). The in-process `fetch` that reaches it is
 * provider-neutral: `providers/emulator-core/inject-fetch.ts`. Never used in production: the
 * config only selects sandbox mode outside production.
 *
 * The mounted sandbox (`emulator.plugin` at `/sandbox/youtube`) serves only what a person needs
 * through the page: the consent page and its form, the token and revoke endpoints, the Data API,
 * the thumbnail CDN and the Shorts probe. It has no control API (anyone who reaches the app could
 * otherwise reshape every channel, revoke every connection or exhaust memory); tests shape the
 * world in-process through `emulator.control`.
 *
 * With a `seed`, the client secret and the token signing secret are derived from it (HMAC, with
 * labels of their own, distinct from the Instagram sandbox's), so that tokens the app keeps stay
 * valid across restarts. This module imports nothing from the app or its config: the app merges
 * `sandboxYoutubeEndpoints` over its `YoutubeConfig`.
 */
import { sandboxSecrets } from '../emulator-core/sandbox-secrets.ts'
import type { Clock } from '../../clock.ts'
import { createYoutubeEmulator, type YoutubeEmulator } from './emulator/index.ts'

export const YOUTUBE_SANDBOX_PREFIX = '/sandbox/youtube'

export interface YoutubeSandboxOptions {
  /** The app's PUBLIC_URL (no trailing slash). */
  readonly publicUrl: string
  /** The app's registered callback (`YOUTUBE_REDIRECT_URI`). */
  readonly redirectUri: string
  readonly clock: Clock
  /** Keeps emulator tokens valid across restarts; derive it from a persistent secret. */
  readonly seed?: string
}

export function createYoutubeSandbox(options: YoutubeSandboxOptions): YoutubeEmulator {
  const base = `${options.publicUrl.replace(/\/+$/, '')}${YOUTUBE_SANDBOX_PREFIX}`
  const secrets = sandboxSecrets(options.seed, 'psg-youtube-sandbox')
  return createYoutubeEmulator({
    clock: options.clock,
    baseUrl: () => base,
    clientId: 'sandbox-youtube-client.apps.googleusercontent.com',
    redirectUris: [options.redirectUri],
    ...secrets,
    // Google's client secrets start with GOCSPX-
    ...(secrets.clientSecret === undefined
      ? {}
      : { clientSecret: `GOCSPX-${secrets.clientSecret}` }),
  })
}

export interface YoutubeSandboxEndpoints {
  readonly clientId: string
  readonly clientSecret: string
  readonly authorizeUrl: string
  readonly tokenUrl: string
  readonly revokeUrl: string
  readonly apiUrl: string
  readonly webUrl: string
}

/** The endpoints of a sandbox mounted at PUBLIC_URL + YOUTUBE_SANDBOX_PREFIX. */
export function sandboxYoutubeEndpoints(emulator: YoutubeEmulator): YoutubeSandboxEndpoints {
  const base = emulator.baseUrl()
  return {
    clientId: emulator.state.settings.clientId,
    clientSecret: emulator.state.settings.clientSecret,
    authorizeUrl: `${base}/o/oauth2/v2/auth`,
    tokenUrl: `${base}/token`,
    revokeUrl: `${base}/revoke`,
    apiUrl: base,
    webUrl: `${base}/web`,
  }
}
