/**
 * End to end over real HTTP on loopback: the real server process (`src/main.ts`) and, for the
 * "real Instagram" path, the standalone emulator process (`src/providers/instagram/emulator/main.ts`) as Meta.
 * register → connect → authorize → callback → sync → media, then a leak scan of the server logs.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../helpers/temp.ts'
import { Client, allowInSandbox, start, waitFor } from '../helpers/process.ts'
import { freePort } from '../helpers/net.ts'

/** 48 demo posts at 25 per page: the profile call and 2 pages. */
const FIRST_SYNC_OF_THE_DEMO_CREATOR = {
  mode: 'full',
  added: 48,
  updated: 0,
  refreshed: 0,
  removed: 0,
  pages: 2,
  api_calls: 3,
}

async function runFlow(
  base: string,
  client: Client,
  authorizeOrigin: string,
): Promise<{ state: string; code: string; synced: Record<string, number> }> {
  const registered = await client.send(
    'POST',
    `${base}/api/auth/register`,
    JSON.stringify({ email: 'e2e@example.com', password: 'correct horse battery' }),
  )
  assert.equal(registered.status, 201, registered.text)
  const connect = await client.send(
    'POST',
    `${base}/api/socials/connect/instagram`,
    JSON.stringify({ mode: 'redirect' }),
  )
  assert.equal(connect.status, 200, connect.text)
  const authorizeUrl = new URL(
    (JSON.parse(connect.text) as { authorization_url: string }).authorization_url,
  )
  assert.equal(authorizeUrl.origin, authorizeOrigin)
  const state = authorizeUrl.searchParams.get('state') ?? ''
  const consentPage = await client.send('GET', authorizeUrl.toString())
  assert.equal(consentPage.status, 200)
  assert.match(consentPage.text, /Allow/)
  const { decision, landed } = await allowInSandbox(client, authorizeUrl)
  assert.equal(decision.status, 302)
  const callback = String(decision.headers.get('location'))
  assert.ok(callback.startsWith(`${base}/api/socials/oauth/instagram/callback?`), callback)
  const code = new URL(callback).searchParams.get('code') ?? ''
  assert.equal(landed.status, 303)
  assert.equal(landed.headers.get('referrer-policy'), 'no-referrer')
  assert.match(String(landed.headers.get('location')), /^\/gallery\?connect=success/)
  const accounts = JSON.parse((await client.send('GET', `${base}/api/socials/accounts`)).text) as {
    accounts: { id: string; username: string }[]
  }
  assert.equal(accounts.accounts[0]?.username, 'sandbox_creator')
  const sync = await client.send(
    'POST',
    `${base}/api/socials/accounts/${accounts.accounts[0]?.id ?? ''}/sync`,
  )
  assert.equal(sync.status, 200, sync.text)
  const synced = JSON.parse(sync.text) as Record<string, number>
  const media = JSON.parse(
    (await client.send('GET', `${base}/api/socials/media?limit=30`)).text,
  ) as { items: { media_url: string | null }[]; next_cursor: string | null }
  assert.equal(media.items.length, 30)
  assert.ok(media.next_cursor)
  const image = await fetch(media.items[0]?.media_url ?? '')
  assert.equal(image.status, 200)
  assert.match(image.headers.get('content-type') ?? '', /^image\/jpeg/)
  return { state, code, synced }
}

function assertNoLeaks(logs: string, secrets: string[]): void {
  assert.ok(logs.length > 200, 'the server logged')
  for (const secret of secrets) {
    assert.ok(secret.length >= 10)
    assert.equal(logs.includes(secret), false, `leaked: ${secret.slice(0, 6)}…`)
  }
  assert.doesNotMatch(logs, /IGAA[A-Za-z0-9_-]{10}/)
}

test(
  'npm start on the embedded default: sandbox, SQLite, generated dev key — full flow over HTTP',
  { timeout: 90_000 },
  async (t) => {
    const dir = tempDir('psg-e2e-')
    t.after(() => dir.cleanup())
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const server = start(t, 'src/main.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: base,
      DATA_DIR: dir.path,
      LOG_LEVEL: 'info',
    })
    const startedAt = Date.now()
    await waitFor(
      'server healthz',
      async () => ((await fetch(`${base}/healthz`)).status === 200 ? true : null),
      server,
    )
    t.diagnostic(`process start to first 200 on /healthz: ${Date.now() - startedAt} ms`)
    const client = new Client(base)
    const { state, code, synced } = await runFlow(base, client, base)
    assert.deepEqual(synced, FIRST_SYNC_OF_THE_DEMO_CREATOR)
    const keyFile = join(dir.path, 'dev-token-encryption.key')
    assert.ok(existsSync(keyFile))
    assert.equal(statSync(keyFile).mode & 0o777, 0o600)
    assert.match(server.output(), /generated a development key/)
    assert.match(server.output(), /Instagram sandbox/)
    assertNoLeaks(server.output(), [
      state,
      code,
      client.cookies.get('psg_session') ?? 'missing-session-cookie',
    ])
  },
)

test('against the standalone emulator as Meta, over real HTTP', { timeout: 90_000 }, async (t) => {
  const dir = tempDir('psg-e2e-')
  t.after(() => dir.cleanup())
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const redirect = `${base}/api/socials/oauth/instagram/callback`
  const emulator = start(t, 'src/providers/instagram/emulator/main.ts', {
    EMULATOR_PORT: '0',
    EMULATOR_REDIRECT_URIS: redirect,
    EMULATOR_CLIENT_SECRET: 'e2e-client-secret-value',
    LOG_LEVEL: 'warn',
  })
  const emuBase = await waitFor(
    'emulator address',
    async () => /listening on (http:\/\/[^\s]+)/.exec(emulator.output())?.[1] ?? null,
    emulator,
  )
  const key = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4='
  const server = start(t, 'src/main.ts', {
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: base,
    DATA_DIR: dir.path,
    LOG_LEVEL: 'debug',
    SOCIAL_TOKEN_ENCRYPTION_KEY: key,
    INSTAGRAM_CLIENT_ID: 'emulator-instagram-app',
    INSTAGRAM_CLIENT_SECRET: 'e2e-client-secret-value',
    INSTAGRAM_AUTHORIZE_URL: `${emuBase}/oauth/authorize`,
    INSTAGRAM_TOKEN_URL: `${emuBase}/oauth/access_token`,
    INSTAGRAM_GRAPH_URL: `${emuBase}/graph`,
  })
  await waitFor(
    'server healthz',
    async () => ((await fetch(`${base}/healthz`)).status === 200 ? true : null),
    server,
  )
  const client = new Client(base)
  const { state, code, synced } = await runFlow(base, client, emuBase)
  assert.deepEqual(synced, FIRST_SYNC_OF_THE_DEMO_CREATOR)
  // Instagram is real here (YouTube, without credentials, is the sandbox's)
  assert.doesNotMatch(server.output(), /Instagram sandbox/i, 'real mode, no sandbox')
  assert.match(server.output(), /"instagram":"real"/)
  assertNoLeaks(server.output(), [
    state,
    code,
    key,
    'e2e-client-secret-value',
    client.cookies.get('psg_session') ?? 'missing-session-cookie',
  ])
  assertNoLeaks(client.bodies.join('\n'), [key, 'e2e-client-secret-value'])
})
