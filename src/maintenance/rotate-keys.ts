/**
 * @module maintenance/rotate-keys — `npm run rotate-keys [-- --json]`: re-encrypts every stored
 * token under the first key of SOCIAL_TOKEN_ENCRYPTION_KEY and reports how many rows changed.
 * Reads DATABASE_URL and the keys like the service. Exit code 0, or 2 when some tokens no
 * configured key can read (reported, left untouched), 1 when it could not run.
 */
import { FernetKeyRing } from '../crypto/fernet.ts'
import { reencryptTokens } from './reencrypt-tokens.ts'
import { exitWith, withStore } from './command.ts'

async function main(): Promise<number> {
  const args = process.argv.slice(2)
  if (args.some((a) => a !== '--json')) {
    process.stderr.write('usage: npm run rotate-keys [-- --json]\n')
    return 1
  }
  return withStore(
    'SOCIAL_TOKEN_ENCRYPTION_KEY must be set: new key first, then the old ones',
    async (store, keys) => {
      const report = await reencryptTokens(store, new FernetKeyRing(keys), Date.now)
      process.stdout.write(
        args.includes('--json')
          ? `${JSON.stringify(report)}\n`
          : `${report.reencrypted} tokens re-encrypted under the first key; ${report.current} already were; ${report.changed_meanwhile} changed by the service meanwhile (left as written); ${report.unreadable} unreadable with every configured key (left untouched; those accounts need reconnecting) — ${report.scanned} scanned\n`,
      )
      return report.unreadable > 0 ? 2 : 0
    },
  )
}

exitWith('Key rotation failed', main)
