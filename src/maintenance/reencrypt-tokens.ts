/**
 * @module maintenance/reencrypt-tokens — key rotation in practice: re-encrypts every stored token
 * under the first key of `SOCIAL_TOKEN_ENCRYPTION_KEY` (put the new key first, keep the old ones
 * after it, run this, then drop the old keys).
 *
 * Safe while the service is serving: each token is replaced with a compare-and-swap on its old
 * ciphertext, so a token renewed or removed meanwhile is left alone (the service writes new
 * tokens under the first key already). Tokens are read a page at a time, never all at once.
 */
import type { FernetKeyRing } from '../crypto/fernet.ts'
import type { Store } from '../store/types.ts'

export interface ReencryptReport {
  /** Tokens looked at. */
  scanned: number
  /** Rewritten under the first key. */
  reencrypted: number
  /** Already under the first key: untouched. */
  current: number
  /** Changed by the service between the read and the write: left as the service wrote it. */
  changed_meanwhile: number
  /** No configured key reads them (their accounts need reconnecting): untouched. */
  unreadable: number
}

export async function reencryptTokens(
  store: Store,
  vault: FernetKeyRing,
  now: () => number,
  pageSize = 200,
): Promise<ReencryptReport> {
  const report: ReencryptReport = {
    scanned: 0,
    reencrypted: 0,
    current: 0,
    changed_meanwhile: 0,
    unreadable: 0,
  }
  let afterId: string | null = null
  for (;;) {
    const page = await store.listStoredTokens({ afterId, limit: pageSize })
    for (const row of page) {
      report.scanned++
      const token = row.encrypted_credentials
      if (vault.isUnderPrimaryKey(token)) {
        report.current++
        continue
      }
      let rotated: string
      try {
        rotated = vault.rotate(token)
      } catch {
        report.unreadable++
        continue
      }
      const replaced = await store.replaceToken({
        accountId: row.id,
        previousToken: token,
        encryptedToken: rotated,
        now: now(),
      })
      if (replaced) report.reencrypted++
      else report.changed_meanwhile++
    }
    const last = page[page.length - 1]
    if (last === undefined || page.length < pageSize) break
    afterId = last.id
  }
  return report
}
