import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  parseCodeExchange,
  parseErrorBody,
  parseGraphTimestamp,
  parseJsonKeepingIds,
  parseLongLivedToken,
  parseCdnExpiry,
  parseMediaPage,
  parseProfile,
  parseUsageHeaders,
  platformUrl,
} from '../../src/providers/instagram/parse.ts'
import { classifyFailure, createInstagramClient } from '../../src/providers/instagram/client.ts'
import { loadConfig } from '../../src/config/load-config.ts'
import {
  MAX_PLATFORM_BACKOFF_MINUTES,
  MAX_PLATFORM_BACKOFF_MS,
  clampPlatformBackoffMs,
} from '../../src/socials/platform-backoff.ts'

test('user ids above 2^53 are kept exactly, in both token answer shapes', () => {
  const flat = parseCodeExchange(
    parseJsonKeepingIds(
      '{"access_token":"IGAAx","user_id":27281358591558845,"permissions":["instagram_business_basic"]}',
    ),
  )
  assert.equal(flat.userId, '27281358591558845')
  assert.deepEqual(flat.permissions, ['instagram_business_basic'])
  const wrapped = parseCodeExchange(
    parseJsonKeepingIds('{"data":[{"access_token":"IGAAx","user_id":"1020","permissions":"a,b"}]}'),
  )
  assert.equal(wrapped.userId, '1020')
  assert.deepEqual(wrapped.permissions, ['a', 'b'])
  const noPermissions = parseCodeExchange(
    parseJsonKeepingIds('{"access_token":"IGAAx","user_id":1}'),
  )
  assert.deepEqual(noPermissions.permissions, [])
  // a number inside a string is left alone
  assert.deepEqual(parseJsonKeepingIds('{"caption":"\\"id\\": 12345678901234567890"}'), {
    caption: '"id": 12345678901234567890',
  })
})

test('malformed answers name what is missing', () => {
  assert.throws(() => parseCodeExchange({ user_id: '1' }), /access_token is missing/)
  assert.throws(() => parseCodeExchange({ access_token: 'x' }), /user_id is missing/)
  assert.throws(() => parseCodeExchange([]), /not an object/)
  assert.throws(() => parseLongLivedToken({ access_token: 'x' }), /expires_in/)
  assert.throws(() => parseProfile({ id: '1' }), /username/)
  assert.throws(
    () =>
      parseMediaPage({
        data: [{ id: '1', media_type: 'HOLOGRAM', timestamp: '2024-01-01T00:00:00+0000' }],
      }),
    /media_type/,
  )
  assert.throws(() => parseMediaPage({ data: [{ id: '1', media_type: 'IMAGE' }] }), /timestamp/)
  assert.throws(() => parseMediaPage({}), /no data array/)
  assert.throws(() => parseJsonKeepingIds('<html>'), /not JSON/)
})

test('profile: flat or wrapped; account type upper-cased', () => {
  const p = parseProfile({
    data: [
      { id: '27', user_id: '1784', username: 'shop', account_type: 'Business', media_count: 3 },
    ],
  })
  assert.deepEqual(p, {
    id: '27',
    userId: '1784',
    username: 'shop',
    accountType: 'BUSINESS',
    profilePictureUrl: null,
    mediaCount: 3,
  })
})

test('media page: children inherit the album timestamp when they lack one; next URL kept', () => {
  const page = parseMediaPage({
    data: [
      {
        id: '1',
        media_type: 'CAROUSEL_ALBUM',
        timestamp: '2023-10-20T17:40:47+0000',
        caption: 'hi',
        children: { data: [{ id: '2', media_type: 'IMAGE', media_url: 'https://x/2.jpg' }] },
      },
    ],
    paging: { next: 'https://graph.instagram.com/v24.0/1/media?after=abc' },
  })
  assert.equal(page.items[0]?.timestamp, Date.UTC(2023, 9, 20, 17, 40, 47))
  assert.equal(page.items[0]?.children[0]?.timestamp, Date.UTC(2023, 9, 20, 17, 40, 47))
  assert.equal(page.next, 'https://graph.instagram.com/v24.0/1/media?after=abc')
  assert.equal(page.after, null, 'no cursors block')
  assert.equal(parseGraphTimestamp('nonsense'), null)
})

test('media page: the after cursor and the CDN expiry (oe, hex seconds) of each item', () => {
  const page = parseMediaPage({
    data: [
      {
        id: '1',
        media_type: 'VIDEO',
        timestamp: '2023-10-20T17:40:47+0000',
        media_url: 'https://video.cdninstagram.com/v/x.mp4?oh=00_A&oe=653E0E80',
        thumbnail_url: 'https://scontent.cdninstagram.com/v/x.jpg?oe=653D0000&oh=00_B',
      },
    ],
    paging: { cursors: { before: 'QVFI', after: 'QVFIUmx' } },
  })
  assert.equal(page.after, 'QVFIUmx')
  assert.equal(page.next, null)
  // the earliest of the two URLs
  assert.equal(page.items[0]?.url_expires_at, 0x653d0000 * 1000)
  assert.equal(parseCdnExpiry('https://x/y.jpg?oe=653E0E80'), Date.UTC(2023, 9, 29, 7, 49, 20))
  for (const url of [
    null,
    'https://x/y.jpg',
    'https://x/y.jpg?oe=zz',
    'not a url',
    'https://x/?oe=',
  ])
    assert.equal(parseCdnExpiry(url), null, String(url))
})

test('error bodies and usage headers', () => {
  assert.deepEqual(parseErrorBody({ error: { message: 'm', code: 190, error_subcode: 463 } }), {
    code: 190,
    subcode: 463,
    message: 'm',
    isTransient: false,
  })
  assert.deepEqual(
    parseErrorBody({
      error_type: 'OAuthException',
      code: 400,
      error_message: 'Matching code was not found or was already used',
    }),
    {
      code: 400,
      subcode: null,
      message: 'Matching code was not found or was already used',
      isTransient: false,
    },
  )
  assert.equal(parseErrorBody('nope'), null)
  const usage = parseUsageHeaders(
    '{"call_count":28,"total_cputime":15,"total_time":20}',
    '{"1784":[{"type":"instagram","call_count":95,"total_cputime":20,"total_time":20,"estimated_time_to_regain_access":19}]}',
  )
  assert.deepEqual(usage, {
    appPercent: 28,
    businessPercent: 95,
    regainMinutes: 19,
    regainMinutesClampedFrom: null,
  })
  assert.deepEqual(parseUsageHeaders('not json', '[]'), {
    appPercent: null,
    businessPercent: null,
    regainMinutes: null,
    regainMinutesClampedFrom: null,
  })
})

test('the back-off bound: 24 hours, whatever a platform asks for (F4)', () => {
  assert.equal(MAX_PLATFORM_BACKOFF_MS, 24 * 3_600_000)
  assert.equal(MAX_PLATFORM_BACKOFF_MINUTES, 1440)
  assert.deepEqual(clampPlatformBackoffMs(15 * 60_000), { ms: 15 * 60_000, clamped: false })
  assert.deepEqual(clampPlatformBackoffMs(MAX_PLATFORM_BACKOFF_MS), {
    ms: MAX_PLATFORM_BACKOFF_MS,
    clamped: false,
  })
  for (const huge of [MAX_PLATFORM_BACKOFF_MS + 1, 500_000_000 * 60_000, Infinity, NaN])
    assert.deepEqual(clampPlatformBackoffMs(huge), { ms: MAX_PLATFORM_BACKOFF_MS, clamped: true })
  assert.deepEqual(clampPlatformBackoffMs(-5), { ms: 0, clamped: false })
})

test("Meta's regain time is clamped to 24 h; the value asked for is kept for the log (F4)", () => {
  const buc = (regain: string) =>
    `{"1784":[{"type":"instagram","call_count":100,"estimated_time_to_regain_access":${regain}},{"type":"instagram","call_count":1,"estimated_time_to_regain_access":30}]}`
  assert.deepEqual(parseUsageHeaders(null, buc('500000000')), {
    appPercent: null,
    businessPercent: 100,
    regainMinutes: 1440,
    regainMinutesClampedFrom: 500_000_000,
  })
  assert.equal(parseUsageHeaders(null, buc('1e999')).regainMinutes, 1440, 'Infinity too')
  assert.deepEqual(
    [
      parseUsageHeaders(null, buc('1440')).regainMinutes,
      parseUsageHeaders(null, buc('1440')).regainMinutesClampedFrom,
    ],
    [1440, null],
    'exactly the bound is not a clamp',
  )
  // and the error a throttled call becomes: its retry time too, whoever built the usage report
  const usage = { appPercent: null, businessPercent: null, regainMinutesClampedFrom: null }
  const error = classifyFailure(
    400,
    { error: { code: 4, message: 'x' } },
    { ...usage, regainMinutes: 500_000_000 },
    'media',
  )
  assert.equal(error.retryAfterSeconds, 86_400)
  assert.match(error.message, /about 1440 minutes/)
})

test('stored URLs: absolute https only, or an origin the policy adds (F10)', () => {
  for (const bad of [
    'javascript:alert(1)',
    'JavaScript:alert(document.cookie)',
    'data:text/html,<script>alert(1)</script>',
    'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=',
    'http://evil.example/x.jpg',
    '//evil.example/x.jpg',
    '/relative/x.jpg',
    'garbage',
    'https://',
    'https://instagram.com@evil.example/',
    'ftp://x.example/a',
    'vbscript:msgbox(1)',
    '',
    42,
    null,
    { href: 'https://x.example' },
  ])
    assert.equal(platformUrl(bad), null, JSON.stringify(bad))
  assert.equal(platformUrl('https://www.instagram.com/p/abc/'), 'https://www.instagram.com/p/abc/')
  assert.equal(
    platformUrl('https://scontent.cdninstagram.com/v/x.jpg?oe=653D0000&oh=00_B'),
    'https://scontent.cdninstagram.com/v/x.jpg?oe=653D0000&oh=00_B',
  )
  const sandbox = { extraOrigins: ['http://localhost:8080'] }
  const cdn = 'http://localhost:8080/sandbox/instagram/cdn/v/1.svg?oe=6A&oh=x'
  assert.equal(platformUrl(cdn), null, 'plain http is refused by default')
  assert.equal(platformUrl(cdn, sandbox), cdn, 'the sandbox origin is kept')
  assert.equal(
    platformUrl('http://localhost:8081/x', sandbox),
    null,
    'another port is another origin',
  )
  assert.equal(platformUrl('http://evil.example/x', sandbox), null)
  assert.equal(platformUrl('javascript:alert(1)', sandbox), null)
})

test('a media item whose URLs are refused keeps its row with null URLs; the profile picture too (F10)', () => {
  const page = parseMediaPage({
    data: [
      {
        id: '1',
        media_type: 'IMAGE',
        timestamp: '2023-10-20T17:40:47+0000',
        media_url: 'data:image/svg+xml,<svg onload=alert(1)>',
        permalink: 'javascript:alert(1)',
      },
      {
        id: '2',
        media_type: 'VIDEO',
        timestamp: '2023-10-20T17:40:46+0000',
        media_url: 'http://evil.example/v.mp4?oe=653E0E80',
        thumbnail_url: 'https://scontent.cdninstagram.com/t.jpg?oe=653D0000',
        permalink: '//evil.example/p/',
      },
      {
        id: '3',
        media_type: 'CAROUSEL_ALBUM',
        timestamp: '2023-10-20T17:40:45+0000',
        permalink: 'https://www.instagram.com/p/three/',
        children: {
          data: [{ id: '4', media_type: 'IMAGE', media_url: 'javascript:void(0)' }],
        },
      },
    ],
  })
  const [one, two, three] = page.items
  assert.deepEqual(
    [one?.media_url, one?.thumbnail_url, one?.permalink, one?.url_expires_at],
    [null, null, null, null],
  )
  assert.deepEqual(
    [two?.media_url, two?.thumbnail_url, two?.permalink],
    [null, 'https://scontent.cdninstagram.com/t.jpg?oe=653D0000', null],
  )
  assert.equal(two?.url_expires_at, 0x653d0000 * 1000, 'only the kept URL counts for expiry')
  assert.equal(three?.permalink, 'https://www.instagram.com/p/three/')
  assert.equal(three?.children[0]?.media_url, null)
  assert.equal(
    parseProfile({ id: '1', username: 'x', profile_picture_url: 'javascript:alert(1)' })
      .profilePictureUrl,
    null,
  )
  assert.equal(
    parseProfile({ id: '1', username: 'x', profile_picture_url: 'https://cdn.example/p.jpg' })
      .profilePictureUrl,
    'https://cdn.example/p.jpg',
  )
})

test('the client keeps URLs from its configured Graph origin (the sandbox) and https, nothing else', async () => {
  const config = {
    ...loadConfig({ NODE_ENV: 'test', INSTAGRAM_CLIENT_ID: 'id', INSTAGRAM_CLIENT_SECRET: 's' })
      .providers.instagram.settings,
    graphUrl: 'http://localhost:8080/sandbox/instagram/graph',
  }
  const item = (id: string, url: string) => ({
    id,
    media_type: 'IMAGE',
    timestamp: '2024-01-01T00:00:00+0000',
    media_url: url,
    permalink: url,
  })
  const client = createInstagramClient({
    config,
    now: () => Date.now(),
    fetch: () =>
      Promise.resolve(
        new Response(
          JSON.stringify({
            data: [
              item('1', 'http://localhost:8080/sandbox/instagram/cdn/v/1.svg'),
              item('2', 'https://www.instagram.com/p/two/'),
              item('3', 'http://evil.example/3.jpg'),
              item('4', 'javascript:alert(1)'),
            ],
          }),
        ),
      ),
  })
  const page = await client.fetchFirstMediaPage('IGAAx')
  assert.deepEqual(
    page.items.map((i) => i.media_url),
    [
      'http://localhost:8080/sandbox/instagram/cdn/v/1.svg',
      'https://www.instagram.com/p/two/',
      null,
      null,
    ],
  )
})

test('failures are classified: 190 reconnect, throttling codes, 5xx transient, others refused', () => {
  const none = {
    appPercent: null,
    businessPercent: null,
    regainMinutes: null,
    regainMinutesClampedFrom: null,
  }
  assert.equal(
    classifyFailure(400, { error: { code: 190, message: 'x' } }, none, 'media').code,
    'ERR_REAUTH_REQUIRED',
  )
  for (const code of [4, 17, 32, 613, 80002]) {
    const error = classifyFailure(
      400,
      { error: { code, message: 'x' } },
      { ...none, regainMinutes: 3 },
      'media',
    )
    assert.equal(error.code, 'ERR_RATE_LIMITED')
    assert.equal(error.retryAfterSeconds, 180)
  }
  assert.equal(classifyFailure(502, null, none, 'media').code, 'ERR_PROVIDER_UNAVAILABLE')
  assert.equal(
    classifyFailure(400, { error: { code: 2, is_transient: true, message: 'x' } }, none, 'media')
      .code,
    'ERR_PROVIDER_UNAVAILABLE',
  )
  assert.equal(
    classifyFailure(400, { error: { code: 100, message: 'Unsupported request' } }, none, 'media')
      .code,
    'ERR_PROVIDER_RESPONSE',
  )
})

test('the client never follows paging.next to another host (it carries the token)', async () => {
  const config = loadConfig({
    NODE_ENV: 'test',
    INSTAGRAM_CLIENT_ID: 'id',
    INSTAGRAM_CLIENT_SECRET: 'secret',
  }).providers.instagram.settings
  let called = false
  const client = createInstagramClient({
    config,
    now: () => Date.now(),
    fetch: () => {
      called = true
      return Promise.resolve(new Response('{}'))
    },
  })
  await assert.rejects(
    client.fetchMediaPage('https://evil.example/v24.0/1/media?access_token=IGAAx'),
    /another host/,
  )
  await assert.rejects(
    client.fetchMediaPage('https://graph.instagram.com.evil.example/x'),
    /another host/,
  )
  assert.equal(called, false)
})

test('the authorization URL targets Instagram Login with the configured redirect and scopes', () => {
  const config = loadConfig({
    NODE_ENV: 'test',
    INSTAGRAM_CLIENT_ID: 'id',
    INSTAGRAM_CLIENT_SECRET: 'secret',
    PUBLIC_URL: 'https://gallery.example',
  }).providers.instagram.settings
  const url = new URL(
    createInstagramClient({
      config,
      now: () => Date.now(),
      fetch: () => Promise.reject(new Error('no')),
    }).authorizationUrl('st'),
  )
  assert.equal(url.origin + url.pathname, 'https://www.instagram.com/oauth/authorize')
  assert.equal(
    url.searchParams.get('redirect_uri'),
    'https://gallery.example/api/socials/oauth/instagram/callback',
  )
  assert.equal(url.searchParams.get('scope'), 'instagram_business_basic')
  assert.equal(url.searchParams.get('state'), 'st')
})

test('network failures become a transient error with no URL in the message', async () => {
  const config = loadConfig({
    NODE_ENV: 'test',
    INSTAGRAM_CLIENT_ID: 'id',
    INSTAGRAM_CLIENT_SECRET: 'secret',
  }).providers.instagram.settings
  const client = createInstagramClient({
    config,
    now: () => Date.now(),
    fetch: () =>
      Promise.reject(
        new TypeError('fetch failed for https://graph.instagram.com/me?access_token=IGAAsecret'),
      ),
  })
  await assert.rejects(client.fetchProfile('IGAAsecret'), (error: Error) => {
    assert.equal((error as Error & { code: string }).code, 'ERR_PROVIDER_UNAVAILABLE')
    assert.doesNotMatch(error.message, /IGAA|http/)
    return true
  })
})
