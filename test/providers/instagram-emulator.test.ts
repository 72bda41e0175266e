/** The emulator is a model of Meta's API: these tests pin the behaviours the app relies on. */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance } from 'fastify'
import { createManualClock, type ManualClock } from '../../src/clock.ts'
import { createEmulator, type Emulator } from '../../src/providers/instagram/emulator/index.ts'
import { parseFields, serializeFields } from '../../src/providers/instagram/emulator/fields.ts'
import { ControlError } from '../../src/providers/instagram/emulator/bounds.ts'
import { sendDemoClip } from '../../src/providers/emulator-core/video-route.ts'

const REDIRECT = 'https://app.example/api/socials/oauth/instagram/callback'

async function emulator(
  t: TestContext,
): Promise<{ app: FastifyInstance; emu: Emulator; clock: ManualClock }> {
  const clock = createManualClock(Date.UTC(2026, 10, 1))
  const emu = createEmulator({
    clock,
    baseUrl: () => 'http://emu.test',
    clientId: 'app-id',
    clientSecret: 'app-secret',
    redirectUris: [REDIRECT],
  })
  const app = Fastify()
  await app.register(emu.plugin)
  t.after(() => app.close())
  return { app, emu, clock }
}

function authorizeQuery(extra: Record<string, string> = {}): string {
  return new URLSearchParams({
    client_id: 'app-id',
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'instagram_business_basic',
    state: 'xyz',
    ...extra,
  }).toString()
}

async function code(app: FastifyInstance, userIndex = 1): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/oauth/authorize',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `${authorizeQuery()}&decision=allow&user_index=${userIndex}`,
  })
  assert.equal(response.statusCode, 302)
  const location = String(response.headers.location)
  assert.match(location, /#_$/, 'Meta appends #_')
  return new URL(location).searchParams.get('code') ?? ''
}

function exchange(app: FastifyInstance, value: string, overrides: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/oauth/access_token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      client_id: 'app-id',
      client_secret: 'app-secret',
      grant_type: 'authorization_code',
      redirect_uri: REDIRECT,
      code: value,
      ...overrides,
    }).toString(),
  })
}

async function longToken(app: FastifyInstance, userIndex = 1): Promise<string> {
  const short =
    /"access_token":"([^"]+)"/.exec((await exchange(app, await code(app, userIndex))).body)?.[1] ??
    ''
  const response = await app.inject({
    method: 'GET',
    url: `/graph/access_token?grant_type=ig_exchange_token&client_secret=app-secret&access_token=${short}`,
  })
  assert.equal(response.statusCode, 200)
  return response.json<{ access_token: string }>().access_token
}

test('authorize: consent page for valid requests, Meta-style error page otherwise', async (t) => {
  const { app } = await emulator(t)
  const ok = await app.inject({ method: 'GET', url: `/oauth/authorize?${authorizeQuery()}` })
  assert.equal(ok.statusCode, 200)
  assert.match(ok.body, /Allow/)
  assert.match(ok.body, /Deny/)
  for (const [extra, message] of [
    [{ client_id: 'other' }, /Invalid platform app/],
    [{ redirect_uri: `${REDIRECT}/` }, /Invalid redirect_uri/],
    [{ scope: 'user_profile,user_media' }, /Invalid scope: user_profile,user_media/],
    [{ scope: '' }, /Invalid scope: \[\]/],
  ] as const) {
    const bad = await app.inject({
      method: 'GET',
      url: `/oauth/authorize?${authorizeQuery(extra)}`,
    })
    assert.equal(bad.statusCode, 400)
    assert.match(bad.body, message)
  }
})

test('deny redirects with Meta’s denial parameters', async (t) => {
  const { app } = await emulator(t)
  const response = await app.inject({
    method: 'POST',
    url: '/oauth/authorize',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `${authorizeQuery()}&decision=deny`,
  })
  const location = new URL(String(response.headers.location))
  assert.equal(location.searchParams.get('error'), 'access_denied')
  assert.equal(location.searchParams.get('error_reason'), 'user_denied')
  assert.equal(location.searchParams.get('error_description'), 'The user denied your request')
})

test('code exchange: flat answer with an unquoted 17-digit user_id; single use; exact redirect_uri; 1 hour', async (t) => {
  const { app, clock } = await emulator(t)
  const first = await code(app)
  const response = await exchange(app, first)
  assert.equal(response.statusCode, 200)
  assert.match(response.body, /"user_id":27281358591558846[,}]/, 'unquoted, as Meta sends it')
  const reused = await exchange(app, first)
  assert.deepEqual(reused.json(), {
    error_type: 'OAuthException',
    code: 400,
    error_message: 'This authorization code has been used',
  })
  const wrongRedirect = await exchange(app, await code(app), { redirect_uri: `${REDIRECT}?x=1` })
  assert.match(
    wrongRedirect.json<{ error_message: string }>().error_message,
    /redirect_uri is identical/,
  )
  const wrongSecret = await exchange(app, await code(app), { client_secret: 'nope' })
  assert.equal(wrongSecret.statusCode, 400)
  const late = await code(app)
  clock.advance(3_600_001)
  assert.equal(
    (await exchange(app, late)).json<{ error_message: string }>().error_message,
    'Matching code was not found or was already used',
  )
})

test('long-lived tokens: 60 days; refresh only when ≥ 24 h old and unexpired', async (t) => {
  const { app, clock } = await emulator(t)
  const token = await longToken(app)
  const early = await app.inject({
    method: 'GET',
    url: `/graph/refresh_access_token?grant_type=ig_refresh_token&access_token=${token}`,
  })
  assert.equal(early.statusCode, 400)
  clock.advance(86_400_000)
  const refreshed = await app.inject({
    method: 'GET',
    url: `/graph/refresh_access_token?grant_type=ig_refresh_token&access_token=${token}`,
  })
  assert.equal(refreshed.statusCode, 200)
  assert.equal(refreshed.json<{ expires_in: number }>().expires_in, 5_184_000)
  clock.advance(60 * 86_400_000)
  const expired = await app.inject({
    method: 'GET',
    url: `/graph/refresh_access_token?grant_type=ig_refresh_token&access_token=${token}`,
  })
  const error = expired.json<{ error: { code: number; error_subcode: number; message: string } }>()
    .error
  assert.equal(error.code, 190)
  assert.equal(error.error_subcode, 463)
  assert.match(error.message, /Session has expired/)
})

test('/me: requested fields only plus id; garbage tokens get 190 "Cannot parse access token"', async (t) => {
  const { app } = await emulator(t)
  const token = await longToken(app)
  const me = await app.inject({
    method: 'GET',
    url: `/graph/v24.0/me?fields=user_id,username,account_type&access_token=${token}`,
  })
  assert.deepEqual(me.json(), {
    id: '27281358591558846',
    user_id: '17841457215396812',
    username: 'sandbox_creator',
    account_type: 'MEDIA_CREATOR',
  })
  assert.ok(me.headers['x-app-usage'])
  assert.ok(me.headers['x-business-use-case-usage'])
  const unknownField = await app.inject({
    method: 'GET',
    url: `/graph/me?fields=secret_sauce&access_token=${token}`,
  })
  assert.match(
    unknownField.json<{ error: { message: string } }>().error.message,
    /nonexisting field \(secret_sauce\)/,
  )
  const garbage = await app.inject({ method: 'GET', url: '/graph/me?access_token=nonsense' })
  assert.equal(garbage.statusCode, 400)
  assert.deepEqual(garbage.json<{ error: { code: number; message: string } }>().error.code, 190)
  assert.match(garbage.body, /Cannot parse access token/)
})

test('/me/media: cursor paging with absolute, versioned next URLs on the numeric id; children by field expansion', async (t) => {
  const { app } = await emulator(t)
  const token = await longToken(app)
  const first = await app.inject({
    method: 'GET',
    url: `/graph/me/media?fields=id,media_type,children{id,media_url}&limit=20&access_token=${token}`,
  })
  const page = first.json<{
    data: { id: string; media_type: string; children?: { data: unknown[] } }[]
    paging: { next: string; cursors: { after: string } }
  }>()
  assert.equal(page.data.length, 20)
  assert.match(page.paging.next, /^http:\/\/emu\.test\/graph\/v24\.0\/17841457215396812\/media\?/)
  const next = new URL(page.paging.next)
  assert.equal(next.searchParams.get('limit'), '20')
  assert.equal(next.searchParams.get('fields'), 'id,media_type,children{id,media_url}')
  const album = page.data.find((m) => m.media_type === 'CAROUSEL_ALBUM')
  assert.ok(album?.children && album.children.data.length >= 2)
  let url: string | undefined = page.paging.next
  const ids = new Set(page.data.map((m) => m.id))
  while (url !== undefined) {
    const u: URL = new URL(url)
    const response: Awaited<ReturnType<FastifyInstance['inject']>> = await app.inject({
      method: 'GET',
      url: u.pathname + u.search,
    })
    const body: { data: { id: string }[]; paging?: { next?: string } } = response.json<{
      data: { id: string }[]
      paging?: { next?: string }
    }>()
    for (const m of body.data) ids.add(m.id)
    url = body.paging?.next
  }
  assert.equal(ids.size, 48)
})

test('signed media URLs expire with 403 "URL signature expired"; tampering is refused', async (t) => {
  const { app, clock } = await emulator(t)
  const token = await longToken(app)
  const media = (
    await app.inject({
      method: 'GET',
      url: `/graph/me/media?fields=media_url&limit=1&access_token=${token}`,
    })
  ).json<{ data: { media_url: string }[] }>()
  const mediaUrl = new URL(media.data[0]?.media_url ?? '')
  const ok = await app.inject({ method: 'GET', url: mediaUrl.pathname + mediaUrl.search })
  assert.equal(ok.statusCode, 200)
  assert.match(String(ok.headers['content-type']), /^image\/jpeg/)
  const tampered = new URL(mediaUrl)
  tampered.searchParams.set('oe', 'FFFFFFFF')
  assert.equal(
    (await app.inject({ method: 'GET', url: tampered.pathname + tampered.search })).statusCode,
    403,
  )
  clock.advance(4 * 86_400_000)
  const expired = await app.inject({ method: 'GET', url: mediaUrl.pathname + mediaUrl.search })
  assert.equal(expired.statusCode, 403)
  assert.equal(expired.body, 'URL signature expired')
})

/** The video track's width and height from an MP4's `tkhd` box (version 0, 16.16 fixed). */
function trackSize(mp4: Buffer): [number, number] {
  const at = mp4.indexOf('tkhd', 0, 'latin1')
  assert.ok(at > 0, 'a tkhd box')
  return [mp4.readUInt32BE(at + 4 + 76) / 65536, mp4.readUInt32BE(at + 4 + 80) / 65536]
}

test('a VIDEO’s media_url is a signed MP4 (a real clip, ranges, 403 like pictures); thumbnail_url a JPEG', async (t) => {
  const { app, clock } = await emulator(t)
  const token = await longToken(app)
  type Item = {
    id: string
    media_type: string
    media_product_type?: string
    media_url: string
    thumbnail_url?: string
    children?: { data: Item[] }
  }
  const page = (
    await app.inject({
      method: 'GET',
      url: `/graph/me/media?fields=id,media_type,media_product_type,media_url,thumbnail_url,children{id,media_type,media_url,thumbnail_url}&limit=5&access_token=${token}`,
    })
  ).json<{ data: Item[] }>()
  const reel = page.data.find((m) => m.media_type === 'VIDEO')
  assert.ok(reel !== undefined)
  assert.equal(reel.media_product_type, 'REELS')
  assert.match(reel.media_url, /^http:\/\/emu\.test\/cdn\/v\/\d+\.mp4\?oe=[0-9A-F]+&oh=00_/)
  const image = page.data.find((m) => m.media_type === 'IMAGE')
  assert.match(image?.media_url ?? '', /\/cdn\/v\/\d+\.svg\?/, 'pictures unchanged')
  assert.equal(image?.thumbnail_url, undefined)
  const path = (url: string): string => {
    const u = new URL(url)
    return u.pathname + u.search
  }

  const whole = await app.inject({ method: 'GET', url: path(reel.media_url) })
  assert.equal(whole.statusCode, 200, whole.body.slice(0, 200))
  assert.equal(whole.headers['content-type'], 'video/mp4')
  assert.equal(whole.headers['accept-ranges'], 'bytes')
  assert.equal(whole.rawPayload.subarray(4, 8).toString('latin1'), 'ftyp')
  assert.deepEqual(trackSize(whole.rawPayload), [360, 640], 'a Reel is portrait 9:16')
  const size = whole.rawPayload.length
  const part = await app.inject({
    method: 'GET',
    url: path(reel.media_url),
    headers: { range: 'bytes=4-7' },
  })
  assert.equal(part.statusCode, 206)
  assert.equal(part.headers['content-range'], `bytes 4-7/${size}`)
  assert.equal(part.rawPayload.toString('latin1'), 'ftyp')
  const tail = await app.inject({
    method: 'GET',
    url: path(reel.media_url),
    headers: { range: 'bytes=-10' },
  })
  assert.equal(tail.statusCode, 206)
  assert.deepEqual(tail.rawPayload, whole.rawPayload.subarray(size - 10))
  const past = await app.inject({
    method: 'GET',
    url: path(reel.media_url),
    headers: { range: `bytes=${size}-` },
  })
  assert.equal(past.statusCode, 416)
  assert.equal(past.headers['content-range'], `bytes */${size}`)

  // the poster is a signed JPEG
  assert.match(reel.thumbnail_url ?? '', /\/cdn\/v\/t\d+\.svg\?oe=/)
  const poster = await app.inject({ method: 'GET', url: path(reel.thumbnail_url ?? '') })
  assert.equal(poster.statusCode, 200)
  assert.match(String(poster.headers['content-type']), /^image\/jpeg/)

  // a video in an album: a real (square) clip too, the same for every album video
  const child = page.data
    .flatMap((m) => m.children?.data ?? [])
    .find((c) => c.media_type === 'VIDEO')
  assert.ok(child !== undefined)
  assert.match(child.media_url, /\/cdn\/v\/\d+\.mp4\?/)
  assert.match(child.thumbnail_url ?? '', /\/cdn\/v\/t\d+\.svg\?/)
  const album = await app.inject({ method: 'GET', url: path(child.media_url) })
  assert.equal(album.statusCode, 200)
  assert.equal(album.headers['content-type'], 'video/mp4')
  assert.deepEqual(trackSize(album.rawPayload), [480, 480])

  // signatures: tampered, a picture's signature on the video, and expired
  const tampered = new URL(reel.media_url)
  tampered.searchParams.set('oe', 'FFFFFFFF')
  const bad = await app.inject({ method: 'GET', url: path(tampered.href) })
  assert.equal(bad.statusCode, 403)
  assert.equal(bad.body, 'Bad URL hash')
  const borrowed = new URL(reel.thumbnail_url ?? '')
  borrowed.pathname = borrowed.pathname.replace(/\/t(\d+)\.svg$/, '/$1.mp4')
  assert.equal((await app.inject({ method: 'GET', url: path(borrowed.href) })).statusCode, 403)
  clock.advance(4 * 86_400_000)
  const expired = await app.inject({ method: 'GET', url: path(reel.media_url) })
  assert.equal(expired.statusCode, 403)
  assert.equal(expired.body, 'URL signature expired')
})

test('without ffmpeg a demo video answers 503 with a plain explanation', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  app.get('/clip', (request, reply) =>
    sendDemoClip(request, reply, () => Promise.reject(new Error('spawn ENOENT')), {
      cacheControl: 'no-store',
      ranges: true,
    }),
  )
  const answer = await app.inject({ method: 'GET', url: '/clip' })
  assert.equal(answer.statusCode, 503)
  assert.match(String(answer.headers['content-type']), /^text\/plain/)
  assert.equal(answer.body, 'The demo video needs ffmpeg (npm install)')
})

test('faults and limits: 5xx, throttling with usage headers, invalidated tokens, per-user budget', async (t) => {
  const { app, emu, clock } = await emulator(t)
  const token = await longToken(app)
  const get = () => app.inject({ method: 'GET', url: `/graph/me?access_token=${token}` })
  emu.state.faults.push({ kind: 'http_5xx', count: 1 })
  assert.equal((await get()).statusCode, 500)
  emu.state.faults.push({ kind: 'throttle', code: 80002, count: 1, minutes: 9 })
  const throttled = await get()
  assert.equal(
    throttled.json<{ error: { code: number; is_transient: boolean } }>().error.code,
    80002,
  )
  assert.match(
    String(throttled.headers['x-business-use-case-usage']),
    /"estimated_time_to_regain_access":9/,
  )
  assert.equal((await get()).statusCode, 200, 'faults are consumed')
  assert.deepEqual(emu.control.invalidate(1, 460), { invalidated: 1, subcode: 460 })
  const invalid = (await get()).json<{ error: { code: number; error_subcode: number } }>().error
  assert.deepEqual([invalid.code, invalid.error_subcode], [190, 460])
  // tokens issued in the same millisecond as the invalidation count as invalidated: a person
  // reconnects a moment later
  clock.advance(1000)
  const fresh = await longToken(app)
  emu.state.settings = { ...emu.state.settings, callsPerHourPerUser: 3 }
  const results = []
  for (let i = 0; i < 5; i++)
    results.push(
      (await app.inject({ method: 'GET', url: `/graph/me?access_token=${fresh}` })).json<{
        error?: { code: number }
      }>().error?.code ?? 200,
    )
  assert.ok(results.includes(80002), `budget enforced: ${results.join(',')}`)
})

test('control interface validates its input', async (t) => {
  const { emu, clock } = await emulator(t)
  const refused = (status: number, pattern: RegExp) => (error: unknown) =>
    error instanceof ControlError && error.status === status && pattern.test(error.message)
  assert.throws(() => emu.control.addUser({ username: 'BAD NAME' }), refused(400, /username/))
  assert.throws(() => emu.control.addFault({ kind: 'meteor', count: 1 }), refused(400, /kind/))
  assert.throws(() => emu.control.publish(99, {}), refused(404, /no such user/))
  assert.throws(() => emu.control.deleteMedia('1'), refused(404, /no such top-level media/))
  assert.throws(() => emu.control.updateSettings({}), refused(400, /nothing to change/))
  assert.throws(
    () => emu.control.addUser({ username: 'sandbox_shop' }),
    refused(409, /username taken/),
  )
  const created = emu.control.addUser({
    username: 'new_shop',
    account_type: 'BUSINESS',
    media_count: 3,
  })
  assert.equal(created.media_count, 3)
  assert.equal(emu.state.userByIndex(created.index)?.media.length, 3)
  const before = clock.now()
  emu.control.moveClock({ advance_ms: 1000 })
  assert.ok(clock.now() - before >= 1000)
  const snapshot = emu.control.snapshot()
  assert.equal(snapshot.users.length, 4)
  assert.equal(snapshot.faults.length, 0)
})

test('the plugin serves no control routes: the world is shaped in-process only', async (t) => {
  const { app } = await emulator(t)
  for (const [method, url] of [
    ['GET', '/_control/state'],
    ['POST', '/_control/users'],
    ['POST', '/_control/users/1/media'],
    ['POST', '/_control/faults'],
    ['POST', '/_control/reset'],
  ] as const) {
    const response = await app.inject({ method, url, payload: { username: 'planted' } })
    assert.equal(response.statusCode, 404, `${method} ${url}`)
  }
})

test('published media ids never repeat, even after a delete or a reset', async (t) => {
  const { emu } = await emulator(t)
  const ids = new Set<string>()
  const all = (): string[] =>
    emu.state.users.flatMap((u) => u.media.flatMap((m) => [m.id, ...m.children.map((c) => c.id)]))
  for (const id of all()) ids.add(id)
  const seen = ids.size
  for (let round = 0; round < 3; round++) {
    // the same number of posts and calls each round: an id derived from counts would repeat
    for (let i = 0; i < 6; i++) {
      const { id } = emu.control.publish(1, { caption: `round ${round}` })
      const children = emu.state.findMedia(id)?.media.children.map((c) => c.id) ?? []
      for (const fresh of [id, ...children]) {
        assert.ok(!ids.has(fresh), `${fresh} was used before`)
        ids.add(fresh)
      }
      emu.control.deleteMedia(id)
    }
    if (round === 1) emu.control.reset()
  }
  assert.ok(ids.size >= seen + 18)
  assert.equal(new Set(all()).size, all().length, 'no two live media share an id')
})

test('bounds: captions, faults (known fields only), users, total media', async (t) => {
  const { emu } = await emulator(t)
  const bad = (pattern: RegExp) => (error: unknown) =>
    error instanceof ControlError && error.status === 400 && pattern.test(error.message)
  // Instagram's 2,200 characters, counted as characters (an emoji is one)
  assert.ok(emu.control.publish(1, { caption: '📷'.repeat(2_200) }).id)
  assert.throws(() => emu.control.publish(1, { caption: 'x'.repeat(2_201) }), bad(/2200/))
  assert.throws(() => emu.control.publish(1, { caption: 42 }), bad(/caption/))
  const [first] = emu.state.users[0]?.media ?? []
  assert.throws(() => emu.control.editMedia(first?.id ?? '', { caption: 'y'.repeat(2_201) }))
  emu.control.editMedia(first?.id ?? '', { caption: null })
  assert.equal(emu.state.findMedia(first?.id ?? '')?.media.caption, null)

  const fault = {
    kind: 'graph_error',
    code: 190,
    subcode: 460,
    message: 'Error validating access token',
    count: 2,
    path: '/me',
  }
  emu.control.addFault({ ...fault, extra: 'dropped' })
  assert.deepEqual(emu.state.faults, [fault])
  for (const [fault, pattern] of [
    [{ kind: 'http_5xx', count: 0 }, /count/],
    [{ kind: 'http_5xx', count: 10_001 }, /count/],
    [{ kind: 'http_5xx', count: '1' }, /count/],
    [{ kind: 'http_5xx', count: 1, status: 200 }, /status/],
    [{ kind: 'http_5xx', count: 1, path: 'p'.repeat(501) }, /path/],
    [{ kind: 'graph_error', count: 1, code: 100, message: 'm'.repeat(501) }, /message/],
    [{ kind: 'graph_error', count: 1, code: 100 }, /message/],
    [{ kind: 'timeout', count: 1, hang_ms: 3_600_000 }, /hang_ms/],
    [{ kind: 'throttle', count: 1, code: 5 }, /code/],
    [{ kind: 'throttle', count: 1, code: 4, minutes: 500_000_000 }, /minutes/],
    [{ kind: 'throttle', count: 1, code: 4, minutes: [1] }, /minutes/],
    [{ kind: 'http_5xx', count: 1, path: { a: { b: { c: { d: {} } } } } }, /nested/],
  ] as const)
    assert.throws(() => emu.control.addFault(fault), bad(pattern), JSON.stringify(fault))
  // a throttle may still claim years, so that the app's own clamp can be tested
  emu.control.addFault({ kind: 'throttle', count: 1, code: 4, minutes: 5_000_000 })
  emu.control.clearFaults()
  for (let i = 0; i < 100; i++) emu.control.addFault({ kind: 'http_5xx', count: 1 })
  assert.throws(() => emu.control.addFault({ kind: 'http_5xx', count: 1 }), bad(/at most 100/))
  assert.equal(emu.state.faults.length, 100)

  const media = (): number => emu.state.users.reduce((n, u) => n + u.media.length, 0)
  assert.throws(
    () => emu.control.addUser({ username: 'too_big', media_count: 10_001 }),
    bad(/media_count/),
  )
  for (let i = 0; i < 4; i++) emu.control.addUser({ username: `big_${i}`, media_count: 10_000 })
  const left = 50_000 - media()
  assert.throws(
    () => emu.control.addUser({ username: 'over', media_count: left + 1 }),
    bad(new RegExp(`${left} left`)),
  )
  emu.control.addUser({ username: 'exact', media_count: left })
  assert.equal(media(), 50_000)
  assert.throws(() => emu.control.publish(1, {}), bad(/at most 50000 media/))
  while (emu.state.users.length < 200)
    emu.control.addUser({ username: `u${emu.state.users.length}`, media_count: 0 })
  assert.throws(
    () => emu.control.addUser({ username: 'one_more', media_count: 0 }),
    bad(/at most 200 users/),
  )
  assert.equal(emu.state.users.length, 200)
})

test('authorization codes: expired ones are dropped, and at most 10,000 are kept', async (t) => {
  const { app, emu, clock } = await emulator(t)
  const stale = await code(app)
  clock.advance(3_600_001)
  await code(app)
  assert.equal(emu.state.codes.size, 1, 'the expired code is gone')
  assert.equal(emu.state.codes.has(stale), false)
  const oldest = await code(app)
  for (let i = emu.state.codes.size; i < 10_000; i++)
    emu.state.issueCode(1, 'app-id', REDIRECT, ['instagram_business_basic'])
  assert.equal(emu.state.codes.size, 10_000)
  const newest = await code(app)
  assert.equal(emu.state.codes.size, 10_000)
  assert.equal(emu.state.codes.has(oldest), true, 'the second oldest survives')
  assert.equal(emu.state.codes.has(newest), true)
  assert.equal((await exchange(app, newest)).statusCode, 200)
})

test('HTML answers name their charset', async (t) => {
  const { app } = await emulator(t)
  for (const url of [
    `/oauth/authorize?${authorizeQuery()}`,
    `/oauth/authorize?${authorizeQuery({ client_id: 'other' })}`,
  ]) {
    const response = await app.inject({ method: 'GET', url })
    assert.equal(response.headers['content-type'], 'text/html; charset=utf-8', url)
  }
  const refused = await app.inject({
    method: 'POST',
    url: '/oauth/authorize',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `${authorizeQuery({ client_id: 'other' })}&decision=allow&user_index=1`,
  })
  assert.equal(refused.statusCode, 400)
  assert.equal(refused.headers['content-type'], 'text/html; charset=utf-8')
})

test('fields parser handles expansion and rejects malformed input', () => {
  const tree = parseFields('id,caption,children{id,media_url}')
  assert.ok(tree)
  assert.equal(serializeFields(tree), 'id,caption,children{id,media_url}')
  for (const bad of ['', 'id,', 'children{id', 'a{}', 'id}}', 'x y'])
    assert.equal(parseFields(bad), null, bad)
})

test('the documented wrapped token answer can be switched on', async (t) => {
  const { app, emu } = await emulator(t)
  assert.deepEqual(emu.control.updateSettings({ token_response_shape: 'wrapped' }), { ok: true })
  const body = (await exchange(app, await code(app))).json<{
    data: { access_token: string; user_id: string; permissions: string }[]
  }>()
  assert.equal(body.data[0]?.user_id, '27281358591558846')
  assert.equal(body.data[0]?.permissions, 'instagram_business_basic')
})
