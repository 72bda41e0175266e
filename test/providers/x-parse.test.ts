import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { GalleryError } from '../../src/errors.ts'
import {
  MAX_X_TEXT,
  X_CLIENT_NOT_ENROLLED_MESSAGE,
  X_CREDITS_DEPLETED_MESSAGE,
  X_SECRET_SHAPES,
  X_USAGE_CAPPED_MESSAGE,
  bestMp4,
  classifyXFailure,
  missingXScopes,
  parseXError,
  parseXTimeline,
  parseXToken,
  parseXUser,
  readXRateLimit,
  safeXText,
  xBillingFailure,
  xPostToMedia,
  xThrottledBy,
  xUsage,
  xCaption,
  type XEndpoint,
  type XTimelinePage,
} from '../../src/providers/x/parse.ts'

type Json = Record<string, unknown>

function fixture(name: string): Json {
  return JSON.parse(
    readFileSync(new URL(`../fixtures/providers/x/${name}.json`, import.meta.url), 'utf8'),
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

const data = (body: Json) => body.data as Json[]
const NOW = Date.UTC(2026, 4, 10, 12)

// ---------------------------------------------------------------------------------------------
// tokens

test('token: the code exchange answers a bearer token for 2 hours, a refresh token and the scopes', () => {
  const body = fixture('token-code')
  const token = parseXToken(body, 'code exchange')
  assert.deepEqual(token, {
    accessToken: body.access_token,
    expiresInSeconds: 7200,
    refreshToken: body.refresh_token,
    scopes: ['tweet.read', 'users.read', 'offline.access'],
  })
  assert.deepEqual(missingXScopes(token.scopes), [])
})

test('token: a refresh answers a new refresh token (rotation)', () => {
  const first = parseXToken(fixture('token-code'), 'code exchange')
  const next = parseXToken(fixture('token-refresh'), 'token refresh')
  assert.ok(next.refreshToken !== null)
  assert.notEqual(next.refreshToken, first.refreshToken)
})

test('token: without offline.access there is no refresh token, and the missing scope is named', () => {
  const token = parseXToken(fixture('token-no-offline'), 'code exchange')
  assert.equal(token.refreshToken, null)
  assert.deepEqual(missingXScopes(token.scopes), ['offline.access'])
  assert.deepEqual(missingXScopes(['tweet.read']), ['users.read', 'offline.access'])
  assert.deepEqual(missingXScopes(null), [], 'an answer without scope granted what was asked')
})

test('token: malformed answers name the endpoint and the field', () => {
  rejects(() => parseXToken('nope', 'code exchange'), 'code exchange', /not an object/)
  rejects(
    () =>
      parseXToken(
        variant('token-code', (b) => delete b.access_token),
        'code exchange',
      ),
    'code exchange',
    /token\.access_token/,
  )
  rejects(
    () =>
      parseXToken(
        variant('token-code', (b) => (b.token_type = 'mac')),
        'token refresh',
      ),
    'token refresh',
    /token_type/,
  )
  rejects(
    () =>
      parseXToken(
        variant('token-code', (b) => (b.expires_in = '7200')),
        'code exchange',
      ),
    'code exchange',
    /expires_in/,
  )
  rejects(
    () =>
      parseXToken(
        variant('token-code', (b) => (b.expires_in = 0)),
        'code exchange',
      ),
    'code exchange',
    /expires_in/,
  )
  rejects(
    () =>
      parseXToken(
        variant('token-code', (b) => (b.refresh_token = 5)),
        'code exchange',
      ),
    'code exchange',
    /refresh_token/,
  )
  rejects(
    () =>
      parseXToken(
        variant('token-code', (b) => (b.scope = ['tweet.read'])),
        'code exchange',
      ),
    'code exchange',
    /scope/,
  )
  // X writes "bearer"; any case is accepted
  assert.equal(
    parseXToken(
      variant('token-code', (b) => (b.token_type = 'Bearer')),
      'code exchange',
    ).expiresInSeconds,
    7200,
  )
})

// ---------------------------------------------------------------------------------------------
// users/me

test('users/me: id, name, handle, avatar and counts', () => {
  assert.deepEqual(parseXUser(fixture('users-me')), {
    id: '1790000000000000001',
    name: 'Fixture Person',
    username: 'fixture_person',
    avatarUrl: 'https://pbs.twimg.com/profile_images/1790000000000000001/fixture_normal.jpg',
    postCount: 1234,
    followersCount: 321,
  })
  const bare = parseXUser(
    variant('users-me', (b) => {
      const d = b.data as Json
      delete d.public_metrics
      d.profile_image_url = 'javascript:alert(1)'
    }),
  )
  assert.equal(bare.avatarUrl, null, 'only https URLs are kept')
  assert.equal(bare.postCount, null)
})

test('users/me: malformed answers name the field', () => {
  rejects(() => parseXUser({}), 'users/me', /data is missing/)
  rejects(
    () => parseXUser(variant('users-me', (b) => ((b.data as Json).id = 12))),
    'users/me',
    /data\.id/,
  )
  rejects(
    () => parseXUser(variant('users-me', (b) => ((b.data as Json).id = 'abc'))),
    'users/me',
    /not an X id/,
  )
  rejects(
    () => parseXUser(variant('users-me', (b) => ((b.data as Json).username = '../admin'))),
    'users/me',
    /username/,
  )
  rejects(
    () => parseXUser(variant('users-me', (b) => delete (b.data as Json).name)),
    'users/me',
    /data\.name/,
  )
})

// ---------------------------------------------------------------------------------------------
// timeline

test('timeline: posts newest first, media by key, the next token, the newest id, what X billed', () => {
  const page = parseXTimeline(fixture('timeline-page1'))
  assert.deepEqual(
    page.posts.map((p) => p.id),
    [
      '1880000000000000006',
      '1880000000000000005',
      '1880000000000000004',
      '1880000000000000003',
      '1880000000000000002',
    ],
  )
  assert.deepEqual(page.posts[0]?.mediaKeys, ['3_1880000000000000161', '3_1880000000000000162'])
  assert.deepEqual(page.posts[1]?.mediaKeys, [], 'a text-only post has no attachments')
  assert.equal(page.posts[0]?.createdAt, Date.UTC(2026, 4, 6, 10))
  assert.equal(page.media.size, 5)
  const video = page.media.get('7_1880000000000000140')
  assert.equal(video?.type, 'video')
  assert.equal(video?.durationMs, 12_400)
  assert.equal(video?.variants.length, 4)
  assert.equal(page.media.get('3_1880000000000000161')?.altText, 'a lake')
  assert.equal(page.nextToken, '7140dibdnow9c7btw4b')
  assert.equal(page.resultCount, 5)
  assert.equal(page.newestId, '1880000000000000006')
  assert.equal(page.oldestId, '1880000000000000002')
  assert.equal(page.postsRead, 5, 'every post returned is billed, media or not')
  const last = parseXTimeline(fixture('timeline-last'))
  assert.equal(last.nextToken, null)
  assert.equal(last.posts.length, 1)
})

test('timeline: an empty page has no data, and a partial error is kept', () => {
  const empty = parseXTimeline(fixture('timeline-empty'))
  assert.deepEqual(empty.posts, [])
  assert.equal(empty.media.size, 0)
  assert.equal(empty.nextToken, null)
  assert.equal(empty.postsRead, 0)
  const partial = parseXTimeline(
    variant('timeline-last', (b) => {
      b.errors = [
        {
          title: 'Not Found Error',
          detail: 'Could not find tweet with id: [456].',
          type: 'https://api.twitter.com/2/problems/resource-not-found',
        },
      ]
    }),
  )
  assert.equal(partial.partialErrors.length, 1)
  assert.equal(partial.partialErrors[0]?.title, 'Not Found Error')
})

test('timeline: malformed answers name the field; an errors-only answer says why', () => {
  rejects(() => parseXTimeline([]), 'timeline', /not an object/)
  rejects(() => parseXTimeline({ data: [] }), 'timeline', /meta is missing/)
  rejects(() => parseXTimeline(fixture('error-user-not-found')), 'timeline', /Could not find user/)
  rejects(
    () => parseXTimeline(variant('timeline-page1', (b) => ((b.meta as Json).result_count = '5'))),
    'timeline',
    /result_count/,
  )
  rejects(
    () => parseXTimeline(variant('timeline-page1', (b) => (b.data = {}))),
    'timeline',
    /data is not a list/,
  )
  rejects(
    () => parseXTimeline(variant('timeline-page1', (b) => delete (data(b)[2] as Json).created_at)),
    'timeline',
    /data\[2\]\.created_at/,
  )
  rejects(
    () => parseXTimeline(variant('timeline-page1', (b) => ((data(b)[0] as Json).text = null))),
    'timeline',
    /data\[0\]\.text/,
  )
  rejects(
    () => parseXTimeline(variant('timeline-page1', (b) => ((data(b)[0] as Json).id = '1e18'))),
    'timeline',
    /data\[0\]\.id/,
  )
  rejects(
    () =>
      parseXTimeline(
        variant(
          'timeline-page1',
          (b) => ((data(b)[0] as Json).attachments = { media_keys: ['../x'] }),
        ),
      ),
    'timeline',
    /media_keys/,
  )
  rejects(
    () => parseXTimeline(variant('timeline-page1', (b) => ((b.includes as Json).media = 'x'))),
    'timeline',
    /includes\.media/,
  )
  rejects(
    () =>
      parseXTimeline(
        variant(
          'timeline-page1',
          (b) => delete (((b.includes as Json).media as Json[])[0] as Json).media_key,
        ),
      ),
    'timeline',
    /includes\.media\[0\]\.media_key/,
  )
  rejects(
    () => parseXTimeline(variant('timeline-page1', (b) => ((b.meta as Json).next_token = 'a&b=c'))),
    'timeline',
    /next_token/,
  )
  rejects(
    () => parseXTimeline(variant('timeline-page1', (b) => ((b.meta as Json).newest_id = 'x'))),
    'timeline',
    /newest_id/,
  )
})

// ---------------------------------------------------------------------------------------------
// posts as media

function page1(): XTimelinePage {
  return parseXTimeline(fixture('timeline-page1'))
}

test('media: several photos are an album whose children are the photos', () => {
  const page = page1()
  const album = xPostToMedia(page.posts[0]!, page.media, 'fixture_person')
  assert.ok(album !== null)
  assert.equal(album.media_type, 'CAROUSEL_ALBUM')
  assert.equal(album.platform_media_id, '1880000000000000006')
  assert.equal(album.permalink, 'https://x.com/fixture_person/status/1880000000000000006')
  assert.equal(album.caption, 'two photos', 'the attachment’s t.co link is not part of it')
  assert.equal(album.timestamp, Date.UTC(2026, 4, 6, 10))
  assert.equal(album.visibility, 'public')
  assert.equal(album.url_expires_at, null)
  assert.equal(
    album.media_url,
    'https://pbs.twimg.com/media/Fixture161.jpg',
    'the album shows its first photo',
  )
  assert.deepEqual(
    album.children.map((c) => [c.platform_media_id, c.media_type, c.media_url]),
    [
      ['3_1880000000000000161', 'IMAGE', 'https://pbs.twimg.com/media/Fixture161.jpg'],
      ['3_1880000000000000162', 'IMAGE', 'https://pbs.twimg.com/media/Fixture162.jpg'],
    ],
  )
})

test('media: a text-only post is no gallery item', () => {
  const page = page1()
  assert.equal(xPostToMedia(page.posts[1]!, page.media, 'fixture_person'), null)
})

test('media: a video is the MP4 of the highest bit rate, its preview, its duration in seconds', () => {
  const page = page1()
  const video = xPostToMedia(page.posts[2]!, page.media, 'fixture_person')
  assert.ok(video !== null)
  assert.equal(video.media_type, 'VIDEO')
  assert.equal(video.media_product_type, null)
  assert.equal(video.platform_media_id, '1880000000000000004')
  assert.equal(
    video.media_url,
    'https://video.twimg.com/ext_tw_video/1880000000000000140/pu/vid/1280x720/fixture.mp4',
  )
  assert.equal(
    video.thumbnail_url,
    'https://pbs.twimg.com/ext_tw_video_thumb/1880000000000000140/pu/img/fixture.jpg',
  )
  assert.equal(video.duration_seconds, 12)
  assert.deepEqual(video.children, [])
})

test('media: a GIF is a looping MP4 video without duration; a photo is an image', () => {
  const page = page1()
  const gif = xPostToMedia(page.posts[3]!, page.media, 'fixture_person')
  assert.equal(gif?.media_type, 'VIDEO')
  assert.equal(gif?.media_product_type, 'ANIMATED_GIF')
  assert.equal(gif?.media_url, 'https://video.twimg.com/tweet_video/Fixture130.mp4')
  assert.equal(gif?.duration_seconds, null)
  const photo = xPostToMedia(page.posts[4]!, page.media, 'fixture_person')
  assert.equal(photo?.media_type, 'IMAGE')
  assert.equal(photo?.media_url, 'https://pbs.twimg.com/media/Fixture120.jpg')
  assert.equal(photo?.platform_media_id, '1880000000000000002', 'the post id, not the media key')
})

test('media: keys X did not return are skipped; an HLS-only video keeps its still; unsafe URLs are dropped', () => {
  const page = page1()
  const lost = { ...page.posts[4]!, mediaKeys: ['3_999'] }
  assert.equal(xPostToMedia(lost, page.media, 'u'), null)
  const half = { ...page.posts[0]!, mediaKeys: ['3_999', '3_1880000000000000162'] }
  assert.equal(xPostToMedia(half, page.media, 'u')?.media_type, 'IMAGE', 'one photo left: an image')
  const hlsOnly = parseXTimeline(
    variant('timeline-page1', (b) => {
      const media = (b.includes as Json).media as Json[]
      const v = media[2] as Json
      v.variants = [
        (v.variants as Json[])[0],
        { bit_rate: 9_000_000, content_type: 'video/mp4', url: 'http://video.twimg.com/x.mp4' },
      ]
    }),
  )
  const video = xPostToMedia(hlsOnly.posts[2]!, hlsOnly.media, 'u')
  assert.equal(video?.media_url, null, 'the plain-http MP4 is not kept, the playlist is no MP4')
  assert.ok(video?.thumbnail_url?.startsWith('https://pbs.twimg.com/'))
  assert.equal(bestMp4([]), null)
})

// ---------------------------------------------------------------------------------------------
// rate-limit headers

test('rate-limit headers: limit, remaining, reset (Unix seconds) as ms; anything missing or odd is null', () => {
  const headers = new Headers({
    'x-rate-limit-limit': '900',
    'x-rate-limit-remaining': '899',
    'x-rate-limit-reset': '1778414400',
  })
  assert.deepEqual(readXRateLimit(headers), {
    limit: 900,
    remaining: 899,
    resetAt: 1_778_414_400_000,
  })
  assert.equal(readXRateLimit(new Headers({ 'x-rate-limit-limit': '900' })), null)
  assert.equal(
    readXRateLimit(
      new Headers({
        'x-rate-limit-limit': '900',
        'x-rate-limit-remaining': '-1',
        'x-rate-limit-reset': '1',
      }),
    ),
    null,
  )
  assert.equal(
    readXRateLimit(
      new Headers({
        'x-rate-limit-limit': '0',
        'x-rate-limit-remaining': '0',
        'x-rate-limit-reset': '1',
      }),
    ),
    null,
  )
})

test('usage: the share of the window spent, and the minutes until reset once it is spent (at most a day)', () => {
  const at = (remaining: number, resetAt: number) =>
    new Headers({
      'x-rate-limit-limit': '75',
      'x-rate-limit-remaining': String(remaining),
      'x-rate-limit-reset': String(Math.floor(resetAt / 1000)),
    })
  const half = xUsage(at(30, NOW + 600_000), NOW)
  assert.equal(half.businessPercent, 60)
  assert.equal(half.regainMinutes, null)
  assert.equal(half.appPercent, null)
  const spent = xUsage(at(0, NOW + 600_000), NOW)
  assert.equal(spent.businessPercent, 100)
  assert.equal(spent.regainMinutes, 10)
  assert.equal(spent.regainMinutesClampedFrom, null)
  const far = xUsage(at(0, NOW + 3 * 86_400_000), NOW)
  assert.equal(far.regainMinutes, 24 * 60)
  assert.equal(far.regainMinutesClampedFrom, 3 * 24 * 60)
  assert.equal(xUsage(new Headers(), NOW).businessPercent, null)
})

// ---------------------------------------------------------------------------------------------
// failures

function classify(
  status: number,
  name: unknown,
  endpoint: XEndpoint = 'timeline',
  now = NOW,
  rate = null as Parameters<typeof classifyXFailure>[4],
) {
  return classifyXFailure(
    status,
    typeof name === 'string' ? fixture(name) : name,
    endpoint,
    now,
    rate,
  )
}

test('errors: both problem shapes and the OAuth shape are read', () => {
  assert.deepEqual(parseXError(fixture('error-unauthorized')), {
    title: 'Unauthorized',
    detail: 'Unauthorized',
    type: 'about:blank',
    status: 401,
    reason: null,
    oauthError: null,
    errors: [],
  })
  assert.equal(parseXError(fixture('error-client-not-enrolled'))?.reason, 'client-not-enrolled')
  const listed = parseXError(fixture('error-user-not-found'))
  assert.equal(listed?.title, 'Not Found Error')
  assert.match(listed?.detail ?? '', /Could not find user/)
  assert.equal(parseXError(fixture('error-invalid-code'))?.oauthError, 'invalid_request')
  assert.equal(parseXError({ hello: 1 }), null)
  assert.equal(parseXError('<html>'), null)
})

test('401 asks to reconnect (the client refreshes once before it gives up)', () => {
  const error = classify(401, 'error-unauthorized', 'users/me')
  assert.equal(error.code, 'ERR_REAUTH_REQUIRED')
  assert.equal(xThrottledBy(401, fixture('error-unauthorized')), null)
})

test('429 with x-rate-limit-reset waits until then, bounded to a day; without it, 15 minutes', () => {
  const soon = classify(429, 'error-rate-limit', 'timeline', NOW, {
    limit: 900,
    remaining: 0,
    resetAt: NOW + 421_000,
  })
  assert.equal(soon.code, 'ERR_RATE_LIMITED')
  assert.equal(soon.retryAfterSeconds, 421)
  assert.match(soon.message, /timeline/)
  const far = classify(429, 'error-rate-limit', 'timeline', NOW, {
    limit: 900,
    remaining: 0,
    resetAt: NOW + 9 * 86_400_000,
  })
  assert.equal(far.retryAfterSeconds, 86_400)
  assert.equal(classify(429, 'error-rate-limit').retryAfterSeconds, 900)
  assert.equal(
    classify(429, null, 'timeline', NOW, { limit: 1, remaining: 0, resetAt: NOW - 5 })
      .retryAfterSeconds,
    900,
    'a past reset is no reset',
  )
  assert.equal(xThrottledBy(429, fixture('error-rate-limit')), 'account')
})

test('the monthly usage cap pauses every X account until the month ends, at most a day at a time', () => {
  const body = fixture('error-usage-capped')
  assert.equal(xBillingFailure(429, body), 'usage_capped')
  assert.equal(xThrottledBy(429, body), 'app', 'every account of the app waits')
  const late = classify(429, body, 'timeline', Date.UTC(2026, 0, 31, 23), {
    limit: 900,
    remaining: 800,
    resetAt: Date.UTC(2026, 0, 31, 23, 10),
  })
  assert.equal(late.code, 'ERR_RATE_LIMITED')
  assert.equal(
    late.retryAfterSeconds,
    3600,
    'until 1 February, midnight UTC, not the 15-minute reset',
  )
  assert.equal(late.message, X_USAGE_CAPPED_MESSAGE)
  assert.equal(classify(429, body, 'timeline', Date.UTC(2026, 0, 3)).retryAfterSeconds, 86_400)
  // the type alone is enough
  assert.equal(
    xBillingFailure(429, { type: 'https://api.twitter.com/2/problems/usage-capped' }),
    'usage_capped',
  )
})

test('402 credits-depleted pauses every X account with one operator message', () => {
  const body = fixture('error-credits-depleted')
  assert.equal(xBillingFailure(402, body), 'credits_depleted')
  assert.equal(xThrottledBy(402, body), 'app')
  const error = classify(402, body, 'users/me')
  assert.equal(error.code, 'ERR_RATE_LIMITED')
  assert.equal(error.retryAfterSeconds, 86_400)
  assert.equal(error.message, X_CREDITS_DEPLETED_MESSAGE)
  assert.match(error.message, /console\.x\.com/)
  assert.equal(
    xBillingFailure(402, null),
    'credits_depleted',
    'a 402 is a payment problem whatever its body',
  )
})

test('403 client-not-enrolled is a configuration error naming what to fix', () => {
  const error = classify(403, 'error-client-not-enrolled', 'users/me')
  assert.equal(error.code, 'ERR_PROVIDER_RESPONSE')
  assert.equal(error.message, X_CLIENT_NOT_ENROLLED_MESSAGE)
  assert.match(error.message, /Project/)
  assert.match(error.message, /X_CLIENT_ID/)
  assert.equal(xThrottledBy(403, fixture('error-client-not-enrolled')), null)
  const other = classify(403, {
    title: 'Forbidden',
    detail: 'You are not allowed',
    type: 'about:blank',
  })
  assert.equal(other.code, 'ERR_PROVIDER_RESPONSE')
  assert.notEqual(other.message, X_CLIENT_NOT_ENROLLED_MESSAGE)
})

test('5xx is a temporary outage', () => {
  for (const status of [500, 502, 503, 504]) {
    const error = classify(status, 'error-service-unavailable')
    assert.equal(error.code, 'ERR_PROVIDER_UNAVAILABLE', String(status))
    assert.ok((error.retryAfterSeconds ?? 0) > 0)
  }
  assert.equal(classify(503, null).code, 'ERR_PROVIDER_UNAVAILABLE')
})

test('OAuth: a refused code or refresh token asks to connect again; a refused client is configuration', () => {
  const code = classify(400, 'error-invalid-code', 'code exchange')
  assert.equal(code.code, 'ERR_REAUTH_REQUIRED')
  assert.match(code.message, /30 seconds/)
  const refresh = classify(400, 'error-invalid-refresh', 'token refresh')
  assert.equal(refresh.code, 'ERR_REAUTH_REQUIRED')
  assert.equal(
    classify(400, { error: 'invalid_grant' }, 'token refresh').code,
    'ERR_REAUTH_REQUIRED',
  )
  const client = classify(401, 'error-unauthorized-client', 'code exchange')
  assert.equal(client.code, 'ERR_PROVIDER_RESPONSE', 'our own client: nothing to reconnect')
  assert.match(client.message, /X_CLIENT_SECRET/)
  assert.match(client.message, /Missing valid authorization header/)
  // invalid_request elsewhere (revoke) is no reconnect
  assert.equal(classify(400, 'error-invalid-refresh', 'revoke').code, 'ERR_PROVIDER_RESPONSE')
})

test('anything else: X refused, in its own words made safe', () => {
  const error = classify(404, 'error-user-not-found')
  assert.equal(error.code, 'ERR_PROVIDER_RESPONSE')
  assert.match(error.message, /Could not find user with id/)
  const token = fixture('token-code').access_token as string
  const leaky = classify(400, {
    title: 'Bad',
    detail: `token ${token} at https://api.x.com/2/x?access_token=${token}`,
  })
  assert.ok(!leaky.message.includes(token), leaky.message)
  assert.ok(!leaky.message.includes('?'), 'no query string')
  assert.equal(classify(418, null).message, 'X refused the request (timeline): HTTP 418')
})

test('secret shapes: X tokens at every alignment, the emulator tokens; text bounded', () => {
  const tokens = [
    fixture('token-code').access_token,
    fixture('token-code').refresh_token,
    fixture('token-refresh').access_token,
    fixture('token-refresh').refresh_token,
    fixture('token-no-offline').access_token,
    'XAT-eyJhIjoxLCJnIjoiYWJjIn0.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ',
    'XRT-eyJhIjoxLCJnIjoiYWJjIn0.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ',
    'XAC-abcdefghijklmnopqrstuvwxyz0123456789',
  ] as string[]
  for (const t of tokens) {
    const text = safeXText(`before ${t} after`)
    assert.equal(text, 'before [redacted] after', t)
    assert.ok(
      X_SECRET_SHAPES.some((shape) => new RegExp(shape.source).test(t)),
      t,
    )
  }
  for (const shape of X_SECRET_SHAPES) assert.ok(shape.global, 'global, for the logger')
  // ordinary words and ids survive
  assert.equal(
    safeXText('Could not find user with id: [1790000000000000404].'),
    'Could not find user with id: [1790000000000000404].',
  )
  assert.equal(safeXText('<b>bold</b>   text'), 'bold text')
  assert.equal(safeXText('x'.repeat(500)).length, MAX_X_TEXT)
})

test('captions: the trailing t.co link of the attachment goes, X’s HTML escapes are undone once, other links stay', () => {
  assert.equal(xCaption('Sunset at the pier https://t.co/AbC123'), 'Sunset at the pier')
  assert.equal(xCaption('Sunset\n\nhttps://t.co/AbC123  '), 'Sunset')
  assert.equal(
    xCaption('Read https://t.co/link1 then look https://t.co/pic2'),
    'Read https://t.co/link1 then look',
  )
  assert.equal(xCaption('https://t.co/onlypic'), null)
  assert.equal(xCaption(''), null)
  assert.equal(xCaption('Fish &amp; chips &lt;3 &gt;_&lt; &amp;lt;'), 'Fish & chips <3 >_< &lt;')
  assert.equal(xCaption('see http://t.co/x1'), 'see http://t.co/x1', 'only X’s https links')
})
