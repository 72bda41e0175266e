/**
 * Benchmark 4 (renewal at scale), on SQLite and PostgreSQL: 100,000 Instagram accounts in the
 * store, 10,000 of them inside the renewal margin. The due query's plan (it must use the renewal
 * index) and its time per batch; then one job pass renewing the due tokens against the emulator
 * (50 ms a call) at the configured RENEWAL_CONCURRENCY, with the achieved calls per second
 * against what that concurrency allows (concurrency / latency).
 */
import { randomUUID } from 'node:crypto'
import Database from 'better-sqlite3'
import pg from 'pg'
import { createManualClock } from '../src/clock.ts'
import { INSTAGRAM_CAPABILITIES } from '../src/providers/instagram/client.ts'
import { QUICK, addEmulatorUser, benchApp, fmt, line, median } from './lib.ts'

/** Instagram renews a token only once it is this old (its renewal capability). */
const MIN_TOKEN_AGE_MS =
  INSTAGRAM_CAPABILITIES.renewal.kind === 'extend_access_token'
    ? INSTAGRAM_CAPABILITIES.renewal.minAgeMs
    : 0

const DAY = 86_400_000
const ACCOUNTS = QUICK ? 5_000 : 100_000
const DUE = QUICK ? 100 : 10_000
const LATENCY_MS = 50
const USERS = ACCOUNTS / 10

type Row = readonly unknown[]

/** Multi-row inserts in one transaction, through the driver itself (the store has no bulk API). */
async function bulkInsert(
  databaseUrl: string | null,
  sqlitePath: string,
  table: string,
  columns: readonly string[],
  rows: readonly Row[],
): Promise<void> {
  const batch = 500
  if (databaseUrl === null) {
    const db = new Database(sqlitePath)
    const one = `(${columns.map(() => '?').join(', ')})`
    const insert = db.prepare(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: batch }, () => one).join(', ')}`,
    )
    db.transaction(() => {
      for (let i = 0; i + batch <= rows.length; i += batch)
        insert.run(rows.slice(i, i + batch).flat())
      const rest = rows.slice(rows.length - (rows.length % batch))
      if (rest.length > 0)
        db.prepare(
          `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${rest.map(() => one).join(', ')}`,
        ).run(rest.flat())
    })()
    db.close()
    return
  }
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 })
  try {
    await pool.query('BEGIN')
    for (let i = 0; i < rows.length; i += batch) {
      const slice = rows.slice(i, i + batch)
      let n = 0
      const values = slice.map(() => `(${columns.map(() => `$${++n}`).join(', ')})`).join(', ')
      await pool.query(
        `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values}`,
        slice.flat(),
      )
    }
    await pool.query('COMMIT')
    await pool.query(`ANALYZE ${table}`)
  } finally {
    await pool.end()
  }
}

async function duePlan(
  databaseUrl: string | null,
  sqlitePath: string,
  now: number,
): Promise<string> {
  // the claim of `claimDueRenewals` (repositories/jobs.ts), as it reaches the database: the
  // account (driving, through its renewal index) crossed with its renewal job row (0011)
  const due = `SELECT account_jobs.account_id FROM user_social_accounts CROSS JOIN account_jobs WHERE account_jobs.account_id = user_social_accounts.id AND account_jobs.kind = 'renewal' AND user_social_accounts.account_type = 'oauth' AND user_social_accounts.encrypted_credentials IS NOT NULL AND user_social_accounts.status NOT IN ('revoked', 'reauth_required') AND (user_social_accounts.credentials_expire_at IS NULL OR user_social_accounts.credentials_expire_at > ${now}) AND (account_jobs.lease_until IS NULL OR account_jobs.lease_until <= ${now}) AND user_social_accounts.credentials_expire_at <= ${now + 30 * DAY} AND user_social_accounts.token_issued_at <= ${now - MIN_TOKEN_AGE_MS} ORDER BY user_social_accounts.credentials_expire_at LIMIT 50`
  if (databaseUrl === null) {
    const db = new Database(sqlitePath, { readonly: true })
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${due}`).all() as { detail: string }[]
    db.close()
    return plan.map((p) => p.detail).join('; ')
  }
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 })
  try {
    const plan = await pool.query(`EXPLAIN ${due}`)
    return (plan.rows as { 'QUERY PLAN': string }[])
      .map((r) => r['QUERY PLAN'].trim())
      .filter((l) => /Scan|Index|Sort|Limit/.test(l))
      .join('; ')
  } finally {
    await pool.end()
  }
}

export async function renewalBenchmark(
  backend: 'sqlite' | 'postgres',
  databaseUrl: string | null,
): Promise<void> {
  const clock = createManualClock()
  const bench = await benchApp({ ...(databaseUrl === null ? {} : { databaseUrl }), clock })
  const sqlitePath = bench.config.database.kind === 'sqlite' ? bench.config.database.path : ''
  try {
    // emulator users and their tokens for the due accounts; Instagram refreshes a token only once
    // it is a day old, so the clock then moves two days on
    const tokens: string[] = []
    for (let i = 0; i < DUE; i++) {
      await addEmulatorUser(bench.emulator, 100_000 + i, 0)
      tokens.push(
        bench.vault.encrypt(
          bench.emulator.state.issueToken(100_000 + i, 'l', [
            ...bench.config.providers.instagram.settings.scopes,
          ]).token,
        ),
      )
    }
    clock.advance(2 * DAY)
    const now = clock.now()
    const filler = bench.vault.encrypt('IGAAnot-due-placeholder-token')
    const userIds = Array.from({ length: USERS }, () => randomUUID())
    let started = performance.now()
    await bulkInsert(
      databaseUrl,
      sqlitePath,
      'users',
      ['id', 'email', 'password_hash', 'created_at'],
      userIds.map((id, i) => [id, `renewal-${i}@example.com`, 'none', now]),
    )
    const columns = [
      'id',
      'user_id',
      'platform',
      'account_type',
      'username',
      'display_name',
      'platform_user_id',
      'platform_scoped_id',
      'platform_attributes',
      // bare Fernet tokens, as the original app stored them (credentials_format 1, the default)
      'encrypted_credentials',
      'token_expires_at',
      'credentials_expire_at',
      'token_issued_at',
      'connected_at',
      'status',
      'profile_url',
      'updated_at',
    ]
    const rows: Row[] = []
    // each OAuth account's two job rows (migration 0011), as the store makes them with it
    const jobs: Row[] = []
    for (let i = 0; i < ACCOUNTS; i++) {
      const due = i < DUE
      const expiresAt = due ? now + 10 * DAY - i : now + 40 * DAY + (i % 19) * DAY
      const emulatorUser = due ? bench.emulator.state.userByIndex(100_000 + i) : undefined
      const id = randomUUID()
      rows.push([
        id,
        userIds[i % USERS],
        'instagram',
        'oauth',
        `acct_${i}`,
        `Account ${i}`,
        emulatorUser?.user_id ?? String(17_841_400_000_000_000 + i),
        emulatorUser?.id ?? String(27_281_300_000_000_000 + i),
        '{"account_type":"BUSINESS"}',
        due ? tokens[i] : filler,
        // due: expiring within 10 days; the rest between 40 and 59 days out
        expiresAt,
        expiresAt,
        now - 50 * DAY,
        now - 50 * DAY,
        'active',
        `https://www.instagram.com/acct_${i}/`,
        now,
      ])
      jobs.push([id, 'sync', now + 365 * DAY]) // no scheduled sync in this benchmark
      jobs.push([id, 'renewal', null])
    }
    await bulkInsert(databaseUrl, sqlitePath, 'user_social_accounts', columns, rows)
    await bulkInsert(
      databaseUrl,
      sqlitePath,
      'account_jobs',
      ['account_id', 'kind', 'next_run_at'],
      jobs,
    )
    line(
      `renewal ${backend}: store filled`,
      `${fmt(ACCOUNTS)} accounts (${fmt(DUE)} due) and ${fmt(USERS)} users in ${fmt(performance.now() - started)} ms`,
    )

    const plan = await duePlan(databaseUrl, sqlitePath, now)
    line(`renewal ${backend}: due query plan`, plan, {
      text: 'the renewal index, no full scan',
      met:
        /user_social_accounts_renewal/.test(plan) &&
        !/Seq Scan|SCAN user_social_accounts(?! USING)/.test(plan),
    })
    // the claim the renewal pass makes, timed on its own (leases are released after)
    const times: number[] = []
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now()
      const at = clock.now()
      const claimed = await bench.store.claimDueRenewals({
        now: at,
        dueBefore: at + 30 * DAY,
        issuedBefore: at - MIN_TOKEN_AGE_MS,
        leaseUntil: at + 1,
        limit: 50,
      })
      times.push(performance.now() - t0)
      if (claimed.length !== 50) throw new Error(`claimed ${claimed.length}`)
      clock.advance(2) // the leases above lapse
    }
    line(
      `renewal ${backend}: claiming a batch of 50 due of ${fmt(ACCOUNTS)}`,
      `median ${median(times).toFixed(2)} ms (${Math.min(...times).toFixed(2)}–${Math.max(...times).toFixed(2)})`,
    )

    bench.emulator.state.settings = { ...bench.emulator.state.settings, latencyMs: LATENCY_MS }
    const concurrency = bench.config.jobs.renewalConcurrency
    started = performance.now()
    const report = await bench.app.jobs.renewal.runDue()
    const seconds = (performance.now() - started) / 1000
    const rate = report.api_calls / seconds
    const ceiling = concurrency / (LATENCY_MS / 1000)
    line(
      `renewal ${backend}: ${fmt(DUE)} due tokens renewed in one pass`,
      `${fmt(report.renewed)} renewed, ${report.failed} failed, ${fmt(report.api_calls)} calls in ${seconds.toFixed(1)} s = ${fmt(rate, 1)} calls/s; RENEWAL_CONCURRENCY=${concurrency} at ${LATENCY_MS} ms allows ${fmt(ceiling)} calls/s; ratio ${(rate / ceiling).toFixed(2)}`,
      {
        text: `all renewed, ≥ 0.8 of ${fmt(ceiling)} calls/s`,
        met: report.renewed === DUE && rate / ceiling >= 0.8,
      },
    )
  } finally {
    await bench.close()
  }
}
