/**
 * @module store/open-store — the backend `DATABASE_URL` selects: `sqlite:<path>` (the embedded
 * default, one machine) or `postgres://…` (any number of instances). Both apply their migrations
 * before returning.
 */
import type { DatabaseConfig } from '../config/load-config.ts'
import type { Store } from './types.ts'
import { createSqliteStore } from './sqlite/sqlite-store.ts'
import { createPostgresStore } from './postgres/postgres-store.ts'

export async function openStore(database: DatabaseConfig): Promise<Store> {
  if (database.kind === 'sqlite') return createSqliteStore({ path: database.path })
  return createPostgresStore({
    url: database.url,
    poolSize: database.poolSize,
    connectTimeoutMs: database.connectTimeoutMs,
    statementTimeoutMs: database.statementTimeoutMs,
  })
}
