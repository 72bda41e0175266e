import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { GalleryError } from '../../src/errors.ts'
import {
  bestThumbnail,
  classifyGoogleFailure,
  grantsYoutubeReadonly,
  invalidGrantMessage,
  MAX_GOOGLE_TEXT,
  parseChannels,
  parseCount,
  parseGoogleError,
  parseIsoDuration,
  parsePlaylistItems,
  parseTokenResponse,
  parseVideos,
  productTypeOf,
  safeGoogleText,
  secondsUntilQuotaReset,
  type YoutubeEndpoint,
} from '../../src/providers/youtube/parse.ts'

type Json = Record<string, unknown>

function fixture(name: string): Json {
  return JSON.parse(
    readFileSync(new URL(`../fixtures/providers/youtube/${name}.json`, import.meta.url), 'utf8'),
  ) as Json
}

/** A deep copy of a fixture, changed by `edit`. */
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

const item = (body: Json, i = 0) => (body.items as Json[])[i] as Json

// ---------------------------------------------------------------------------------------------
// tokens

test('token: the consent answer carries a refresh token and the granted scopes', () => {
  const token = parseTokenResponse(fixture('token-consent'), 'code exchange')
  assert.deepEqual(token, {
    accessToken: 'ya29.a0AfB_byC-fixture-access-token-0001',
    expiresInSeconds: 3599,
    refreshToken: '1//0gFixtureRefreshToken-abcdefghijklmnop',
    refreshTokenExpiresInSeconds: null,
    scopes: ['https://www.googleapis.com/auth/youtube.readonly'],
  })
  assert.equal(grantsYoutubeReadonly(token.scopes), true)
})

test('token: a refresh answers no refresh token; time-based access gives its lifetime', () => {
  const refreshed = parseTokenResponse(fixture('token-refresh'), 'token refresh')
  assert.equal(refreshed.refreshToken, null)
  assert.equal(refreshed.expiresInSeconds, 3599)
  const timed = parseTokenResponse(fixture('token-scope-unticked'), 'code exchange')
  assert.equal(timed.refreshTokenExpiresInSeconds, 604_799)
})

test('token: the scope unticked on the granular consent screen is detected', () => {
  const token = parseTokenResponse(fixture('token-scope-unticked'), 'code exchange')
  assert.deepEqual(token.scopes, ['openid', 'https://www.googleapis.com/auth/userinfo.profile'])
  assert.equal(grantsYoutubeReadonly(token.scopes), false)
  assert.equal(grantsYoutubeReadonly([]), false)
  assert.equal(grantsYoutubeReadonly(null), true, 'RFC 6749 §5.1: omitted means as requested')
  const omitted = variant('token-consent', (b) => delete b.scope)
  assert.equal(parseTokenResponse(omitted, 'code exchange').scopes, null)
})

test('token: malformed answers are refused, naming the call and the field', () => {
  rejects(() => parseTokenResponse('nope', 'code exchange'), 'code exchange')
  rejects(() => parseTokenResponse([], 'token refresh'), 'token refresh')
  const cases: [(b: Json) => void, RegExp][] = [
    [(b) => delete b.access_token, /access_token/],
    [(b) => (b.access_token = 42), /access_token/],
    [(b) => (b.access_token = ''), /access_token/],
    [(b) => delete b.expires_in, /expires_in/],
    [(b) => (b.expires_in = '3599'), /expires_in/],
    [(b) => (b.expires_in = 0), /expires_in/],
    [(b) => (b.token_type = 'mac'), /token_type/],
    [(b) => delete b.token_type, /token_type/],
    [(b) => (b.refresh_token = 7), /refresh_token/],
    [(b) => (b.scope = ['https://www.googleapis.com/auth/youtube.readonly']), /scope/],
  ]
  for (const [edit, field] of cases)
    rejects(
      () => parseTokenResponse(variant('token-consent', edit), 'code exchange'),
      'code exchange',
      field,
    )
  // the error never repeats the token
  try {
    parseTokenResponse(
      variant('token-consent', (b) => delete b.expires_in),
      'code exchange',
    )
  } catch (error) {
    assert.ok(!(error as Error).message.includes('ya29.'))
  }
})

// ---------------------------------------------------------------------------------------------
// channels.list

test('channels: id, title, handle without @, best avatar, videoCount from its string, uploads id', () => {
  const lookup = parseChannels(fixture('channels-mine'))
  assert.deepEqual(lookup, {
    kind: 'channel',
    channel: {
      id: 'UCfixtureChannel0000001',
      title: 'Phoenix Pottery Studio',
      handle: 'phoenixpottery',
      avatarUrl: 'https://yt3.ggpht.com/fixture-avatar=s800-c-k',
      videoCount: 37,
      uploadsPlaylistId: 'UUfixtureChannel0000001',
    },
  })
})

test('channels: no channel on this Google account when items is empty or missing', () => {
  assert.deepEqual(parseChannels(fixture('channels-none')), { kind: 'no_channel' })
  assert.deepEqual(parseChannels(variant('channels-mine', (b) => (b.items = []))), {
    kind: 'no_channel',
  })
})

test('channels: optional facts degrade to null, counts as numbers are read the same', () => {
  const lookup = parseChannels(
    variant('channels-mine', (b) => {
      const channel = item(b)
      const snippet = channel.snippet as Json
      delete snippet.customUrl
      snippet.thumbnails = { default: { url: 'http://yt3.ggpht.com/plain-http' } }
      ;(channel.statistics as Json).videoCount = 37
    }),
  )
  assert.equal(lookup.kind, 'channel')
  if (lookup.kind !== 'channel') return
  assert.equal(lookup.channel.handle, null)
  assert.equal(lookup.channel.avatarUrl, null, 'plain http is not stored')
  assert.equal(lookup.channel.videoCount, 37)
  for (const count of ['-1', '3.5', 'many', '99999999999999999', null, true]) {
    const other = parseChannels(
      variant('channels-mine', (b) => ((item(b).statistics as Json).videoCount = count)),
    )
    assert.equal(other.kind === 'channel' ? other.channel.videoCount : 'x', null, String(count))
  }
  const sandbox = parseChannels(
    variant('channels-mine', (b) => {
      ;(item(b).snippet as Json).thumbnails = {
        high: { url: 'http://localhost:8080/sandbox/youtube/cdn/a.jpg' },
      }
    }),
    { extraOrigins: ['http://localhost:8080'] },
  )
  assert.equal(
    sandbox.kind === 'channel' ? sandbox.channel.avatarUrl : null,
    'http://localhost:8080/sandbox/youtube/cdn/a.jpg',
  )
})

test('channels: malformed answers are refused', () => {
  rejects(() => parseChannels(null), 'channels.list')
  rejects(() => parseChannels({ items: {} }), 'channels.list', /items/)
  rejects(() => parseChannels({ items: ['x'] }), 'channels.list', /items\[0\]/)
  const cases: [(b: Json) => void, RegExp][] = [
    [(b) => delete item(b).id, /items\[0\]\.id/],
    [(b) => (item(b).id = 'UC../../evil'), /not a YouTube id/],
    [(b) => delete item(b).snippet, /snippet/],
    [(b) => ((item(b).snippet as Json).title = 5), /title/],
    [(b) => delete item(b).contentDetails, /relatedPlaylists/],
    [(b) => delete ((item(b).contentDetails as Json).relatedPlaylists as Json).uploads, /uploads/],
  ]
  for (const [edit, field] of cases)
    rejects(() => parseChannels(variant('channels-mine', edit)), 'channels.list', field)
})

// ---------------------------------------------------------------------------------------------
// playlistItems.list

test('playlistItems: video ids, publication dates, the next page token', () => {
  const page = parsePlaylistItems(fixture('playlist-items-page1'))
  assert.deepEqual(page, {
    items: [
      { videoId: 'fxVideo0001', publishedAt: Date.parse('2026-11-28T18:00:05Z') },
      { videoId: 'fxShort0002', publishedAt: Date.parse('2026-11-20T07:15:00Z') },
    ],
    nextPageToken: 'EAAaBlBUOkNESQ',
    totalResults: 37,
  })
  const last = parsePlaylistItems(fixture('playlist-items-last'))
  assert.equal(last.nextPageToken, null, 'absent at the end')
  assert.deepEqual(last.items, [{ videoId: 'fxPrivate37', publishedAt: null }])
  const empty = parsePlaylistItems({ kind: 'youtube#playlistItemListResponse', items: [] })
  assert.deepEqual(empty, { items: [], nextPageToken: null, totalResults: null })
  assert.deepEqual(parsePlaylistItems({}).items, [], 'items missing: none')
})

test('playlistItems: malformed answers are refused', () => {
  rejects(() => parsePlaylistItems('x'), 'playlistItems.list')
  const cases: [(b: Json) => void, RegExp][] = [
    [(b) => (b.items = 'x'), /items is not a list/],
    [(b) => ((b.items as unknown[])[1] = 3), /items\[1\]/],
    [(b) => delete item(b, 1).contentDetails, /items\[1\]\.contentDetails/],
    [(b) => delete (item(b).contentDetails as Json).videoId, /videoId/],
    [(b) => ((item(b).contentDetails as Json).videoId = 12345678901), /videoId/],
    [(b) => ((item(b).contentDetails as Json).videoId = 'a/b?c'), /not a YouTube id/],
    [(b) => (b.nextPageToken = 12), /nextPageToken/],
    [(b) => (b.nextPageToken = ''), /nextPageToken/],
  ]
  for (const [edit, field] of cases)
    rejects(
      () => parsePlaylistItems(variant('playlist-items-page1', edit)),
      'playlistItems.list',
      field,
    )
  const odd = parsePlaylistItems(
    variant('playlist-items-page1', (b) => {
      ;(item(b).contentDetails as Json).videoPublishedAt = 'yesterday'
      ;(b.pageInfo as Json).totalResults = '37'
    }),
  )
  assert.equal(odd.items[0]?.publishedAt, null)
  assert.equal(odd.totalResults, 37)
})

// ---------------------------------------------------------------------------------------------
// durations

test('ISO 8601 durations as YouTube writes them', () => {
  const cases: [string, number][] = [
    ['PT1M3S', 63],
    ['P0D', 0],
    ['PT0S', 0],
    ['PT2H', 7200],
    ['PT40S', 40],
    ['PT12M31S', 751],
    ['PT1H0M5S', 3605],
    ['P1DT2H3M4S', 93_784],
    ['P1W', 604_800],
    ['P2W3DT4H', 2 * 604_800 + 3 * 86_400 + 4 * 3600],
    ['PT1.9S', 1],
  ]
  for (const [text, seconds] of cases) assert.equal(parseIsoDuration(text), seconds, text)
  for (const bad of [
    '',
    'P',
    'PT',
    'P1DT',
    'PT1H2',
    '1M3S',
    'PT-1S',
    'P1Y',
    'P1M',
    'PT1S1M',
    'pt1m',
    'PT1,5S',
  ])
    assert.equal(parseIsoDuration(bad), null, bad)
})

test('durations, property-style: any h/m/s written any valid way reads back its seconds', () => {
  // a small deterministic generator (no dependency): the same cases on every run
  let seed = 0x9e3779b9
  const next = (n: number) => {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    return seed % n
  }
  for (let i = 0; i < 2000; i++) {
    const [d, h, m, s] = [next(3), next(30), next(70), next(70)]
    const time = `${h > 0 ? `${h}H` : ''}${m > 0 ? `${m}M` : ''}${s > 0 ? `${s}S` : ''}`
    const text = `P${d > 0 ? `${d}D` : ''}${time === '' ? (d > 0 ? '' : 'T0S') : `T${time}`}`
    const expected = d * 86_400 + h * 3600 + m * 60 + s
    assert.equal(parseIsoDuration(text), expected, text)
    // the same duration spelled with zero parts reads the same
    assert.equal(parseIsoDuration(`P${d}DT${h}H${m}M${s}S`), expected)
    // and a corrupted spelling never reads as a number
    assert.equal(parseIsoDuration(text.replace('P', '')), null)
  }
})

// ---------------------------------------------------------------------------------------------
// videos.list

test('videos: a record per video, the best thumbnail, LIVE for broadcasts, Shorts left unknown', () => {
  const videos = parseVideos(fixture('videos'))
  assert.equal(videos.length, 4)
  const [video, short, replay, upcoming] = videos
  assert.deepEqual(video, {
    id: 'fxVideo0001',
    title: 'Glazing a moon jar',
    description: 'Three coats, one firing.',
    publishedAt: Date.parse('2026-11-28T18:00:05Z'),
    durationSeconds: 751,
    privacyStatus: 'public',
    liveBroadcastContent: 'none',
    hasLiveStreamingDetails: false,
    thumbnail: {
      url: 'https://i.ytimg.com/vi/fxVideo0001/maxresdefault.jpg',
      width: 1280,
      height: 720,
    },
    productType: 'VIDEO',
    isShort: null,
  })
  assert.equal(short?.thumbnail?.url, 'https://i.ytimg.com/vi/fxShort0002/hqdefault.jpg')
  assert.equal(short?.privacyStatus, 'unlisted')
  assert.equal(short?.description, '')
  assert.equal(short?.productType, 'VIDEO', 'a Short is told apart by the HEAD probe, later')
  assert.equal(short?.isShort, null)
  assert.equal(replay?.productType, 'LIVE', 'a past broadcast keeps its liveStreamingDetails')
  assert.equal(replay?.durationSeconds, 7200)
  assert.equal(replay?.thumbnail?.url, 'https://i.ytimg.com/vi/fxLive00003/hqdefault.jpg')
  assert.equal(upcoming?.productType, 'LIVE')
  assert.equal(upcoming?.liveBroadcastContent, 'upcoming')
  assert.equal(upcoming?.durationSeconds, 0)
  assert.equal(upcoming?.privacyStatus, 'private')
  assert.equal(upcoming?.thumbnail?.width, 120)
})

test('videos: the stored product type — LIVE first, then SHORTS by the probe, else VIDEO', () => {
  assert.equal(productTypeOf({ productType: 'LIVE' }, true), 'LIVE')
  assert.equal(productTypeOf({ productType: 'VIDEO' }, true), 'SHORTS')
  assert.equal(productTypeOf({ productType: 'VIDEO' }, false), 'VIDEO')
  assert.equal(productTypeOf({ productType: 'VIDEO' }, null), 'VIDEO')
})

test('thumbnails: maxres → standard → high → medium → default, skipping unusable URLs', () => {
  const all = (fixture('videos').items as Json[])[0]?.snippet as Json
  const thumbs = structuredClone(all.thumbnails) as Json
  const order = ['maxresdefault', 'sddefault', 'hqdefault', 'mqdefault', 'default']
  for (const [i, size] of ['maxres', 'standard', 'high', 'medium', 'default'].entries()) {
    assert.ok(bestThumbnail(thumbs)?.url.endsWith(`/${order[i]}.jpg`), size)
    thumbs[size] = { url: 'javascript:alert(1)' }
  }
  assert.equal(bestThumbnail(thumbs), null)
  assert.equal(bestThumbnail(undefined), null)
  assert.equal(bestThumbnail({ high: { url: 'https://user:pw@i.ytimg.com/x.jpg' } }), null)
})

test('videos: deleted ids are absent; odd optional values degrade safely', () => {
  assert.deepEqual(parseVideos({ kind: 'youtube#videoListResponse', items: [] }), [])
  assert.deepEqual(parseVideos({ kind: 'youtube#videoListResponse' }), [])
  const [odd] = parseVideos(
    variant('videos', (b) => {
      const video = item(b)
      ;(video.status as Json).privacyStatus = 'membersOnly'
      ;(video.snippet as Json).liveBroadcastContent = 'sometimes'
      delete (video.snippet as Json).description
      ;(video.contentDetails as Json).duration = 'PT1Y'
    }),
  )
  assert.equal(odd?.privacyStatus, 'private', 'an unknown privacy is the most restrictive')
  assert.equal(odd?.liveBroadcastContent, 'none')
  assert.equal(odd?.description, '')
  assert.equal(odd?.durationSeconds, null)
  const [noDetails] = parseVideos(variant('videos', (b) => delete item(b).contentDetails))
  assert.equal(noDetails?.durationSeconds, null)
})

test('videos: malformed answers are refused', () => {
  rejects(() => parseVideos(7), 'videos.list')
  const cases: [(b: Json) => void, RegExp][] = [
    [(b) => (b.items = {}), /items is not a list/],
    [(b) => ((b.items as unknown[])[2] = null), /items\[2\]/],
    [(b) => delete item(b).id, /items\[0\]\.id/],
    [(b) => (item(b).id = 'x y'), /not a YouTube id/],
    [(b) => delete item(b).snippet, /snippet is missing/],
    [(b) => ((item(b).snippet as Json).title = null), /title/],
    [(b) => ((item(b).snippet as Json).description = 3), /description/],
    [(b) => delete (item(b).snippet as Json).publishedAt, /publishedAt/],
    [(b) => ((item(b).snippet as Json).publishedAt = 1_700_000_000), /publishedAt/],
    [(b) => delete item(b, 3).status, /items\[3\]\.status/],
    [(b) => delete (item(b).status as Json).privacyStatus, /privacyStatus/],
  ]
  for (const [edit, field] of cases)
    rejects(() => parseVideos(variant('videos', edit)), 'videos.list', field)
})

test('counts: decimal strings as Google sends them, safe integers tolerated, anything else null', () => {
  assert.equal(parseCount('0'), 0)
  assert.equal(parseCount('48213'), 48_213)
  assert.equal(parseCount(12), 12)
  for (const bad of ['', ' 1', '1e3', '0x10', '-1', 1.5, -1, Number.MAX_SAFE_INTEGER + 1, null, {}])
    assert.equal(parseCount(bad), null, JSON.stringify(bad))
})

// ---------------------------------------------------------------------------------------------
// failures

const NOW = Date.parse('2026-12-02T00:30:00Z') // Tuesday 1 December, 16:30 PST

function classify(
  status: number,
  name: string,
  endpoint: YoutubeEndpoint = 'videos.list',
  now = NOW,
) {
  return classifyGoogleFailure(status, fixture(name), endpoint, now)
}

test('errors: both of Google’s shapes are read', () => {
  assert.deepEqual(parseGoogleError(fixture('error-quota')), {
    code: 403,
    message: (fixture('error-quota').error as Json).message as string,
    reasons: ['quotaExceeded'],
    domains: ['youtube.quota'],
    status: null,
    oauthError: null,
  })
  assert.deepEqual(parseGoogleError(fixture('error-invalid-grant')), {
    code: null,
    message: 'Token has been expired or revoked.',
    reasons: [],
    domains: [],
    status: null,
    oauthError: 'invalid_grant',
  })
  assert.equal(parseGoogleError('<html>502</html>'), null)
  assert.equal(parseGoogleError({ error: 5 }), null)
  assert.deepEqual(parseGoogleError({ error: { errors: 'x', code: '403' } })?.reasons, [])
})

test('quotaExceeded: rate limited until the next midnight in Los Angeles, one clear message', () => {
  const error = classify(403, 'error-quota', 'playlistItems.list')
  assert.equal(error.code, 'ERR_RATE_LIMITED')
  // 16:30 PST → midnight PST is 7 h 30 min away
  assert.equal(error.retryAfterSeconds, 7.5 * 3600)
  assert.match(error.message, /daily YouTube quota is used up/)
  assert.match(error.message, /midnight Pacific time/)
  assert.ok(!error.message.includes('<a'), 'no HTML')
  // the domain alone says it too
  const byDomain = classifyGoogleFailure(
    403,
    { error: { code: 403, message: 'x', errors: [{ domain: 'youtube.quota', reason: 'other' }] } },
    'videos.list',
    NOW,
  )
  assert.equal(byDomain.code, 'ERR_RATE_LIMITED')
})

test('quota reset: midnight Pacific across daylight saving (PDT in summer, 23 h and 25 h days)', () => {
  // summer: 23:00 UTC is 16:00 PDT → 8 h to midnight
  assert.equal(secondsUntilQuotaReset(Date.parse('2026-07-01T23:00:00Z')), 8 * 3600)
  // Saturday 7 March 2026, 20:00 PST → Sunday 00:00 PST (spring forward is at 02:00): 4 h
  assert.equal(secondsUntilQuotaReset(Date.parse('2026-03-08T04:00:00Z')), 4 * 3600)
  // Sunday 8 March, 00:30 PST → Monday 00:00 PDT: a 23-hour day, 22 h 30 min left
  assert.equal(secondsUntilQuotaReset(Date.parse('2026-03-08T08:30:00Z')), 22.5 * 3600)
  // Sunday 1 November 2026, 00:30 PDT → Monday 00:00 PST: 24 h 30 min, bounded to the
  // platform back-off's 24 h
  assert.equal(secondsUntilQuotaReset(Date.parse('2026-11-01T07:30:00Z')), 24 * 3600)
  // a second before midnight
  assert.equal(secondsUntilQuotaReset(Date.parse('2026-12-02T07:59:59Z')), 1)
})

test('rateLimitExceeded / userRateLimitExceeded / 429: a short back-off', () => {
  const user = classify(403, 'error-rate-limit')
  assert.equal(user.code, 'ERR_RATE_LIMITED')
  assert.equal(user.retryAfterSeconds, 60)
  const app = classifyGoogleFailure(
    403,
    {
      error: {
        code: 403,
        message: 'Rate Limit Exceeded',
        errors: [{ reason: 'rateLimitExceeded', domain: 'usageLimits' }],
      },
    },
    'channels.list',
    NOW,
  )
  assert.equal(app.code, 'ERR_RATE_LIMITED')
  assert.equal(classifyGoogleFailure(429, {}, 'videos.list', NOW).code, 'ERR_RATE_LIMITED')
})

test('backendError and 5xx: the provider is unavailable for a moment', () => {
  const backend = classify(503, 'error-backend')
  assert.equal(backend.code, 'ERR_PROVIDER_UNAVAILABLE')
  assert.equal(backend.retryAfterSeconds, 60)
  assert.match(backend.message, /videos\.list/)
  assert.equal(
    classifyGoogleFailure(502, '<html>Bad Gateway</html>', 'videos.list', NOW).code,
    'ERR_PROVIDER_UNAVAILABLE',
  )
  assert.equal(
    classifyGoogleFailure(
      400,
      { error: { code: 400, errors: [{ reason: 'backendError' }] } },
      'videos.list',
      NOW,
    ).code,
    'ERR_PROVIDER_UNAVAILABLE',
  )
})

test('401 authError, invalid_grant and a missing permission: reconnect, in plain words', () => {
  const auth = classify(401, 'error-auth', 'channels.list')
  assert.equal(auth.code, 'ERR_REAUTH_REQUIRED')
  assert.match(auth.message, /reconnect the channel/)
  assert.ok(!auth.message.includes('http'), 'Google’s text with its link is not repeated')
  const grant = classify(400, 'error-invalid-grant', 'token refresh')
  assert.equal(grant.code, 'ERR_REAUTH_REQUIRED')
  assert.match(grant.message, /revoked or has expired/)
  const permission = classifyGoogleFailure(
    403,
    {
      error: {
        code: 403,
        message: 'Insufficient Permission',
        errors: [{ reason: 'insufficientPermissions' }],
      },
    },
    'channels.list',
    NOW,
  )
  assert.equal(permission.code, 'ERR_REAUTH_REQUIRED')
  assert.match(permission.message, /not granted/)
})

test('invalid_grant about 7 days after connecting points at a Google project in Testing', () => {
  const connectedAt = Date.parse('2026-11-25T00:00:00Z')
  const day = 86_400_000
  for (const age of [7 * day, 7 * day + 3_600_000, 6.5 * day, 8.9 * day]) {
    const message = invalidGrantMessage(connectedAt, connectedAt + age)
    assert.match(message, /"Testing"/, String(age / day))
    assert.match(message, /In production/)
  }
  for (const age of [day, 6 * day, 9 * day, 60 * day]) {
    const message = invalidGrantMessage(connectedAt, connectedAt + age)
    assert.doesNotMatch(message, /Testing/, String(age / day))
    assert.match(message, /reconnect the channel/)
  }
})

test('anything else: ERR_PROVIDER_RESPONSE with Google’s message, bounded, without markup', () => {
  const notFound = classify(404, 'error-video-not-found', 'playlistItems.list')
  assert.equal(notFound.code, 'ERR_PROVIDER_RESPONSE')
  assert.match(
    notFound.message,
    /^YouTube refused the request \(playlistItems\.list\): The playlist identified/,
  )
  assert.ok(!notFound.message.includes('<code>'))
  const signup = classifyGoogleFailure(
    403,
    { error: { code: 403, errors: [{ reason: 'youtubeSignupRequired' }] } },
    'channels.list',
    NOW,
  )
  assert.match(signup.message, /no YouTube channel/)
  const client = classifyGoogleFailure(
    401,
    { error: 'invalid_client', error_description: 'The OAuth client was not found.' },
    'code exchange',
    NOW,
  )
  assert.equal(client.code, 'ERR_PROVIDER_RESPONSE', 'the app’s credentials: nothing to reconnect')
  assert.match(client.message, /YOUTUBE_CLIENT_ID and YOUTUBE_CLIENT_SECRET/)
  const request = classifyGoogleFailure(
    400,
    { error: 'invalid_request', error_description: 'Missing code verifier.' },
    'code exchange',
    NOW,
  )
  assert.equal(request.code, 'ERR_PROVIDER_RESPONSE')
  assert.equal(
    request.message,
    'Google refused the request (code exchange): invalid_request (Missing code verifier.)',
  )
  const long = classifyGoogleFailure(
    400,
    { error: { message: 'x'.repeat(5000) } },
    'videos.list',
    NOW,
  )
  assert.ok(long.message.length < MAX_GOOGLE_TEXT + 60)
  assert.equal(
    classifyGoogleFailure(418, null, 'videos.list', NOW).message,
    'YouTube refused the request (videos.list): HTTP 418',
  )
})

test('messages never carry a token or a URL with a query string', () => {
  const text = safeGoogleText(
    'Bad token ya29.a0AfB_secret-stuff for 1//0gRefreshTokenValue123 and code 4/0AeanSecretCode123 at https://www.googleapis.com/youtube/v3/videos?id=x&access_token=ya29.zzz#frag ok',
  )
  assert.ok(!text.includes('ya29'), text)
  assert.ok(!text.includes('1//0g'), text)
  assert.ok(!text.includes('4/0Aean'), text)
  assert.ok(!text.includes('?'), text)
  assert.ok(text.includes('https://www.googleapis.com/youtube/v3/videos'), text)
  const error = classifyGoogleFailure(
    400,
    {
      error: {
        code: 400,
        message: 'Invalid value ya29.abcdefghijk at https://x.example/p?access_token=1',
        errors: [{ reason: 'invalidParameter' }],
      },
    },
    'videos.list',
    NOW,
  )
  assert.ok(!error.message.includes('ya29') && !error.message.includes('?'), error.message)
})
