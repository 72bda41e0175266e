/**
 * @module import/main — `npm run import:firestore -- <export.jsonl> [--dry-run] [--json]`.
 *
 * Reads DATABASE_URL and SOCIAL_TOKEN_ENCRYPTION_KEY like the service (same validation), imports
 * the Firestore `user_social_accounts` export and prints a report: created / updated / skipped /
 * invalid, with one line per bad record. Exit code: 0 when every record was imported or skipped,
 * 2 when some were invalid, 1 when the import could not run at all.
 */
import { createReadStream, existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { FernetKeyRing } from '../crypto/fernet.ts'
import { exitWith, withStore } from '../maintenance/command.ts'
import { importFirestoreExport } from './firestore.ts'

const USAGE = 'usage: npm run import:firestore -- <export.jsonl> [--dry-run] [--json]'

async function main(): Promise<number> {
  const args = process.argv.slice(2)
  const flags = new Set(args.filter((a) => a.startsWith('--')))
  const files = args.filter((a) => !a.startsWith('--'))
  const unknown = [...flags].filter((f) => f !== '--dry-run' && f !== '--json')
  const file = files[0]
  if (file === undefined || files.length > 1 || unknown.length > 0) {
    process.stderr.write(`${USAGE}\n`)
    return 1
  }
  if (!existsSync(file)) {
    process.stderr.write(`No such file: ${file}\n`)
    return 1
  }
  const dryRun = flags.has('--dry-run')
  return withStore(
    'SOCIAL_TOKEN_ENCRYPTION_KEY must be set to the key the original app encrypted tokens with',
    async (store, keys) => {
      const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })
      const report = await importFirestoreExport(lines, {
        store,
        vault: new FernetKeyRing(keys),
        now: Date.now(),
        dryRun,
      })
      if (flags.has('--json')) {
        process.stdout.write(`${JSON.stringify({ dry_run: dryRun, ...report })}\n`)
      } else {
        process.stdout.write(
          `${dryRun ? 'Dry run (nothing written): ' : ''}${report.created} created, ${report.updated} updated, ${report.skipped} skipped (unchanged), ${report.invalid} invalid\n`,
        )
        for (const e of report.errors)
          process.stdout.write(
            `  line ${e.line}${e.id === null ? '' : ` (${e.id})`}: ${e.message}\n`,
          )
      }
      return report.invalid > 0 ? 2 : 0
    },
  )
}

exitWith('Import failed', main)
