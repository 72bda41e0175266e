/**
 * @module maintenance/command — what the maintenance commands (`import:firestore`, `rotate-keys`)
 * share: the configuration read exactly as the service reads it, the token keys, a store that is
 * always closed, and one way to end (exit code, or the failure in plain words on stderr).
 */
import { loadConfig } from '../config/load-config.ts'
import { isGalleryError } from '../errors.ts'
import { openStore } from '../store/open-store.ts'
import type { Store } from '../store/types.ts'

/**
 * Opens the configured store and runs `body` with it and the token keys; resolves to `body`'s exit
 * code, or 1 after saying `missingKeys` when SOCIAL_TOKEN_ENCRYPTION_KEY is not set.
 */
export async function withStore(
  missingKeys: string,
  body: (store: Store, keys: readonly string[]) => Promise<number>,
): Promise<number> {
  const config = loadConfig(process.env)
  if (config.encryptionKeys === null) {
    process.stderr.write(`${missingKeys}\n`)
    return 1
  }
  const store = await openStore(config.database)
  try {
    return await body(store, config.encryptionKeys)
  } finally {
    await store.close()
  }
}

/** Runs a command's main and exits with its code; an exception is reported as "<label>: …". */
export function exitWith(label: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      const message =
        isGalleryError(error) || error instanceof Error ? error.message : String(error)
      process.stderr.write(`${label}: ${message}\n`)
      process.exit(1)
    },
  )
}
