/**
 * @module store/sqlite/sqlite-store — the embedded default backend: one SQLite file through
 * better-sqlite3, WAL mode, forward-only numbered migrations applied at open.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { PACKAGE_ROOT } from '../../paths.ts'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely'
import type { Store } from '../types.ts'
import type { Database } from '../kysely/schema.ts'
import { createKyselyStore } from '../kysely/kysely-store.ts'

const MIGRATIONS_DIR = resolve(PACKAGE_ROOT, 'src/store/sqlite/migrations')

export interface SqliteStoreOptions {
  /** A file path, or `:memory:`. */
  readonly path: string
}

/** Applies every `NNNN_name.sql` not yet recorded in `schema_migrations`, each in a transaction. */
export function migrateSqlite(db: BetterSqlite3.Database, dir: string = MIGRATIONS_DIR): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
  const applied = new Set(
    db
      .prepare('SELECT version FROM schema_migrations')
      .all()
      .map((row) => (row as { version: number }).version),
  )
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
  const ran: string[] = []
  for (const file of files) {
    const version = Number(file.slice(0, 4))
    if (applied.has(version)) continue
    const sqlText = readFileSync(resolve(dir, file), 'utf8')
    db.transaction(() => {
      db.exec(sqlText)
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        version,
        file,
        Date.now(),
      )
    })()
    ran.push(file)
  }
  return ran
}

function isUniqueViolation(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    (error.code === 'SQLITE_CONSTRAINT_UNIQUE' || error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
  )
}

export function openSqliteDatabase(path: string): BetterSqlite3.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new BetterSqlite3(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  return db
}

/**
 * Kysely prepares every query afresh; better-sqlite3 statements are reusable, and preparing costs
 * about as much as running a small query. Keep the most recent ones (least recently used out).
 */
export function withStatementCache(db: BetterSqlite3.Database, size = 256): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>()
  return {
    prepare(sqlText: string) {
      let statement = cache.get(sqlText)
      if (statement !== undefined) {
        cache.delete(sqlText)
      } else {
        statement = db.prepare(sqlText)
        if (cache.size >= size) {
          const oldest = cache.keys().next()
          if (oldest.done !== true) cache.delete(oldest.value)
        }
      }
      cache.set(sqlText, statement)
      return statement
    },
    close() {
      cache.clear()
      db.close()
    },
  }
}

export function createSqliteStore(options: SqliteStoreOptions): Store {
  const raw = openSqliteDatabase(options.path)
  migrateSqlite(raw)
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(raw) }),
  })
  return createKyselyStore(db, { isUniqueViolation, onClose: async () => {} })
}
