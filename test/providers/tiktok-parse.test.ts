import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { GalleryError } from '../../src/errors.ts'
import {
  COVER_TTL_MS,
  MAX_TIKTOK_TEXT,
  TIKTOK_SECRET_SHAPES,
  classifyTiktokFailure,
  coverExpiresAt,
  envelopeData,
  missingScopes,
  parseRevokeResponse,
  parseTiktokError,
  parseTokenResponse,
  parseUserInfo,
  parseVideoList,
  parseVideoQuery,
  safeTiktokText,
  splitScopes,
  videoListBody,
  videoQueryBody,
  videoToMedia,
  type TiktokEndpoint,
} from '../../src/providers/tiktok/parse.ts'

type Json = Record<string, unknown>

function fixture(name: string): Json {
  return JSON.parse(
    readFileSync(new URL(`../fixtures/providers/tiktok/${name}.json`, import.meta.url), 'utf8'),
  ) as Json
}

function variant(name: string, edit: (body: Json) => void): Json {
  const body = structuredClone(fixture(name))
  edit(body)
  return body
}

/** `run` throws ERR_PROVIDER_RESPONSE naming `endpoint` (and `field`, if given). */
function rejects(run: () => unknown, endpoint: string, field?: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof GalleryError)
    assert.equal(error.code, 'ERR_PROVIDER_RESPONSE')
    assert.ok(error.message.includes(endpoint), error.message)
    if (field !== undefined) assert.match(error.message, field)
    return true
  })
}

/** `run` throws a GalleryError with `code`; returns it. */
function throwsCode(run: () => unknown, code: string): GalleryError {
  let caught: unknown
  assert.throws(run, (error: unknown) => {
    caught = error
    return error instanceof GalleryError && error.code === code
  })
  return caught as GalleryError
}

const NOW = Date.UTC(2026, 10, 20, 12)
const videosOf = (body: Json) => (body.data as Json).videos as unknown[]

// ---------------------------------------------------------------------------------------------
// tokens

test('token: the code exchange answer, lifetimes as given, comma-separated scopes, open_id', () => {
  assert.deepEqual(parseTokenResponse(fixture('token-exchange'), 'code exchange'), {
    accessToken: 'act.1f0e2d3c4b5a69788796a5b4c3d2e1f0FixtureAccess0001!6393',
    expiresInSeconds: 7200,
    refreshToken: 'rft.0a1b2c3d4e5f60718293a4b5c6d7e8f9FixtureRefresh0001!6418',
    refreshExpiresInSeconds: 15_552_000,
    openId: '-000fixtureOpenIdAbCdEf0123456789',
    scopes: ['user.info.basic', 'user.info.profile', 'video.list'],
  })
})

test('token: lifetimes are never hard-coded (a refresh counts down, legacy apps get 24 h / 365 d)', () => {
  const refreshed = parseTokenResponse(fixture('token-refresh'), 'token refresh')
  assert.equal(refreshed.refreshExpiresInSeconds, 15_465_600, 'remaining seconds, as sent')
  assert.equal(
    refreshed.refreshToken,
    'rft.5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0cFixtureRefresh0002!6418',
  )
  const legacy = parseTokenResponse(fixture('token-legacy'), 'code exchange')
  assert.equal(legacy.expiresInSeconds, 86_400)
  assert.equal(legacy.refreshExpiresInSeconds, 31_536_000)
  const odd = parseTokenResponse(
    variant('token-exchange', (b) => {
      b.expires_in = 1234
      b.refresh_expires_in = 5678
    }),
    'code exchange',
  )
  assert.equal(odd.expiresInSeconds, 1234)
  assert.equal(odd.refreshExpiresInSeconds, 5678)
})

test('token: scopes split on commas (not spaces), missing scopes detected', () => {
  assert.deepEqual(splitScopes('user.info.basic, video.list,,video.list'), [
    'user.info.basic',
    'video.list',
  ])
  const token = parseTokenResponse(fixture('token-refresh'), 'token refresh')
  assert.deepEqual(token.scopes, ['user.info.basic', 'video.list'])
  assert.deepEqual(
    missingScopes(token.scopes, ['user.info.basic', 'user.info.profile', 'video.list']),
    ['user.info.profile'],
  )
  assert.deepEqual(missingScopes(null, ['video.list']), [], 'omitted scope: as requested')
  const noScope = parseTokenResponse(
    variant('token-exchange', (b) => delete b.scope),
    'code exchange',
  )
  assert.equal(noScope.scopes, null)
})

test('token: malformed answers name the endpoint and the field', () => {
  rejects(() => parseTokenResponse('nope', 'code exchange'), 'code exchange', /not an object/)
  const cases: [string, (b: Json) => void, RegExp][] = [
    ['access_token', (b) => delete b.access_token, /token\.access_token/],
    ['refresh_token', (b) => (b.refresh_token = 42), /token\.refresh_token/],
    ['expires_in', (b) => (b.expires_in = '7200'), /token\.expires_in/],
    ['expires_in 0', (b) => (b.expires_in = 0), /token\.expires_in/],
    ['refresh_expires_in', (b) => delete b.refresh_expires_in, /token\.refresh_expires_in/],
    ['open_id', (b) => delete b.open_id, /token\.open_id/],
    ['scope', (b) => (b.scope = ['video.list']), /token\.scope/],
    ['token_type', (b) => (b.token_type = 'mac'), /token\.token_type/],
  ]
  for (const [name, edit, field] of cases) {
    assert.ok(name)
    rejects(
      () => parseTokenResponse(variant('token-exchange', edit), 'token refresh'),
      'token refresh',
      field,
    )
  }
  // a missing token_type is tolerated
  parseTokenResponse(
    variant('token-exchange', (b) => delete b.token_type),
    'code exchange',
  )
})

test('token: an OAuth error with HTTP 200 is a failure: the body decides', () => {
  const grant = throwsCode(
    () => parseTokenResponse(fixture('token-error-invalid-grant'), 'token refresh', 200),
    'ERR_REAUTH_REQUIRED',
  )
  assert.match(grant.message, /reconnect TikTok/)
  const code = throwsCode(
    () => parseTokenResponse(fixture('token-error-invalid-grant'), 'code exchange'),
    'ERR_REAUTH_REQUIRED',
  )
  assert.match(code.message, /connect TikTok again/)
  const client = throwsCode(
    () => parseTokenResponse(fixture('token-error-invalid-client'), 'code exchange', 200),
    'ERR_PROVIDER_RESPONSE',
  )
  assert.match(client.message, /TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET/)
  assert.match(client.message, /log_id 20261120120001/)
  const pkce = throwsCode(
    () => parseTokenResponse(fixture('token-error-pkce'), 'code exchange', 400),
    'ERR_PROVIDER_RESPONSE',
  )
  assert.match(pkce.message, /invalid_request/)
  assert.match(pkce.message, /Code verifier or code challenge is invalid/)
})

test('revoke: {} is success, an OAuth error in the body is a failure', () => {
  parseRevokeResponse({})
  parseRevokeResponse(undefined)
  throwsCode(
    () => parseRevokeResponse(fixture('token-error-invalid-client'), 200),
    'ERR_PROVIDER_RESPONSE',
  )
  rejects(() => parseRevokeResponse([1]), 'revoke', /not an object/)
})

// ---------------------------------------------------------------------------------------------
// envelope and user.info

test('envelope: data when error.code is ok; any other code is classified, even with HTTP 200', () => {
  assert.ok(envelopeData(fixture('user-info'), 'user.info').user)
  throwsCode(
    () => envelopeData(fixture('error-access-token-invalid'), 'user.info', 200),
    'ERR_REAUTH_REQUIRED',
  )
  throwsCode(() => envelopeData(fixture('error-rate-limit'), 'video.list', 200), 'ERR_RATE_LIMITED')
  rejects(() => envelopeData({ data: {} }, 'user.info'), 'user.info', /error is missing/)
  rejects(
    () => envelopeData({ data: {}, error: { code: '' } }, 'user.info'),
    'user.info',
    /error\.code/,
  )
  rejects(
    () => envelopeData({ error: { code: 'ok', message: '' } }, 'video.list'),
    'video.list',
    /data is missing/,
  )
})

test('user.info: ids, names, the handle, the best avatar, the profile link; stats absent', () => {
  const user = parseUserInfo(fixture('user-info'))
  assert.equal(user.openId, '-000fixtureOpenIdAbCdEf0123456789')
  assert.equal(user.unionId, '-000fixtureUnionIdZyXwVu987654321')
  assert.equal(user.displayName, 'Phoenix Pottery')
  assert.equal(user.username, 'phoenixpottery')
  assert.match(user.avatarUrl ?? '', /c5_720x720/, 'the large avatar first')
  assert.equal(user.profileDeepLink, 'https://vm.tiktok.com/ZMfixture/')
  assert.equal(user.bioDescription, 'Wheel-thrown stoneware.')
  assert.equal(user.isVerified, false)
  assert.equal(user.videoCount, null, 'user.info.stats is not asked for')
  assert.equal(user.followerCount, null)

  const fallback = parseUserInfo(
    variant('user-info', (b) => {
      const u = (b.data as Json).user as Json
      u.avatar_large_url = 'javascript:alert(1)'
      delete u.avatar_url_100
      u.username = '@phoenixpottery'
      u.video_count = 25
      u.follower_count = 7
    }),
  )
  assert.match(fallback.avatarUrl ?? '', /c5_168x168/, 'an unsafe URL is skipped')
  assert.equal(fallback.username, 'phoenixpottery', 'a leading @ is dropped')
  assert.equal(fallback.videoCount, 25)
  assert.equal(fallback.followerCount, 7)

  const http = { extraOrigins: ['http://localhost:8080'] }
  const local = parseUserInfo(
    variant('user-info', (b) => {
      const u = (b.data as Json).user as Json
      u.avatar_large_url = 'http://localhost:8080/sandbox/tiktok/cdn/avatar/x'
    }),
    http,
  )
  assert.equal(local.avatarUrl, 'http://localhost:8080/sandbox/tiktok/cdn/avatar/x')
})

test('user.info: malformed answers name the field', () => {
  rejects(
    () => parseUserInfo(variant('user-info', (b) => delete (b.data as Json).user)),
    'user.info',
    /data\.user/,
  )
  rejects(
    () =>
      parseUserInfo(variant('user-info', (b) => delete ((b.data as Json).user as Json).open_id)),
    'user.info',
    /data\.user\.open_id/,
  )
  rejects(
    () =>
      parseUserInfo(
        variant('user-info', (b) => (((b.data as Json).user as Json).display_name = 3)),
      ),
    'user.info',
    /data\.user\.display_name/,
  )
  rejects(
    () =>
      parseUserInfo(
        variant('user-info', (b) => (((b.data as Json).user as Json).video_count = -1)),
      ),
    'user.info',
    /data\.user\.video_count/,
  )
  rejects(
    () =>
      parseUserInfo(
        variant('user-info', (b) => (((b.data as Json).user as Json).is_verified = 'no')),
      ),
    'user.info',
    /data\.user\.is_verified/,
  )
})

// ---------------------------------------------------------------------------------------------
// videos

test('video.list: videos newest first, the cursor to give back, has_more', () => {
  const page = parseVideoList(fixture('video-list-page1'), NOW)
  assert.equal(page.hasMore, true)
  assert.equal(page.cursor, 1_795_300_000_000)
  assert.equal(page.videos.length, 2)
  const [first] = page.videos
  assert.deepEqual(first, {
    id: '7301234567890123456',
    createdAt: 1_795_600_000_000,
    coverUrl:
      'https://p16-sign.tiktokcdn-us.com/tos-useast5-p-0068-tx/fixture1~tplv-noop.image?x-expires=1795701600&x-signature=Zml4dHVyZS1jb3Zlci0x%3D',
    coverExpiresAt: 1_795_701_600_000,
    shareUrl:
      'https://www.tiktok.com/@phoenixpottery/video/7301234567890123456?utm_campaign=tt4d_open_api&utm_source=fixturekey',
    embedLink: 'https://www.tiktok.com/player/v1/7301234567890123456',
    description: 'Throwing a tall vase #pottery',
    title: 'Throwing a tall vase',
    durationSeconds: 34,
    width: 1080,
    height: 1920,
  })
  assert.equal(page.videos[1]?.description, null, 'an empty description reads as none')

  const last = parseVideoList(fixture('video-list-last'), NOW)
  assert.equal(last.hasMore, false)
  assert.equal(last.cursor, null, 'no next page')
  assert.equal(last.videos[0]?.title, null)
  assert.equal(last.videos[0]?.embedLink, null)

  const empty = parseVideoList(
    { data: { has_more: false, cursor: 0 }, error: { code: 'ok', message: '', log_id: 'x' } },
    NOW,
  )
  assert.deepEqual(empty.videos, [], 'no videos field reads as none')
})

test('video.list: malformed answers name the field', () => {
  const cases: [(b: Json) => void, RegExp][] = [
    [(b) => ((b.data as Json).videos = {}), /data\.videos is not a list/],
    [(b) => delete (b.data as Json).has_more, /data\.has_more/],
    [(b) => ((b.data as Json).cursor = '1795300000000'), /data\.cursor/],
    [(b) => (videosOf(b)[0] = 'x'), /data\.videos\[0\] is not an object/],
    [(b) => delete (videosOf(b)[1] as Json).id, /data\.videos\[1\]\.id/],
    [
      (b) => ((videosOf(b)[0] as Json).id = '12ab'),
      /data\.videos\[0\]\.id is not a TikTok video id/,
    ],
    [(b) => ((videosOf(b)[0] as Json).create_time = 1.5), /data\.videos\[0\]\.create_time/],
    [(b) => ((videosOf(b)[0] as Json).duration = '34'), /data\.videos\[0\]\.duration/],
    [(b) => ((videosOf(b)[0] as Json).title = 7), /data\.videos\[0\]\.title/],
  ]
  for (const [edit, field] of cases)
    rejects(() => parseVideoList(variant('video-list-page1', edit), NOW), 'video.list', field)
})

test('covers: the expiry comes from x-expires; without one, the documented 6 hours', () => {
  assert.equal(
    coverExpiresAt(
      'https://p16-sign.tiktokcdn-us.com/a.image?x-expires=1795701600&x-signature=s',
      NOW,
    ),
    1_795_701_600_000,
  )
  assert.equal(coverExpiresAt('https://p16-sign.tiktokcdn-us.com/a.image', NOW), NOW + COVER_TTL_MS)
  assert.equal(COVER_TTL_MS, 6 * 3_600_000)
  assert.equal(
    coverExpiresAt('https://p16-sign.tiktokcdn-us.com/a.image?x-expires=soon', NOW),
    NOW + COVER_TTL_MS,
  )
  assert.equal(coverExpiresAt(null, NOW), null)
  const unsafe = parseVideoList(
    variant(
      'video-list-page1',
      (b) => ((videosOf(b)[0] as Json).cover_image_url = 'http://evil.example/x.jpg'),
    ),
    NOW,
  )
  assert.equal(unsafe.videos[0]?.coverUrl, null, 'plain http is refused')
  assert.equal(unsafe.videos[0]?.coverExpiresAt, null)
})

test('video.query: the videos returned, and the requested ids that are gone', () => {
  const result = parseVideoQuery(
    fixture('video-query'),
    ['7301234567890123456', '7301234567890120000'],
    NOW,
  )
  assert.equal(result.videos.length, 1)
  assert.equal(result.videos[0]?.coverExpiresAt, 1_795_723_200_000, 'a refreshed cover expiry')
  assert.deepEqual(result.missingIds, ['7301234567890120000'])
  rejects(
    () =>
      parseVideoQuery(
        variant('video-query', (b) => ((b.data as Json).videos = 'x')),
        [],
        NOW,
      ),
    'video.query',
    /data\.videos/,
  )
})

test('request bodies: max_count 1-20, a cursor in ms, 1-20 ids', () => {
  assert.deepEqual(videoListBody(null), { max_count: 20 })
  assert.deepEqual(videoListBody(1_795_300_000_000, 5), { max_count: 5, cursor: 1_795_300_000_000 })
  assert.throws(() => videoListBody(null, 21), RangeError)
  assert.throws(() => videoListBody(null, 0), RangeError)
  assert.throws(() => videoListBody(-1), RangeError)
  const ids = Array.from({ length: 20 }, (_, i) => String(7_300_000_000_000_000_000n + BigInt(i)))
  assert.deepEqual(videoQueryBody(ids).filters.video_ids, ids)
  assert.throws(() => videoQueryBody([...ids, '1']), RangeError)
  assert.throws(() => videoQueryBody([]), RangeError)
})

test('videoToMedia: a public VIDEO whose picture is the cover, expiring with it', () => {
  const [video, bare] = parseVideoList(fixture('video-list-page1'), NOW).videos
  assert.ok(video !== undefined && bare !== undefined)
  assert.deepEqual(videoToMedia(video), {
    platform_media_id: '7301234567890123456',
    media_type: 'VIDEO',
    media_product_type: 'VIDEO',
    media_url: null,
    thumbnail_url: video.coverUrl,
    permalink: video.shareUrl,
    caption: 'Throwing a tall vase #pottery',
    timestamp: 1_795_600_000_000,
    url_expires_at: 1_795_701_600_000,
    duration_seconds: 34,
    visibility: 'public',
    children: [],
  })
  assert.equal(videoToMedia(bare).caption, 'Glaze reveal', 'the title when there is no description')
})

// ---------------------------------------------------------------------------------------------
// failures

function classify(status: number, name: string, endpoint: TiktokEndpoint = 'video.list') {
  return classifyTiktokFailure(status, fixture(name), endpoint)
}

test('classification: access_token_invalid and a bare 401 ask for re-authorization', () => {
  assert.equal(classify(401, 'error-access-token-invalid').code, 'ERR_REAUTH_REQUIRED')
  assert.equal(
    classifyTiktokFailure(401, 'gateway says no', 'user.info').code,
    'ERR_REAUTH_REQUIRED',
  )
})

test('classification: scope_not_authorized names the permission to grant', () => {
  const list = classify(401, 'error-scope-not-authorized', 'video.list')
  assert.equal(list.code, 'ERR_REAUTH_REQUIRED')
  assert.match(list.message, /video\.list/)
  assert.match(list.message, /allow it/)
  const info = classify(401, 'error-scope-not-authorized', 'user.info')
  assert.match(info.message, /user\.info\.profile/)
  const missed = classifyTiktokFailure(
    400,
    { data: {}, error: { code: 'scope_permission_missed', message: '', log_id: 'x' } },
    'video.query',
  )
  assert.equal(missed.code, 'ERR_REAUTH_REQUIRED')
  assert.match(missed.message, /video\.list/)
})

test('classification: rate_limit_exceeded and 429 back off a minute', () => {
  for (const error of [classify(429, 'error-rate-limit'), classify(200, 'error-rate-limit')]) {
    assert.equal(error.code, 'ERR_RATE_LIMITED')
    assert.equal(error.retryAfterSeconds, 60)
  }
  assert.equal(classifyTiktokFailure(429, '', 'token refresh').code, 'ERR_RATE_LIMITED')
})

test('classification: internal_error and 5xx are temporary', () => {
  assert.equal(classify(500, 'error-internal').code, 'ERR_PROVIDER_UNAVAILABLE')
  assert.equal(classify(200, 'error-internal').code, 'ERR_PROVIDER_UNAVAILABLE')
  const gateway = classifyTiktokFailure(503, '<html>Bad gateway</html>', 'user.info')
  assert.equal(gateway.code, 'ERR_PROVIDER_UNAVAILABLE')
  assert.equal(gateway.retryAfterSeconds, 60)
})

test('classification: invalid_grant on a refresh or an exchange asks for a reconnect', () => {
  for (const endpoint of ['token refresh', 'code exchange'] as const) {
    for (const status of [200, 400])
      assert.equal(
        classify(status, 'token-error-invalid-grant', endpoint).code,
        'ERR_REAUTH_REQUIRED',
      )
  }
})

test('classification: anything else is a provider response error, with TikTok’s words made safe', () => {
  const params = classify(400, 'error-invalid-params')
  assert.equal(params.code, 'ERR_PROVIDER_RESPONSE')
  assert.match(params.message, /invalid_params: Invalid fields: nonsense/)
  assert.match(params.message, /log_id 20261120120011/)
  const leaky = classifyTiktokFailure(
    400,
    {
      error: {
        code: 'invalid_params',
        message:
          'bad token act.abcdefghijklmnop0123!6393 at https://x.example/a?token=rft.secret1234567',
        log_id: 'l',
      },
    },
    'video.list',
  )
  assert.doesNotMatch(leaky.message, /act\.abcdef|rft\.secret|token=/)
  assert.equal(classifyTiktokFailure(400, null, 'revoke').message.includes('HTTP 400'), true)
})

test('parseTiktokError reads both shapes', () => {
  assert.deepEqual(parseTiktokError(fixture('token-error-invalid-grant')), {
    code: null,
    oauthError: 'invalid_grant',
    message: 'Refresh token is invalid or expired.',
    logId: '20261120120000A1B2C3D4E5F6A7B8C9D0E1',
  })
  assert.deepEqual(parseTiktokError(fixture('error-rate-limit')), {
    code: 'rate_limit_exceeded',
    oauthError: null,
    message: 'The API rate limit was exceeded. Please try again later.',
    logId: '20261120120009A1B2C3D4E5F6A7B8C9D0EA',
  })
  assert.equal(parseTiktokError('x'), null)
  assert.equal(parseTiktokError({ error: 5 }), null)
})

test('secret shapes: access, refresh and client tokens and codes are scrubbed; ids are not', () => {
  const texts = [
    'act.1f0e2d3c4b5a69788796a5b4c3d2e1f0FixtureAccess0001!6393',
    'rft.dc8946222f5c87a21f681dc7995e3hEuMiySL8qLspsKgovFb6D0NyMly!6418',
    'clt.example12345Example12345Example',
    'wFPH5DePZMb07BPJvpWi-WotFlq1ISzFYQBDb9S9CBUQkGZRGW3zOAbYzhGXkoYkFx-aDeph0hTFk3l6ngGYuoixRvvZBWV1e3Q_BFoBELY*0!6410',
  ]
  for (const secret of texts) {
    const out = safeTiktokText(`before ${secret} after`)
    assert.equal(out, 'before [redacted] after', secret)
    const shapes = TIKTOK_SECRET_SHAPES.map((r) => new RegExp(r.source, r.flags))
    assert.ok(
      shapes.some((r) => r.test(secret)),
      secret,
    )
  }
  for (const re of TIKTOK_SECRET_SHAPES) assert.ok(re.global, 'global, for the logger')
  const safe =
    'open_id -000fixtureOpenIdAbCdEf0123456789 video 7301234567890123456 log 20261120120000A1B2C3D4E5F6A7B8C9D0E1 react.js'
  assert.equal(safeTiktokText(safe), safe)
  // a long run without the code's `*` suffix is scanned quickly
  const started = performance.now()
  safeTiktokText('a'.repeat(200_000))
  assert.ok(performance.now() - started < 500)
})

test('safeTiktokText: tags, query strings and whitespace go; the text is bounded', () => {
  assert.equal(
    safeTiktokText(
      '<b>Cover</b>  https://p16-sign.tiktokcdn-us.com/x.image?x-expires=1&x-signature=s\n ok',
    ),
    'Cover https://p16-sign.tiktokcdn-us.com/x.image ok',
  )
  const long = safeTiktokText('x'.repeat(500))
  assert.equal(long.length, MAX_TIKTOK_TEXT)
  assert.ok(long.endsWith('…'))
})
