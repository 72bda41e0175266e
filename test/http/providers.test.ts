/**
 * The platforms registry as the API and the page see it: Connect buttons per connectable
 * platform with its mode, every platform's name, icon and post-link label, profile links built by
 * each platform's folder, and the page's CSP admitting the media CDNs of platforms reached for real.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Browser, buildTestApp } from '../helpers/build-app.ts'
import { CONNECTABLE, PLATFORMS } from '../../src/providers/registry.ts'

interface ProvidersAnswer {
  providers: {
    platform: string
    label: string
    connect_path: string
    mode: string
    embed_url: string | null
    embed_id_pattern: string | null
    embed_frame: { portrait: boolean; allow: string; sandbox: string } | null
    has_player: boolean
  }[]
  platforms: { platform: string; label: string; view_label: string; icon_path: string }[]
}

test('the registry lists every platform once, each described by its own folder', () => {
  for (const [key, info] of Object.entries(PLATFORMS)) {
    assert.equal(info.id, key)
    assert.match(info.profileUrl('someone'), /^https:\/\/[a-z.]+\/.*someone/)
    assert.match(info.iconPath, /^[MmLlHhVvCcSsQqTtAaZz0-9 .,-]+$/)
    assert.ok(info.viewLabel.includes(info.label))
  }
  for (const connectable of CONNECTABLE) {
    assert.equal(PLATFORMS[connectable.info.id], connectable.info)
    assert.equal(connectable.connectPath, `/api/socials/connect/${connectable.info.id}`)
    for (const origin of connectable.mediaOrigins) assert.match(origin, /^https:\/\/[*a-z0-9.-]+$/)
    // the logger replaces every occurrence: the shapes must be global
    assert.ok(connectable.secretShapes.length > 0)
    for (const shape of connectable.secretShapes) assert.ok(shape.global, String(shape))
  }
})

test('GET /api/socials/providers: Connect buttons with their mode, and every platform', async (t) => {
  const modes = [
    [{}, 'sandbox'],
    [
      {
        INSTAGRAM_CLIENT_ID: 'id',
        INSTAGRAM_CLIENT_SECRET: 'secret',
        YOUTUBE_CLIENT_ID: 'id.apps.googleusercontent.com',
        YOUTUBE_CLIENT_SECRET: 'GOCSPX-secret',
        TIKTOK_CLIENT_KEY: 'awkey',
        TIKTOK_CLIENT_SECRET: 'tiktok-secret',
        X_CLIENT_ID: 'x-client-id',
        X_CLIENT_SECRET: 'x-client-secret',
      },
      'real',
    ],
    [{ NODE_ENV: 'production', PUBLIC_URL: 'https://gallery.example' }, 'unconfigured'],
  ] as const
  for (const [env, mode] of modes) {
    const app = await buildTestApp(t, env)
    const answer = (
      await app.request({ method: 'GET', url: '/api/socials/providers' })
    ).json<ProvidersAnswer>()
    assert.deepEqual(
      answer.providers.map((p) => [p.platform, p.label, p.connect_path, p.mode, p.embed_url]),
      [
        ['instagram', 'Instagram', '/api/socials/connect/instagram', mode, null],
        [
          'youtube',
          'YouTube',
          '/api/socials/connect/youtube',
          mode,
          // the player only when YouTube is real: the sandbox has no videos to play
          mode === 'real' ? 'https://www.youtube-nocookie.com/embed/{id}' : null,
        ],
        [
          'tiktok',
          'TikTok',
          '/api/socials/connect/tiktok',
          mode,
          // TikTok's embed player, likewise only when TikTok is real (its emulator has none)
          mode === 'real' ? 'https://www.tiktok.com/player/v1/{id}?controls=1&rel=0' : null,
        ],
        ['x', 'X', '/api/socials/connect/x', mode, null],
      ],
    )
    assert.deepEqual(
      answer.providers.map((p) => [p.platform, p.has_player]),
      [
        ['instagram', false],
        ['youtube', true],
        ['tiktok', true],
        ['x', false],
      ],
      'whether a player exists at all, whatever the mode',
    )
    // how the page takes TikTok's player: digits-only ids, a portrait sandboxed frame (real only)
    assert.deepEqual(
      answer.providers.map((p) => [p.platform, p.embed_id_pattern, p.embed_frame]),
      [
        ['instagram', null, null],
        ['youtube', null, null],
        [
          'tiktok',
          mode === 'real' ? '^\\d{1,32}$' : null,
          mode === 'real'
            ? {
                portrait: true,
                allow: 'fullscreen',
                sandbox:
                  'allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox',
              }
            : null,
        ],
        ['x', null, null],
      ],
    )
    assert.deepEqual(
      answer.platforms.map((p) => [p.platform, p.label, p.view_label]),
      Object.values(PLATFORMS).map((p) => [p.id, p.label, p.viewLabel]),
    )
    // pictures and videos come from our archive only: no platform's media server, in any mode
    const page = await app.request({ method: 'GET', url: '/gallery' })
    const csp = String(page.headers['content-security-policy'])
    assert.match(csp, /(?:^|; )img-src 'self'(;|$)/, `${mode}: ${csp}`)
    assert.match(csp, /(?:^|; )media-src 'self'(;|$)/, `${mode}: ${csp}`)
    for (const host of ['cdninstagram', 'fbcdn', 'ytimg', 'tiktokcdn', 'twimg'])
      assert.equal(csp.includes(host), false, `${mode}: ${csp}`)
    // the privacy-enhanced player may be framed only when YouTube is real
    assert.equal(
      /frame-src[^;]*https:\/\/www\.youtube-nocookie\.com/.test(csp),
      mode === 'real',
      `${mode}: ${csp}`,
    )
    assert.doesNotMatch(csp, /frame-src[^;]*https:\/\/www\.youtube\.com/)
    // TikTok's player likewise only when TikTok is real: never in the sandbox
    assert.equal(
      /frame-src[^;]*https:\/\/www\.tiktok\.com(\s|;|$)/.test(csp),
      mode === 'real',
      `${mode}: ${csp}`,
    )
  }
})

test('the CSP frames TikTok’s player exactly when TikTok itself is real, whatever the others', async (t) => {
  const frameSrc = async (env: Record<string, string>): Promise<string> => {
    const app = await buildTestApp(t, env)
    const page = await app.request({ method: 'GET', url: '/gallery' })
    const csp = String(page.headers['content-security-policy'])
    return /(?:^|; )frame-src([^;]*)/.exec(csp)?.[1]?.trim() ?? ''
  }
  const tiktok = { TIKTOK_CLIENT_KEY: 'awkey', TIKTOK_CLIENT_SECRET: 'tiktok-secret' }
  const youtube = {
    YOUTUBE_CLIENT_ID: 'id.apps.googleusercontent.com',
    YOUTUBE_CLIENT_SECRET: 'GOCSPX-secret',
  }
  // real TikTok, the rest in the sandbox: TikTok's player alone
  assert.equal(await frameSrc(tiktok), 'https://www.tiktok.com')
  // real YouTube, TikTok in the sandbox (its emulator has no player): YouTube's alone
  assert.equal(await frameSrc(youtube), 'https://www.youtube-nocookie.com')
  // both real: both players
  assert.deepEqual((await frameSrc({ ...tiktok, ...youtube })).split(' ').sort(), [
    'https://www.tiktok.com',
    'https://www.youtube-nocookie.com',
  ])
  // everything in the sandbox: no frame at all
  assert.equal(await frameSrc({}), '')
})

test('profile links are built by each platform’s folder', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  for (const info of Object.values(PLATFORMS)) {
    const answer = await browser.fetch('POST', '/api/socials/accounts', {
      body: { platform: info.id, username: '@some.one' },
    })
    assert.equal(answer.statusCode, 201, answer.body)
    const account = answer.json<{ account: { profile_url: string; platform: string } }>().account
    assert.equal(account.platform, info.id)
    assert.equal(account.profile_url, info.profileUrl('some.one'))
  }
  const unknown = await browser.fetch('POST', '/api/socials/accounts', {
    body: { platform: 'myspace', username: 'tom' },
  })
  assert.equal(unknown.statusCode, 400)
})
