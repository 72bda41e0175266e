/**
 * Attacks through what a platform sends us (issue 12): black-box over real HTTP against the
 * service on loopback. One test per red-team finding:
 *
 * - F4: one throttled answer asking for 500 000 000 minutes must not stop syncing for centuries.
 * - F6: a captured `signed_request` (old, future-dated, replayed, or re-spelled) changes nothing.
 * - F10: URLs that are not https (`javascript:`, `data:`, `http://elsewhere`, `//x`, garbage)
 *   from an Instagram answer are never stored or served.
 *
 * F4 and F6 use the sandbox emulator; F10 runs in real mode against a hostile stand-in for
 * Instagram on another loopback port (the emulator only ever writes well-formed URLs).
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { serveTestApp, type ServedApp } from '../helpers/browser.ts'
import { HttpAgent } from '../helpers/http-agent.ts'
import { freePort } from '../helpers/net.ts'
import { runDue } from '../helpers/jobs.ts'
import { signRequest } from '../../src/providers/instagram/signed-request.ts'
import { APP_SCOPE } from '../../src/socials/rate-governor.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const PASSWORD = 'correct horse battery staple'
const DEAUTH = '/api/socials/oauth/instagram/deauthorize'
const DELETION = '/api/socials/oauth/instagram/data-deletion'

/** A browser stand-in with its own cookie jar, speaking real HTTP to the served app. */
class Agent extends HttpAgent {
  constructor(app: ServedApp) {
    super(app.base)
  }

  /** The callback's landing: the connected account's id. */
  async finishConnect(callbackPath: string): Promise<string> {
    const answer = await this.send('GET', callbackPath)
    assert.equal(answer.status, 303, answer.text)
    const landing = new URL(String(answer.location), 'http://x')
    const account = landing.searchParams.get('account')
    assert.ok(account !== null, String(answer.location))
    return account
  }

  /** Connects demo user 1 through the sandbox's consent page ("Allow"). */
  async connectSandbox(): Promise<string> {
    return this.finishConnect(await this.consent(await this.startConnect()))
  }
}

async function signedIn(t: TestContext, env: Record<string, string> = {}) {
  const app = await serveTestApp(t, env)
  const agent = new Agent(app)
  await agent.register(`owner-${Math.random().toString(36).slice(2)}@example.com`, PASSWORD)
  return { app, agent }
}

/** Everything a refused callback could wrongly change, as one string. */
async function snapshot(app: ServedApp): Promise<string> {
  const parts: string[] = []
  for (const table of ['user_social_accounts', 'media', 'data_deletion_requests'])
    parts.push(JSON.stringify(await app.raw(`SELECT * FROM ${table} ORDER BY 1`)))
  return parts.join('\n')
}

describe('platform answers', () => {
  test('F4: a throttle asking for 500000000 minutes pauses Instagram for a day, not for centuries', async (t) => {
    const { app, agent } = await signedIn(t)
    const accountId = await agent.connectSandbox()
    // what the red team injected through the sandbox's control API (F3 §3); a glitching or
    // compromised path to Graph could send the same header
    app.emulator.state.faults.push({
      kind: 'throttle',
      code: 4,
      count: 1,
      minutes: 500_000_000,
      path: '/graph/v24.0/me',
    })
    const sync = await agent.send('POST', `/api/socials/accounts/${accountId}/sync`)
    assert.equal(sync.status, 429, sync.text)
    assert.ok(Number(sync.headers.get('retry-after')) <= DAY / 1000, 'Retry-After within a day')
    const now = app.clock.now()
    const [block] = await app.raw('SELECT blocked_until FROM api_budgets WHERE scope = ?', [
      APP_SCOPE,
    ])
    assert.ok(
      Number(block?.blocked_until) <= now + DAY,
      `stored block ${String(block?.blocked_until)}`,
    )
    const accounts = JSON.parse((await agent.send('GET', '/api/socials/accounts')).text) as {
      accounts: { next_sync_at: string | null; status: string }[]
    }
    const nextSync = Date.parse(String(accounts.accounts[0]?.next_sync_at))
    assert.ok(nextSync <= now + DAY, `next sync ${accounts.accounts[0]?.next_sync_at}`)
    assert.ok(
      app.logs.some((l) => /"askedMinutes":500000000.*beyond the 24 h bound: clamped/.test(l)),
      'the clamp is logged with what was asked',
    )

    // a day later the scheduler syncs again by itself: nobody has to press "Sync now"
    app.clock.advance(DAY + 60_000)
    assert.equal((await runDue(app)).syncs.synced, 1)
    const after = JSON.parse((await agent.send('GET', '/api/socials/accounts')).text) as {
      accounts: { status: string }[]
    }
    assert.equal(after.accounts[0]?.status, 'active')
  })

  test('F6: old, future-dated, replayed and re-spelled signed_requests change nothing', async (t) => {
    const { app, agent } = await signedIn(t)
    const accountId = await agent.connectSandbox()
    const [row] = await app.raw('SELECT platform_scoped_id FROM user_social_accounts')
    const userId = String(row?.platform_scoped_id)
    const secret = app.emulator.state.settings.clientSecret
    const at = (issuedAt: number) =>
      signRequest({ algorithm: 'HMAC-SHA256', user_id: userId, issued_at: issuedAt }, secret)
    const nowS = () => Math.floor(app.clock.now() / 1000)
    const callback = (path: string, value: string) =>
      agent.send('POST', path, {
        form: new URLSearchParams({ signed_request: value }),
        origin: null,
      })

    // captured now, used later
    const captured = at(nowS())
    const [signature = '', payload = ''] = captured.split('.')
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const last = alphabet.indexOf(signature.at(-1) ?? '')
    const attacks: [string, string, RegExp][] = [
      ['dated 2010-01-01', at(1262304000), /too old \(issued more than 5 minutes ago\)/],
      ['dated 2 minutes ahead', at(nowS() + 120), /dated in the future/],
      [
        'no issued_at',
        signRequest({ algorithm: 'HMAC-SHA256', user_id: userId }, secret),
        /no issued_at/,
      ],
      ...[1, 2, 3].map((low): [string, string, RegExp] => [
        `signature with low bits ${low} flipped`,
        `${signature.slice(0, -1)}${alphabet[last ^ low]}.${payload}`,
        /^Invalid signed_request$/,
      ]),
      ['signature over-padded', `${signature}==.${payload}`, /^Invalid signed_request$/],
    ]
    const before = await snapshot(app)
    for (const [name, value, message] of attacks) {
      for (const path of [DEAUTH, DELETION]) {
        const answer = await callback(path, value)
        assert.equal(answer.status, 400, `${name} ${path}: ${answer.text}`)
        const error = (JSON.parse(answer.text) as { error: { message: string } }).error
        assert.match(error.message, message, name)
        assert.equal(answer.text.includes(value.slice(0, 20)), false, 'the value is not echoed')
      }
    }
    assert.equal(await snapshot(app), before, 'nothing revoked, nothing deleted')

    // the genuine request works; after the person reconnects and its window has passed, the
    // same request replayed is refused and the new connection stands
    assert.equal((await callback(DEAUTH, captured)).status, 200)
    assert.equal(await agent.connectSandbox(), accountId)
    app.clock.advance(5 * 60_000 + 1000)
    const reconnected = await snapshot(app)
    for (const path of [DEAUTH, DELETION]) {
      const replay = await callback(path, captured)
      assert.equal(replay.status, 400, `${path}: ${replay.text}`)
      assert.match(replay.text, /too old/)
    }
    assert.equal(await snapshot(app), reconnected)
    const [status] = await app.raw('SELECT status FROM user_social_accounts')
    assert.equal(status?.status, 'active')
  })

  test('F10: javascript:, data:, foreign http and other non-https URLs from Instagram are never stored or served', async (t) => {
    const hostile = await hostileInstagram(t)
    const { app, agent } = await signedIn(t, {
      INSTAGRAM_CLIENT_ID: 'hostile-app',
      INSTAGRAM_CLIENT_SECRET: 'hostile-secret',
      INSTAGRAM_AUTHORIZE_URL: `${hostile.base}/oauth/authorize`,
      INSTAGRAM_TOKEN_URL: `${hostile.base}/oauth/access_token`,
      INSTAGRAM_GRAPH_URL: hostile.base,
    })
    const authorize = await agent.startConnect()
    assert.equal(authorize.origin, hostile.base)
    const state = String(authorize.searchParams.get('state'))
    const accountId = await agent.finishConnect(
      `/api/socials/oauth/instagram/callback?code=hostile-code&state=${state}`,
    )
    const sync = await agent.send('POST', `/api/socials/accounts/${accountId}/sync`)
    assert.equal(sync.status, 200, sync.text)

    const media = JSON.parse((await agent.send('GET', '/api/socials/media')).text) as {
      items: {
        id: string
        media_url: string | null
        thumbnail_url: string | null
        permalink: string | null
        children?: { media_url: string | null }[]
      }[]
    }
    assert.equal(media.items.length, HOSTILE_MEDIA.length, 'every item keeps its row')
    const byCaption = new Map(
      (await app.raw('SELECT caption, media_url, thumbnail_url, permalink FROM media')).map((r) => [
        String(r.caption),
        r,
      ]),
    )
    for (const item of HOSTILE_MEDIA) {
      const stored = byCaption.get(item.caption)
      assert.ok(stored !== undefined, item.caption)
      assert.deepEqual(
        [stored.media_url, stored.thumbnail_url ?? null, stored.permalink],
        item.expected,
        item.caption,
      )
    }
    const accounts = (await agent.send('GET', '/api/socials/accounts')).text
    assert.match(accounts, /"profile_picture_url":null/)
    // nothing of it reaches an answer or the database
    const everything = `${JSON.stringify(media)}\n${accounts}\n${await snapshot(app)}`
    for (const bad of ['javascript:', 'data:', 'evil.example', 'vbscript:'])
      assert.equal(everything.toLowerCase().includes(bad), false, bad)
  })
})

/** What the hostile Instagram sends (as `media_url` and `permalink`) and what must be stored. */
const HOSTILE_MEDIA: {
  caption: string
  url: string
  thumbnail?: string
  expected: (string | null)[]
}[] = [
  { caption: 'javascript', url: 'javascript:alert(document.cookie)', expected: [null, null, null] },
  {
    caption: 'data',
    url: 'data:text/html,<script>alert(1)</script>',
    expected: [null, null, null],
  },
  { caption: 'foreign http', url: 'http://evil.example/x.jpg', expected: [null, null, null] },
  { caption: 'protocol-relative', url: '//evil.example/x.jpg', expected: [null, null, null] },
  { caption: 'garbage', url: 'not a url at all', expected: [null, null, null] },
  {
    caption: 'userinfo',
    url: 'https://www.instagram.com@evil.example/p/',
    expected: [null, null, null],
  },
  { caption: 'vbscript', url: 'VBScript:msgbox(1)', expected: [null, null, null] },
  {
    caption: 'https',
    url: 'https://scontent.cdninstagram.com/v/ok.jpg?oe=7FFFFFFF&oh=00_A',
    expected: [
      'https://scontent.cdninstagram.com/v/ok.jpg?oe=7FFFFFFF&oh=00_A',
      null,
      'https://scontent.cdninstagram.com/v/ok.jpg?oe=7FFFFFFF&oh=00_A',
    ],
  },
  {
    caption: 'video with a bad media_url and a good thumbnail',
    url: 'javascript:void(0)',
    thumbnail: 'https://scontent.cdninstagram.com/v/thumb.jpg',
    expected: [null, 'https://scontent.cdninstagram.com/v/thumb.jpg', null],
  },
]

/** A stand-in for Instagram on loopback whose answers carry hostile URLs. */
async function hostileInstagram(t: TestContext): Promise<{ base: string }> {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const json = (res: ServerResponse, body: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(String(req.url), base).pathname
    if (path === '/oauth/access_token')
      return json(res, {
        access_token: 'IGshort-hostile',
        user_id: '27281358591559999',
        permissions: ['instagram_business_basic'],
      })
    if (path === '/access_token')
      return json(res, {
        access_token: 'IGlong-hostile',
        token_type: 'bearer',
        expires_in: 5_184_000,
      })
    if (path.endsWith('/me'))
      return json(res, {
        id: '27281358591559999',
        user_id: '17841457215399999',
        username: 'hostile_shop',
        account_type: 'BUSINESS',
        profile_picture_url: 'javascript:alert(1)',
        media_count: HOSTILE_MEDIA.length,
      })
    if (path.endsWith('/me/media'))
      return json(res, {
        data: HOSTILE_MEDIA.map((item, i) => ({
          id: `1790000000000000${i}`,
          caption: item.caption,
          media_type: item.thumbnail === undefined ? 'IMAGE' : 'VIDEO',
          media_url: item.url,
          ...(item.thumbnail === undefined ? {} : { thumbnail_url: item.thumbnail }),
          permalink: item.url,
          timestamp: `2024-01-0${1 + (i % 9)}T00:00:0${i % 10}+0000`,
        })),
      })
    res.writeHead(404, { 'content-type': 'application/json' })
    res.end('{"error":{"message":"unknown path","code":100}}')
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { base }
}
