/**
 * @module crypto/dev-key — development only: when SOCIAL_TOKEN_ENCRYPTION_KEY is not set, keep a
 * generated Fernet key in the data folder (mode 0600) so stored tokens stay readable across runs.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { GalleryError } from '../errors.ts'
import { FernetKey } from './fernet.ts'

export const DEV_KEY_FILE = 'dev-token-encryption.key'

export function loadOrCreateDevKey(dataDir: string): {
  key: string
  path: string
  created: boolean
} {
  const path = resolve(dataDir, DEV_KEY_FILE)
  if (existsSync(path)) {
    const key = readFileSync(path, 'utf8').trim()
    try {
      new FernetKey(key)
    } catch {
      throw new GalleryError(
        'ERR_CONFIG_INVALID',
        `${path} does not hold a Fernet key; restore it, or set SOCIAL_TOKEN_ENCRYPTION_KEY`,
      )
    }
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600)
    return { key, path, created: false }
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const key = FernetKey.generate()
  writeFileSync(path, `${key}\n`, { mode: 0o600, flag: 'wx' })
  return { key, path, created: true }
}
