/**
 * @module providers/emulator-core/sandbox-secrets — the secrets of a sandbox mounted in the app,
 * derived from a persistent seed (the first encryption key, `npm start`), so the tokens the app
 * keeps from its emulators stay valid across restarts. Each platform names its own namespace, so
 * no two sandboxes share a secret. Without a seed, the emulators pick random ones.
 */
import { createHmac } from 'node:crypto'

/** The secrets to give an emulator (an empty object without a seed). */
export function sandboxSecrets(
  seed: string | undefined,
  namespace: string,
): { clientSecret?: string; signingSecret?: string } {
  if (seed === undefined) return {}
  const derive = (label: string): string =>
    createHmac('sha256', seed).update(`${namespace}:${label}`).digest('base64url')
  return { clientSecret: derive('client-secret'), signingSecret: derive('signing-secret') }
}
