/**
 * Graceful stop (review D8): the real server, with the standalone emulator as a slow Instagram,
 * gets SIGTERM in the middle of a background sync. It stops its scheduler, lets the sync stop at
 * its next page, releases its leases and exits; after a restart "Sync now" answers 200 at once
 * (it used to answer 409 until the dead instance's 5-minute lease expired).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { tempDir } from '../helpers/temp.ts'
import { Client, allowInSandbox, start, waitFor, type Proc } from '../helpers/process.ts'
import { freePort } from '../helpers/net.ts'

const JOBS_SECRET = 'graceful-stop-jobs-secret-0123456789abcdef'

test(
  'SIGTERM during a sync releases its lease: after a restart "Sync now" answers 200 at once',
  { timeout: 120_000 },
  async (t) => {
    const dir = tempDir('psg-stop-')
    t.after(() => dir.cleanup())
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const emulator = start(t, 'src/providers/instagram/emulator/main.ts', {
      EMULATOR_PORT: '0',
      EMULATOR_REDIRECT_URIS: `${base}/api/socials/oauth/instagram/callback`,
      EMULATOR_CLIENT_SECRET: 'stop-client-secret-value',
      // every call takes 300 ms: a sync of 48 posts at 6 per page takes about 3 s
      EMULATOR_LATENCY_MS: '300',
      LOG_LEVEL: 'warn',
    })
    const emuBase = await waitFor(
      'emulator address',
      async () => /listening on (http:\/\/[^\s]+)/.exec(emulator.output())?.[1] ?? null,
      emulator,
    )
    const env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: base,
      DATA_DIR: dir.path,
      LOG_LEVEL: 'info',
      SOCIAL_TOKEN_ENCRYPTION_KEY: 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=',
      INSTAGRAM_CLIENT_ID: 'emulator-instagram-app',
      INSTAGRAM_CLIENT_SECRET: 'stop-client-secret-value',
      INSTAGRAM_AUTHORIZE_URL: `${emuBase}/oauth/authorize`,
      INSTAGRAM_TOKEN_URL: `${emuBase}/oauth/access_token`,
      INSTAGRAM_GRAPH_URL: `${emuBase}/graph`,
      INSTAGRAM_MEDIA_PAGE_SIZE: '6',
      JOBS_SECRET,
      SCHEDULER_INTERVAL_SECONDS: '0',
    }
    const healthy = (proc: Proc) =>
      waitFor('healthz', async () => ((await fetch(`${base}/healthz`)).ok ? true : null), proc)
    let server = start(t, 'src/main.ts', env)
    await healthy(server)

    const client = new Client(base)
    await client.send(
      'POST',
      `${base}/api/auth/register`,
      JSON.stringify({ email: 'stop@example.com', password: 'correct horse battery' }),
    )
    const connect = await client.send(
      'POST',
      `${base}/api/socials/connect/instagram`,
      JSON.stringify({ mode: 'redirect' }),
    )
    const authorize = new URL(
      (JSON.parse(connect.text) as { authorization_url: string }).authorization_url,
    )
    const { landed } = await allowInSandbox(client, authorize)
    const accountId =
      new URL(String(landed.headers.get('location')), base).searchParams.get('account') ?? ''
    assert.ok(accountId, String(landed.headers.get('location')))
    const syncing = async () =>
      (
        JSON.parse((await client.send('GET', `${base}/api/socials/accounts`)).text) as {
          accounts: { sync_in_progress: boolean }[]
        }
      ).accounts[0]?.sync_in_progress === true

    // a scheduled (background) sync, as Cloud Scheduler starts it
    const background = fetch(`${base}/internal/jobs/run-due`, {
      method: 'POST',
      headers: { authorization: `Bearer ${JOBS_SECRET}` },
    }).then(
      (r) => r.status,
      () => 'no answer',
    )
    await waitFor('a sync in progress', async () => ((await syncing()) ? true : null), server)
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', resolve))
    const stoppedAt = Date.now()
    server.child.kill('SIGTERM')
    const code = await exited
    t.diagnostic(
      `stopped ${Date.now() - stoppedAt} ms after SIGTERM; background run: ${await background}`,
    )
    assert.equal(code, 0, server.output())
    assert.ok(Date.now() - stoppedAt < 10_000, 'within what Cloud Run allows')
    assert.match(server.output(), /jobs stopped and leases released/)

    server = start(t, 'src/main.ts', env)
    await healthy(server)
    assert.equal(await syncing(), false, 'no lease left behind')
    const now = await client.send('POST', `${base}/api/socials/accounts/${accountId}/sync`)
    assert.equal(now.status, 200, now.text)
    const result = JSON.parse(now.text) as { mode: string }
    assert.ok(['full', 'resume'].includes(result.mode), now.text)
  },
)
