import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runStoreConformance } from './conformance/index.ts'
import { freshPostgresStore, testPostgresUrl } from '../helpers/postgres.ts'
import {
  createPostgresPool,
  createPostgresStore,
  migratePostgres,
} from '../../src/store/postgres/postgres-store.ts'
import { randomBytes } from 'node:crypto'

runStoreConformance({ name: 'postgres', create: freshPostgresStore })

test('postgres migrations: recorded once, and two instances starting together do not collide', async () => {
  const url = await testPostgresUrl()
  const schema = `m_${randomBytes(6).toString('hex')}`
  const options = { url, poolSize: 4, connectTimeoutMs: 5000, statementTimeoutMs: 30_000, schema }
  // four instances start at the same moment on an empty schema
  const stores = await Promise.all([1, 2, 3, 4].map(() => createPostgresStore(options)))
  const pool = createPostgresPool(options)
  try {
    const rows = (await pool.query('SELECT version, name FROM schema_migrations ORDER BY version'))
      .rows
    assert.deepEqual(
      rows.map((r: { version: number }) => r.version),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
    )
    assert.deepEqual(await migratePostgres(pool), [], 'nothing left to apply')
    const bigint = (await pool.query('SELECT 1750000000000::bigint AS t')).rows[0] as { t: unknown }
    assert.equal(bigint.t, 1_750_000_000_000, 'BIGINT comes back as a number')
  } finally {
    for (const store of stores) await store.close()
    await pool.query(`DROP SCHEMA ${schema} CASCADE`)
    await pool.end()
  }
})
