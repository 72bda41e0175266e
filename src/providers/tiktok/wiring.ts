/**
 * @module providers/tiktok/wiring — TikTok wired into the app (`ConnectablePlatform.wire`):
 * TikTok's real endpoints through the app's `fetch`, or in sandbox mode the emulator mounted at
 * `/sandbox/tiktok` and reached in-process.
 */
import { createInjectFetch } from '../emulator-core/inject-fetch.ts'
import type { PlatformWiring, WiringEnv } from '../types.ts'
import { TIKTOK_CAPABILITIES } from './capabilities.ts'
import { createTiktokClient } from './client.ts'
import type { TiktokConfig } from './config.ts'
import type { TiktokEmulator } from './emulator/index.ts'
import { TIKTOK_SANDBOX_PREFIX, createTiktokSandbox, sandboxTiktokEndpoints } from './sandbox.ts'

export async function wireTiktok(env: WiringEnv<TiktokConfig>): Promise<PlatformWiring> {
  let settings = env.config.settings
  let fetch = env.fetch
  let sandboxBase: string | undefined
  if (env.config.mode === 'sandbox') {
    const sandbox =
      (env.sandbox as TiktokEmulator | undefined) ??
      createTiktokSandbox({
        publicUrl: env.publicUrl,
        redirectUri: settings.redirectUri,
        clock: env.clock,
        ...(env.sandboxSeed === undefined ? {} : { seed: env.sandboxSeed }),
      })
    await env.app.register(sandbox.plugin, { prefix: TIKTOK_SANDBOX_PREFIX })
    settings = { ...settings, ...sandboxTiktokEndpoints(sandbox) }
    fetch = createInjectFetch(env.app, sandbox.baseUrl())
    sandboxBase = sandbox.baseUrl()
  }
  const config = settings
  return {
    capabilities: TIKTOK_CAPABILITIES,
    clientSecret: config.clientSecret,
    media: { fetch, ...(sandboxBase === undefined ? {} : { sandboxBase }) },
    createClient: (hooks) => createTiktokClient({ config, fetch, ...hooks }),
  }
}
