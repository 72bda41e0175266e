/**
 * @module providers/x/wiring — X wired into the app (`ConnectablePlatform.wire`): X's real
 * endpoints through the app's `fetch`, or in sandbox mode the emulator mounted at `/sandbox/x`
 * and reached in-process.
 */
import { createInjectFetch } from '../emulator-core/inject-fetch.ts'
import type { PlatformWiring, WiringEnv } from '../types.ts'
import { X_CAPABILITIES } from './capabilities.ts'
import { createXClient } from './client.ts'
import type { XConfig } from './config.ts'
import type { XEmulator } from './emulator/index.ts'
import { X_SANDBOX_PREFIX, createXSandbox, sandboxXEndpoints } from './sandbox.ts'

export async function wireX(env: WiringEnv<XConfig>): Promise<PlatformWiring> {
  let settings = env.config.settings
  let fetch = env.fetch
  let sandboxBase: string | undefined
  if (env.config.mode === 'sandbox') {
    const sandbox =
      (env.sandbox as XEmulator | undefined) ??
      createXSandbox({
        publicUrl: env.publicUrl,
        redirectUri: settings.redirectUri,
        clock: env.clock,
        ...(env.sandboxSeed === undefined ? {} : { seed: env.sandboxSeed }),
      })
    await env.app.register(sandbox.plugin, { prefix: X_SANDBOX_PREFIX })
    settings = { ...settings, ...sandboxXEndpoints(sandbox) }
    fetch = createInjectFetch(env.app, sandbox.baseUrl())
    sandboxBase = sandbox.baseUrl()
  }
  const config = settings
  return {
    capabilities: X_CAPABILITIES,
    clientSecret: config.clientSecret,
    media: { fetch, ...(sandboxBase === undefined ? {} : { sandboxBase }) },
    createClient: (hooks) => createXClient({ config, fetch, ...hooks }),
  }
}
