/**
 * @module store/postgres/postgres-store — the backend for many stateless instances: PostgreSQL
 * through `pg`, the same Kysely queries as SQLite, and its own numbered migrations (same numbers,
 * PostgreSQL types) applied at open under an advisory lock, so instances starting together never
 * run a migration twice.
 *
 * BIGINT columns (epoch-ms times) come back from `pg` as strings by default; this pool parses them
 * as numbers (every BIGINT here is a time or a count, far below 2^53).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { PACKAGE_ROOT } from '../../paths.ts'
import pg from 'pg'
import { Kysely, PostgresDialect } from 'kysely'
import { GalleryError } from '../../errors.ts'
import type { Store } from '../types.ts'
import type { Database } from '../kysely/schema.ts'
import { createKyselyStore } from '../kysely/kysely-store.ts'

const MIGRATIONS_DIR = resolve(PACKAGE_ROOT, 'src/store/postgres/migrations')
/** `pg_advisory_lock` key of the migration runner (any constant; this one spells "PSGM"). */
const MIGRATION_LOCK = 0x5053474d
const INT8_OID = 20

export interface PostgresStoreOptions {
  readonly url: string
  readonly poolSize: number
  readonly connectTimeoutMs: number
  readonly statementTimeoutMs: number
  /** A schema to use instead of `public` (created if missing); tests give each store its own. */
  readonly schema?: string
}

/** SQLSTATE classes and codes that mean "the database is not reachable right now". */
function isUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const code = 'code' in error ? String(error.code) : ''
  if (/^(08|57P)/.test(code) || code === '53300') return true // connection, shutdown, too many clients
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'].includes(code)) return true
  const message = error instanceof Error ? error.message : ''
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(
    message,
  )
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === '23505'
}

/** Applies every `NNNN_name.sql` not yet recorded in `schema_migrations`, one transaction each. */
export async function migratePostgres(
  pool: pg.Pool,
  dir: string = MIGRATIONS_DIR,
): Promise<string[]> {
  const client = await pool.connect()
  try {
    // one migrator at a time across every instance; the others wait, then find nothing to do
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`)
    const applied = new Set(
      (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
        (row) => row.version,
      ),
    )
    const ran: string[] = []
    const files = readdirSync(dir)
      .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
      .sort()
    for (const file of files) {
      const version = Number(file.slice(0, 4))
      if (applied.has(version)) continue
      await client.query('BEGIN')
      try {
        await client.query(readFileSync(resolve(dir, file), 'utf8'))
        await client.query(
          'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
          [version, file, Date.now()],
        )
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK')
        throw error
      }
      ran.push(file)
    }
    return ran
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined)
    client.release()
  }
}

export function createPostgresPool(options: PostgresStoreOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
        oid === INT8_OID && format !== 'binary'
          ? (value: string) => Number(value)
          : (pg.types.getTypeParser(
              oid,
              format ?? 'text',
            ) as unknown)) as typeof pg.types.getTypeParser,
    },
  })
  // an idle client losing its connection (database restart) must not crash the process
  pool.on('error', () => undefined)
  return pool
}

export async function createPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema))
    throw new GalleryError('ERR_CONFIG_INVALID', 'PostgreSQL schema names are lower-case words')
  const { schema, ...server } = options
  if (schema !== undefined) {
    const admin = createPostgresPool({ ...server, poolSize: 1 })
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch((error: unknown) => {
        // two instances creating it at once: the other one won, which is just as good
        if (!isUniqueViolation(error)) throw error
      })
    } finally {
      await admin.end()
    }
  }
  const pool = createPostgresPool(options)
  try {
    await migratePostgres(pool)
  } catch (error) {
    await pool.end()
    throw error
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return createKyselyStore(db, {
    isUniqueViolation,
    isUnavailable,
    lockRows: true,
    // Kysely ends the pool only if it ever used it; a store that only migrated must end it here
    onClose: async () => {
      if (!pool.ended) await pool.end()
    },
  })
}
