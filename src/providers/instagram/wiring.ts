/**
 * @module providers/instagram/wiring — Instagram wired into the app (`ConnectablePlatform.wire`):
 * the real Graph API through the app's `fetch`, or in sandbox mode the emulator mounted at
 * `/sandbox/instagram` and reached in-process.
 */
import { createInjectFetch } from '../emulator-core/inject-fetch.ts'
import type { PlatformWiring, WiringEnv } from '../types.ts'
import { INSTAGRAM_CAPABILITIES, createInstagramClient } from './client.ts'
import type { InstagramConfig } from './config.ts'
import type { Emulator } from './emulator/index.ts'
import { SANDBOX_PREFIX, createSandbox, sandboxInstagramConfig } from './sandbox.ts'

export async function wireInstagram(env: WiringEnv<InstagramConfig>): Promise<PlatformWiring> {
  let settings = env.config.settings
  let fetch = env.fetch
  let sandboxBase: string | undefined
  if (env.config.mode === 'sandbox') {
    const sandbox =
      (env.sandbox as Emulator | undefined) ??
      createSandbox({
        publicUrl: env.publicUrl,
        redirectUri: settings.redirectUri,
        clock: env.clock,
        ...(env.sandboxSeed === undefined ? {} : { seed: env.sandboxSeed }),
      })
    await env.app.register(sandbox.plugin, { prefix: SANDBOX_PREFIX })
    settings = sandboxInstagramConfig(settings, sandbox)
    fetch = createInjectFetch(env.app, sandbox.baseUrl())
    sandboxBase = sandbox.baseUrl()
  }
  const config = settings
  return {
    capabilities: INSTAGRAM_CAPABILITIES,
    clientSecret: config.clientSecret,
    media: { fetch, ...(sandboxBase === undefined ? {} : { sandboxBase }) },
    createClient: (hooks) => createInstagramClient({ config, fetch, ...hooks }),
  }
}
