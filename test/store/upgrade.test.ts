/**
 * Existing databases upgrade in place to the provider-neutral model (migration 0010) and to job
 * state in a table of its own (0011), on both backends: a database at 0009 holding what the
 * service (and, through the import, the original Python app) wrote — an Instagram account with a
 * bare Fernet token, `instagram_*` columns and job state on its row (a scheduled sync, failure
 * counts, leases, an interrupted run's cursor), a profile link, a data-deletion record — is
 * migrated, and the store then reads every value and keeps working.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cpSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { FernetKey, FernetKeyRing } from '../../src/crypto/fernet.ts'
import { PACKAGE_ROOT } from '../../src/paths.ts'
import {
  createSqliteStore,
  migrateSqlite,
  openSqliteDatabase,
} from '../../src/store/sqlite/sqlite-store.ts'
import {
  createPostgresPool,
  createPostgresStore,
  migratePostgres,
} from '../../src/store/postgres/postgres-store.ts'
import type { Store } from '../../src/store/types.ts'
import { openCredentials } from '../../src/socials/credentials.ts'
import { testPostgresUrl, testStoreOptions } from '../helpers/postgres.ts'
import { tempDir } from '../helpers/temp.ts'

const NOW = Date.UTC(2026, 10, 20)
const vault = new FernetKeyRing([FernetKey.generate()])
const TOKEN = 'IGAAoriginalpythontoken'
const HOUR = 3_600_000

/** Runs SQL with `?` placeholders against the upgraded database. */
type Raw = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>

/** A folder with the backend's migrations up to 0009 only. */
function migrationsUpTo0009(backend: 'sqlite' | 'postgres', into: string): string {
  const source = join(PACKAGE_ROOT, 'src/store', backend, 'migrations')
  const dir = join(into, `${backend}-0009`)
  mkdirSync(dir)
  for (const file of readdirSync(source))
    if (/^000\d_/.test(file)) cpSync(join(source, file), join(dir, file))
  return dir
}

/** Old-shape rows, as a 0009 database holds them (`?` placeholders). */
const OLD_ROWS: [string, unknown[]][] = [
  [
    "INSERT INTO users (id, email, password_hash, created_at) VALUES ('u1', 'a@example.com', 'x', ?)",
    [NOW],
  ],
  [
    // job state on the account row, as 0004/0003/0009 keep it: a sync scheduled an hour ahead
    // after 3 failures, an interrupted run's cursor, a dead instance's expired sync lease, and a
    // renewal lease that ran out after 2 failed renewals
    `INSERT INTO user_social_accounts (id, user_id, platform, account_type, username, display_name,
       instagram_user_id, instagram_scoped_id, instagram_account_type, encrypted_access_token,
       token_expires_at, token_issued_at, is_active, connected_at, status, profile_url, updated_at,
       next_sync_at, sync_lease_until, sync_lease_owner, sync_failures, sync_run_id, sync_cursor,
       renew_lease_until, renew_lease_owner, renewal_failures)
     VALUES ('a1', 'u1', 'instagram', 'oauth', 'nina', '@nina', '17841400000000001',
       '27281358591558845', 'MEDIA_CREATOR', ?, ?, ?, 1, ?, 'active',
       'https://www.instagram.com/nina/', ?, ?, ?, 'old-1:sync', 3, 'run-old', 'cursor-old', ?,
       'old-1:renew', 2)`,
    [
      vault.encrypt(TOKEN),
      NOW + 40 * 86_400_000,
      NOW - 20 * 86_400_000,
      NOW,
      NOW,
      NOW + HOUR,
      NOW - 60_000,
      NOW - 30_000,
    ],
  ],
  [
    // a profile link: no jobs
    `INSERT INTO user_social_accounts (id, user_id, platform, account_type, username, display_name,
       is_active, connected_at, status, profile_url, updated_at)
     VALUES ('p1', 'u1', 'instagram', 'public', 'nina_shop', '@nina_shop', 1, ?, 'active',
       'https://www.instagram.com/nina_shop/', ?)`,
    [NOW, NOW],
  ],
  [
    `INSERT INTO data_deletion_requests (confirmation_code, instagram_user_id, status,
       deleted_accounts, requested_at, completed_at)
     VALUES ('ABCDEFGHJKLMNPQR', '27281358591558845', 'completed', 1, ?, ?)`,
    [NOW, NOW],
  ],
]

async function checkUpgraded(store: Store, raw: Raw): Promise<void> {
  const account = await store.getAccount('u1', 'a1')
  assert.ok(account !== null)
  // the job state moved to account_jobs (0011) and comes back on the record under its old names
  assert.deepEqual(
    {
      next_sync_at: account.next_sync_at,
      sync_lease_until: account.sync_lease_until,
      sync_lease_owner: account.sync_lease_owner,
      sync_failures: account.sync_failures,
      sync_run_id: account.sync_run_id,
      sync_cursor: account.sync_cursor,
      renew_lease_until: account.renew_lease_until,
      renew_lease_owner: account.renew_lease_owner,
      renewal_failures: account.renewal_failures,
    },
    {
      next_sync_at: NOW + HOUR,
      sync_lease_until: NOW - 60_000,
      sync_lease_owner: 'old-1:sync',
      sync_failures: 3,
      sync_run_id: 'run-old',
      sync_cursor: 'cursor-old',
      renew_lease_until: NOW - 30_000,
      renew_lease_owner: 'old-1:renew',
      renewal_failures: 2,
    },
  )
  assert.deepEqual(
    await raw(
      'SELECT account_id, kind, lease_until, lease_owner, failures, next_run_at, run_id, cursor FROM account_jobs ORDER BY account_id, kind',
    ),
    [
      {
        account_id: 'a1',
        kind: 'renewal',
        lease_until: NOW - 30_000,
        lease_owner: 'old-1:renew',
        failures: 2,
        next_run_at: null,
        run_id: null,
        cursor: null,
      },
      {
        account_id: 'a1',
        kind: 'sync',
        lease_until: NOW - 60_000,
        lease_owner: 'old-1:sync',
        failures: 3,
        next_run_at: NOW + HOUR,
        run_id: 'run-old',
        cursor: 'cursor-old',
      },
    ],
    "the OAuth account's two job rows, and none for the profile link",
  )
  const link = await store.getAccount('u1', 'p1')
  assert.deepEqual(
    [link?.account_type, link?.next_sync_at, link?.sync_failures, link?.renewal_failures],
    ['public', null, 0, 0],
  )
  assert.equal(account.platform_user_id, '17841400000000001')
  assert.equal(account.platform_scoped_id, '27281358591558845')
  assert.deepEqual(account.platform_attributes, { account_type: 'MEDIA_CREATOR' })
  assert.equal(account.credentials_format, 1, 'the bare token stays as it was written')
  assert.equal(account.credentials_expire_at, NOW + 40 * 86_400_000)
  const opened = openCredentials(vault, account, NOW, 'Instagram')
  assert.equal(opened.credentials.accessToken, TOKEN)
  assert.equal(opened.credentials.accessTokenExpiresAt, NOW + 40 * 86_400_000)

  // the store keeps working on it: a renewal claims it by its connection's end and swaps
  const [claimed] = await store.claimDueRenewals({
    now: NOW,
    dueBefore: NOW + 45 * 86_400_000,
    issuedBefore: NOW - 86_400_000,
    leaseUntil: NOW + 60_000,
    limit: 5,
    owner: 'i:run',
  })
  assert.equal(claimed?.id, 'a1')
  assert.deepEqual(
    [claimed?.renew_lease_owner, claimed?.renewal_failures],
    ['i:run', 2],
    'the expired renewal lease is taken over; the failures count on',
  )
  // and the scheduler runs the sync when the migrated next_sync_at says, taking over the lease
  const sync = { leaseUntil: NOW + HOUR + 60_000, limit: 5, owner: 'i:sync' }
  assert.deepEqual(await store.claimDueSyncs({ ...sync, now: NOW }), [], 'not due yet')
  const [syncing] = await store.claimDueSyncs({ ...sync, now: NOW + HOUR })
  assert.deepEqual(
    [syncing?.id, syncing?.sync_lease_owner, syncing?.sync_cursor],
    ['a1', 'i:sync', 'cursor-old'],
  )
  const deletion = await store.findDataDeletion('ABCDEFGHJKLMNPQR')
  assert.equal(deletion?.platform, 'instagram')
  assert.equal(deletion?.platform_user_id, '27281358591558845')
  // Meta's deauthorize finds it by the app-scoped id, as before
  const revoked = await store.revokeByPlatformIdentity('instagram', '27281358591558845', 'r', NOW)
  assert.deepEqual(
    revoked.map((a) => [a.id, a.status, a.encrypted_credentials]),
    [['a1', 'revoked', null]],
  )
}

test('sqlite: a 0009 database upgrades in place to the latest and reads every value', async () => {
  const dir = tempDir('psg-upgrade-')
  try {
    const path = join(dir.path, 'old.db')
    const db = openSqliteDatabase(path)
    migrateSqlite(db, migrationsUpTo0009('sqlite', dir.path))
    for (const [sql, params] of OLD_ROWS) db.prepare(sql).run(...params)
    db.close()
    const store = createSqliteStore({ path })
    const reader = openSqliteDatabase(path)
    try {
      await checkUpgraded(
        store,
        async (sql, params = []) => reader.prepare(sql).all(...params) as Record<string, unknown>[],
      )
    } finally {
      reader.close()
      await store.close()
    }
  } finally {
    dir.cleanup()
  }
})

test('postgres: a 0009 database upgrades in place to the latest and reads every value', async () => {
  const dir = tempDir('psg-upgrade-')
  const url = await testPostgresUrl()
  const schema = `u_${randomBytes(6).toString('hex')}`
  const options = testStoreOptions(url, schema)
  const pool = createPostgresPool(options)
  try {
    await pool.query(`CREATE SCHEMA ${schema}`)
    await migratePostgres(pool, migrationsUpTo0009('postgres', dir.path))
    for (const [sql, params] of OLD_ROWS) {
      let n = 0
      await pool.query(
        sql.replace(/\?/g, () => `$${++n}`),
        params,
      )
    }
    const store = await createPostgresStore(options)
    try {
      await checkUpgraded(store, async (sql, params = []) => {
        let n = 0
        return (
          await pool.query(
            sql.replace(/\?/g, () => `$${++n}`),
            params,
          )
        ).rows as Record<string, unknown>[]
      })
    } finally {
      await store.close()
    }
  } finally {
    await pool.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined)
    await pool.end()
    dir.cleanup()
  }
})
