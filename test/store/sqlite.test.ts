import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  createSqliteStore,
  migrateSqlite,
  openSqliteDatabase,
} from '../../src/store/sqlite/sqlite-store.ts'
import { runStoreConformance } from './conformance/index.ts'
import { tempDir } from '../helpers/temp.ts'

runStoreConformance({
  name: 'sqlite',
  create: () => {
    const dir = tempDir('psg-store-')
    const path = join(dir.path, 'test.db')
    const store = createSqliteStore({ path })
    const reader = new BetterSqlite3(path, { readonly: true })
    return Promise.resolve({
      store,
      raw: (sql: string, params: readonly unknown[] = []) =>
        Promise.resolve(reader.prepare(sql).all(...params) as Record<string, unknown>[]),
      dispose: async () => {
        reader.close()
        await store.close()
        dir.cleanup()
      },
    })
  },
})

test('sqlite migrations are recorded and applied once', () => {
  const dir = tempDir('psg-migrate-')
  try {
    const db = openSqliteDatabase(join(dir.path, 'm.db'))
    assert.deepEqual(migrateSqlite(db), [
      '0001_init.sql',
      '0002_data_deletion.sql',
      '0003_token_renewal.sql',
      '0004_scheduled_sync.sql',
      '0005_import.sql',
      '0006_known_devices.sql',
      '0007_gallery_version.sql',
      '0008_gallery_version_content.sql',
      '0009_lease_owners.sql',
      '0010_provider_neutral.sql',
      '0011_account_jobs.sql',
      '0012_media_duration_visibility.sql',
      '0013_pending_revocations.sql',
      '0014_media_archive.sql',
    ])
    assert.deepEqual(migrateSqlite(db), [])
    assert.deepEqual(db.prepare('SELECT version, name FROM schema_migrations').all(), [
      { version: 1, name: '0001_init.sql' },
      { version: 2, name: '0002_data_deletion.sql' },
      { version: 3, name: '0003_token_renewal.sql' },
      { version: 4, name: '0004_scheduled_sync.sql' },
      { version: 5, name: '0005_import.sql' },
      { version: 6, name: '0006_known_devices.sql' },
      { version: 7, name: '0007_gallery_version.sql' },
      { version: 8, name: '0008_gallery_version_content.sql' },
      { version: 9, name: '0009_lease_owners.sql' },
      { version: 10, name: '0010_provider_neutral.sql' },
      { version: 11, name: '0011_account_jobs.sql' },
      { version: 12, name: '0012_media_duration_visibility.sql' },
      { version: 13, name: '0013_pending_revocations.sql' },
      { version: 14, name: '0014_media_archive.sql' },
    ])
    db.close()
  } finally {
    dir.cleanup()
  }
})
