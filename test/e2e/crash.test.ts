/**
 * Crash safety: the real server process on PostgreSQL, killed with SIGKILL at random moments
 * during syncs and token renewals, restarted each time, and checked after every restart.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, randomBytes } from 'node:crypto'
import pg from 'pg'
import { tempDir } from '../helpers/temp.ts'
import { freePort } from '../helpers/net.ts'
import { Client, allowInSandbox, start, waitFor, type Proc } from '../helpers/process.ts'
import { testPostgresUrl } from '../helpers/postgres.ts'
import { FernetKey, FernetKeyRing } from '../../src/crypto/fernet.ts'
import { parseSealed } from '../../src/socials/credentials.ts'
import { createManualClock } from '../../src/clock.ts'
import { EmulatorState } from '../../src/providers/instagram/emulator/state.ts'
import { demoUsers } from '../../src/providers/instagram/emulator/demo-data.ts'

const RUNS = 30
const DAY = 86_400_000
const JOBS_SECRET = 'crash-test-jobs-secret-0123456789abcdef'
const STATUSES = ['active', 'refresh_due', 'degraded', 'rate_limited', 'reauth_required', 'error']

test(
  `kill -9 during sync and during renewal, ${RUNS} times at random moments: no duplicate media, no lost token, consistent statuses`,
  { timeout: 600_000 },
  async (t) => {
    // a database of its own on the tests' PostgreSQL server (the service uses its public schema)
    const serverUrl = await testPostgresUrl()
    const admin = new pg.Client({ connectionString: serverUrl })
    await admin.connect()
    const database = `crash_${randomBytes(6).toString('hex')}`
    await admin.query(`CREATE DATABASE ${database}`)
    const databaseUrl = serverUrl.replace(/\/[^/]*$/, `/${database}`)
    const db = new pg.Client({ connectionString: databaseUrl })
    const dir = tempDir('psg-crash-')
    t.after(async () => {
      await db.end().catch(() => undefined)
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined)
      await admin.end()
      dir.cleanup()
    })

    const key = FernetKey.generate()
    const vault = new FernetKeyRing([key])
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const env = {
      NODE_ENV: 'development',
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: base,
      DATA_DIR: dir.path,
      DATABASE_URL: databaseUrl,
      SOCIAL_TOKEN_ENCRYPTION_KEY: key,
      JOBS_SECRET,
      SCHEDULER_INTERVAL_SECONDS: '0',
      // 6 media per page: a sync of the 48 demo posts is 9 calls, with a transaction per page to
      // die in; 16 syncs stay within the sandbox's (and our) 200 calls per hour
      INSTAGRAM_MEDIA_PAGE_SIZE: '6',
      TOKEN_RENEW_MARGIN_DAYS: '59',
      LOG_LEVEL: 'warn',
    }
    let server: Proc = start(t, 'src/main.ts', env)
    const healthy = (proc: Proc) =>
      waitFor('healthz', async () => ((await fetch(`${base}/healthz`)).ok ? true : null), proc)
    await healthy(server)

    // register and connect the demo creator through the sandbox, over HTTP
    const client = new Client(base)
    const json = (text: string) => JSON.parse(text) as Record<string, unknown>
    await client.send(
      'POST',
      `${base}/api/auth/register`,
      JSON.stringify({ email: 'crash@example.com', password: 'correct horse battery' }),
    )
    const connect = await client.send(
      'POST',
      `${base}/api/socials/connect/instagram`,
      JSON.stringify({ mode: 'redirect' }),
    )
    const authorize = new URL(String(json(connect.text).authorization_url))
    const { landed } = await allowInSandbox(client, authorize)
    assert.match(String(landed.headers.get('location')), /connect=success/)
    const accountId =
      new URL(String(landed.headers.get('location')), base).searchParams.get('account') ?? ''
    await db.connect()

    // tokens the sandbox accepts, issued two days ago (only those can be renewed): the sandbox signs
    // its tokens with a secret derived from the encryption key, as src/providers/instagram/sandbox.ts does
    const oldClock = createManualClock(Date.now() - 2 * DAY)
    const signer = new EmulatorState(
      {
        clientId: 'x',
        clientSecret: 'x',
        redirectUris: [],
        signingSecret: createHmac('sha256', key)
          .update('psg-sandbox:signing-secret')
          .digest('base64url'),
        tokenResponseShape: 'flat',
        cdnTtlMs: DAY,
        callsPerHourPerUser: 1_000_000,
        latencyMs: 0,
      },
      oldClock,
      [],
    )
    const accepted = async (token: string) =>
      (
        await fetch(
          `${base}/sandbox/instagram/graph/v24.0/me?fields=id&access_token=${encodeURIComponent(token)}`,
        )
      ).status === 200

    const runDue = () =>
      fetch(`${base}/internal/jobs/run-due`, {
        method: 'POST',
        headers: { authorization: `Bearer ${JOBS_SECRET}` },
      })
    let renewals = 0
    let syncs = 0
    let interrupted = 0
    for (let run = 0; run < RUNS; run++) {
      const renewal = run % 2 === 1
      // SIGKILL runs no shutdown code, so the victim's leases stay until they expire (that expiry
      // is tested in test/jobs/multi-instance.test.ts); skip the wait. A graceful stop (SIGTERM)
      // releases them itself: test/e2e/graceful-stop.test.ts.
      await db.query('UPDATE account_jobs SET lease_until = NULL, lease_owner = NULL')
      let work: Promise<unknown>
      if (renewal) {
        const { token, claims } = signer.issueToken(1, 'l', ['instagram_business_basic'])
        // a bare Fernet token, as the original app stored it (format 1): that path must stay
        // renewable; the connection runs out with the token (`credentials_expire_at`)
        await db.query(
          "UPDATE user_social_accounts SET encrypted_credentials = $1, credentials_format = 1, credentials_version = credentials_version + 1, token_issued_at = $2, token_expires_at = $3, refresh_token_expires_at = NULL, credentials_expire_at = $3, status = 'active'",
          [vault.encrypt(token), claims.i, claims.e],
        )
        await db.query("UPDATE account_jobs SET next_run_at = $1 WHERE kind = 'sync'", [
          Date.now() + DAY,
        ])
        work = runDue()
        renewals++
      } else {
        // a scheduled sync, as the scheduler runs it ("Sync now" is rate limited per account)
        await db.query("UPDATE account_jobs SET next_run_at = NULL WHERE kind = 'sync'")
        work = runDue()
        syncs++
      }
      let finished = false
      work.then(
        () => (finished = true),
        () => undefined,
      )
      await new Promise((resolve) => setTimeout(resolve, Math.random() * (renewal ? 60 : 150)))
      if (!finished) interrupted++
      server.child.kill('SIGKILL')
      await new Promise((resolve) => server.child.once('exit', resolve))

      server = start(t, 'src/main.ts', env)
      await healthy(server)
      const duplicates = await db.query(
        'SELECT account_id, platform_media_id FROM media GROUP BY account_id, platform_media_id HAVING COUNT(*) > 1',
      )
      assert.equal(duplicates.rowCount, 0, `run ${run}: no duplicate media`)
      const positions = await db.query(
        'SELECT parent_id, position FROM media WHERE parent_id IS NOT NULL GROUP BY parent_id, position HAVING COUNT(*) > 1',
      )
      assert.equal(positions.rowCount, 0, `run ${run}: album children in order`)
      const [row] = (
        await db.query(
          'SELECT status, encrypted_credentials AS token, credentials_format AS format FROM user_social_accounts',
        )
      ).rows as {
        status: string
        token: string | null
        format: number
      }[]
      assert.ok(row?.token, `run ${run}: the token is still there`)
      const plaintext = vault.decrypt(row.token)
      // format 1 (the bare token written above, not renewed) or 2 (renewed: sealed credentials)
      const accessToken = row.format === 1 ? plaintext : parseSealed(plaintext)?.accessToken
      assert.ok(accessToken !== undefined, `run ${run}: the credentials open`)
      assert.ok(await accepted(accessToken), `run ${run}: and it still works`)
      assert.ok(STATUSES.includes(row.status), `run ${run}: status ${row.status}`)
    }

    // finally a sync completes and the gallery matches Instagram exactly (the last victim was
    // killed with SIGKILL too: its lease is skipped as above)
    await db.query(
      "UPDATE account_jobs SET lease_until = NULL, lease_owner = NULL WHERE kind = 'sync'",
    )
    const final = await client.send('POST', `${base}/api/socials/accounts/${accountId}/sync`)
    assert.equal(final.status, 200, final.text)
    const stored = (
      await db.query(
        'SELECT platform_media_id FROM media WHERE parent_id IS NULL ORDER BY timestamp DESC',
      )
    ).rows.map((r: { platform_media_id: string }) => r.platform_media_id)
    const creator = demoUsers()[0]
    assert.deepEqual(
      stored,
      creator?.media.map((m) => m.id),
    )
    const children = Number(
      (await db.query<{ n: string }>('SELECT COUNT(*) AS n FROM media WHERE parent_id IS NOT NULL'))
        .rows[0]?.n,
    )
    assert.equal(
      children,
      creator?.media.reduce((n, m) => n + m.children.length, 0),
    )
    t.diagnostic(
      `${RUNS} kills (${syncs} while syncing, ${renewals} while renewing; ${interrupted} before the work answered); all checks held`,
    )
    assert.ok(interrupted >= RUNS / 3, 'most kills land in the middle of the work')
  },
)
