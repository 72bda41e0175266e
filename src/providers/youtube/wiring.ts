/**
 * @module providers/youtube/wiring — YouTube wired into the app (`ConnectablePlatform.wire`):
 * Google's real endpoints through the app's `fetch`, or in sandbox mode the emulator mounted at
 * `/sandbox/youtube` and reached in-process. One Shorts-verdict memory per app, shared by its
 * clients.
 */
import { createInjectFetch } from '../emulator-core/inject-fetch.ts'
import type { PlatformWiring, WiringEnv } from '../types.ts'
import { YOUTUBE_CAPABILITIES } from './capabilities.ts'
import { ShortsVerdicts, createYoutubeClient } from './client.ts'
import type { YoutubeConfig } from './config.ts'
import type { YoutubeEmulator } from './emulator/index.ts'
import { YOUTUBE_SANDBOX_PREFIX, createYoutubeSandbox, sandboxYoutubeEndpoints } from './sandbox.ts'

export async function wireYoutube(env: WiringEnv<YoutubeConfig>): Promise<PlatformWiring> {
  let settings = env.config.settings
  let fetch = env.fetch
  let sandboxBase: string | undefined
  if (env.config.mode === 'sandbox') {
    const sandbox =
      (env.sandbox as YoutubeEmulator | undefined) ??
      createYoutubeSandbox({
        publicUrl: env.publicUrl,
        redirectUri: settings.redirectUri,
        clock: env.clock,
        ...(env.sandboxSeed === undefined ? {} : { seed: env.sandboxSeed }),
      })
    await env.app.register(sandbox.plugin, { prefix: YOUTUBE_SANDBOX_PREFIX })
    settings = { ...settings, ...sandboxYoutubeEndpoints(sandbox) }
    fetch = createInjectFetch(env.app, sandbox.baseUrl())
    sandboxBase = sandbox.baseUrl()
  }
  const config = settings
  const shorts = new ShortsVerdicts()
  return {
    capabilities: YOUTUBE_CAPABILITIES,
    clientSecret: config.clientSecret,
    media: { fetch, ...(sandboxBase === undefined ? {} : { sandboxBase }) },
    createClient: (hooks) => createYoutubeClient({ config, fetch, shorts, ...hooks }),
  }
}
