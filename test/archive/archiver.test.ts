/**
 * The media archive through the whole app (SQLite here, PostgreSQL in the storage run): synced
 * media are archived by the job runner in every size and format, the media API names them, our
 * origin serves them (immutable, ETag, Range), downloads reach only the platform's media servers,
 * failures say why and retry, and a disconnect leaves no blob behind.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import sharp from 'sharp'
import {
  Browser,
  allMedia,
  buildTestApp,
  connectAccount,
  connectOn,
  testClockStart,
  writeRaw,
  type TestApp,
} from '../helpers/build-app.ts'
import type { MediaJson } from '../../src/http/presenters.ts'
import { allowedBy, download, DownloadError } from '../../src/archive/download.ts'
import type { JobsReport } from '../../src/socials/job-runner.ts'

const HOUR = 3_600_000

/** Job passes until the archive has nothing left to do (bounded). */
async function archiveAll(app: TestApp): Promise<JobsReport[]> {
  const reports: JobsReport[] = []
  for (let i = 0; i < 30; i++) {
    const report = await app.app.jobs.runner.runDue()
    reports.push(report)
    const a = report.archive
    assert.ok(a !== undefined, 'the runner archives')
    if (a.queued === 0 && a.stored === 0 && a.retried === 0 && a.failed === 0) break
  }
  return reports
}

async function blobKeys(app: TestApp): Promise<string[]> {
  const keys: string[] = []
  assert.ok(app.blobs !== null)
  for await (const entry of app.blobs.list('')) keys.push(entry.key)
  return keys.sort()
}

test('synced media are archived in every size; the API names them and our origin serves them, immutable', async (t) => {
  const app = await buildTestApp(t, {}, { blobs: 'local', clockStart: testClockStart() })
  const browser = new Browser(app)
  await browser.register()
  const id = await connectAccount(app, browser)
  assert.equal((await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)).statusCode, 200)
  const before = await allMedia<MediaJson>(browser)
  assert.ok(before.length > 0)
  assert.ok(
    before.every((m) => m.archive.state === 'pending'),
    'not archived yet: pending',
  )

  const reports = await archiveAll(app)
  const stored = reports.reduce((n, r) => n + (r.archive?.stored ?? 0), 0)
  const items = await allMedia<MediaJson>(browser)
  const all = items.flatMap((m) => [m, ...m.children])
  assert.equal(stored, all.length, 'every item and album child once')
  for (const item of all) {
    assert.equal(item.archive.state, 'stored', JSON.stringify(item.archive))
    assert.match(item.archive.placeholder ?? '', /^[A-Za-z0-9+/]+=*$/)
    assert.match(item.archive.color ?? '', /^#[0-9a-f]{6}$/)
    const formats = new Set(item.archive.sizes.map((s) => s.format))
    assert.deepEqual([...formats].sort(), ['avif', 'jpeg', 'webp'])
    const widths = item.archive.sizes.map((s) => s.width)
    assert.ok(Math.max(...widths) <= (item.archive.width ?? 0), 'never upscaled')
  }

  const [first] = items
  const avif = first?.archive.sizes.find((s) => s.format === 'avif' && s.width === 96)
  assert.ok(avif !== undefined, JSON.stringify(first?.archive))
  const served = await app.app.inject({ method: 'GET', url: avif.url })
  assert.equal(served.statusCode, 200)
  assert.equal(served.headers['content-type'], 'image/avif')
  assert.equal(served.headers['cache-control'], 'public, max-age=31536000, immutable')
  assert.equal(served.headers['x-content-type-options'], 'nosniff')
  const etag = String(served.headers.etag)
  assert.match(etag, /^"[0-9a-f]{64}-96\.avif"$/)
  const meta = await sharp(served.rawPayload).metadata()
  assert.equal(meta.width, 96)
  assert.equal(meta.exif, undefined, 'no metadata')
  const again = await app.app.inject({
    method: 'GET',
    url: avif.url,
    headers: { 'if-none-match': etag },
  })
  assert.equal(again.statusCode, 304)
  const head = await app.app.inject({ method: 'HEAD', url: avif.url })
  assert.equal(head.statusCode, 200)
  assert.equal(head.headers['content-length'], String(served.rawPayload.length))
  // the original, and a range of it
  const original = first?.archive.original_url ?? ''
  const range = await app.app.inject({
    method: 'GET',
    url: original,
    headers: { range: 'bytes=0-9' },
  })
  assert.equal(range.statusCode, 206)
  assert.equal(range.rawPayload.length, 10)
  assert.match(String(range.headers['content-range']), /^bytes 0-9\/\d+$/)
  const past = await app.app.inject({
    method: 'GET',
    url: original,
    headers: { range: 'bytes=999999999-' },
  })
  assert.equal(past.statusCode, 416)
  // unknown hashes, odd files: 404 in the envelope
  for (const url of [
    `/media/${'0'.repeat(64)}`,
    `/media/${'0'.repeat(64)}/320.avif`,
    `${original}/321.gif`,
    `${original}/../../etc/passwd`,
    '/media/NOTAHASH',
  ]) {
    const answer = await app.app.inject({ method: 'GET', url })
    assert.equal(answer.statusCode, 404, url)
  }

  // a second pass changes nothing: archived once
  const later = await app.app.jobs.runner.runDue()
  assert.equal(later.archive?.queued, 0)
  assert.equal(later.archive?.stored, 0)

  // the same picture under two items is stored once
  const keys = await blobKeys(app)
  const originals = keys.filter((k) => k.startsWith('o/'))
  // (pictures and the videos' own files: Reels are archived too)
  const hashes = new Set(
    all.flatMap((m) => [m.archive.original_url, m.archive.video?.url ?? null]).filter(Boolean),
  )
  assert.equal(originals.length, hashes.size)

  // a disconnect: the URLs die at once, the blobs go after the grace time, nothing is left
  const gone = await browser.fetch('DELETE', `/api/socials/accounts/${id}`)
  assert.ok(gone.statusCode === 200 || gone.statusCode === 204, gone.body)
  assert.equal((await app.app.inject({ method: 'GET', url: avif.url })).statusCode, 404)
  await app.app.jobs.runner.runDue()
  assert.ok((await blobKeys(app)).length > 0, 'kept for the grace time')
  app.clock.advance(2 * HOUR)
  const collected = await app.app.jobs.runner.runDue()
  assert.equal(collected.archive?.deleted_blobs, hashes.size)
  assert.deepEqual(await blobKeys(app), [], 'no blob left behind')
})

test('a picture a platform with stable URLs no longer serves: pending with the reason, retried with backoff, then failed; a fresh URL from a sync heals it', async (t) => {
  // no scheduled syncs: the broken URL stays until "Sync now"
  const app = await buildTestApp(
    t,
    { SYNC_INTERVAL_MINUTES: '0' },
    { blobs: 'local', clockStart: testClockStart() },
  )
  const browser = new Browser(app)
  await browser.register()
  // X's media URLs do not expire: a refused one is not read again, the next sync brings it
  // (a platform with signed URLs reads the item again at once: the tests below)
  const id = await connectOn(app, browser, 'x')
  assert.equal((await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)).statusCode, 200)
  const victim = (await allMedia<MediaJson>(browser)).find(
    (m) => m.media_type === 'IMAGE' && m.media_url !== null,
  )
  assert.ok(victim !== undefined && victim.media_url !== null)
  const broken = victim.media_url.replace(/\/pbs\/media\/[^/?]+\.jpg/, '/pbs/media/NOSUCHMEDIA.jpg')
  assert.notEqual(broken, victim.media_url)
  await writeRaw(app, 'UPDATE media SET media_url = ? WHERE id = ?', [broken, victim.id])
  await archiveAll(app)
  const stateOf = async () =>
    (await allMedia<MediaJson>(browser)).find((m) => m.id === victim.id)?.archive
  const pending = await stateOf()
  assert.equal(pending?.state, 'pending')
  assert.match(pending?.reason ?? '', /no longer serves this media/)
  assert.doesNotMatch(pending?.reason ?? '', /oe=|oh=|https?:/, 'no URL in the reason')
  for (let i = 0; i < 8; i++) {
    app.clock.advance(13 * HOUR)
    await app.app.jobs.runner.runDue()
  }
  const failed = await stateOf()
  assert.equal(failed?.state, 'failed')
  assert.match(failed?.reason ?? '', /no longer serves this media/)
  // the rest were archived all the same
  const others = (await allMedia<MediaJson>(browser)).filter((m) => m.id !== victim.id)
  assert.ok(others.every((m) => m.archive.state === 'stored'))
  // a sync brings the platform's current URL: the item is archived again, and stored
  assert.equal((await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)).statusCode, 200)
  await archiveAll(app)
  const healed = await stateOf()
  assert.equal(healed?.state, 'stored', JSON.stringify(healed))
  assert.equal(healed.reason, null)
})

test('X: a video is archived too and served with ranges', async (t) => {
  const app = await buildTestApp(t, {}, { blobs: 'local', clockStart: testClockStart() })
  const browser = new Browser(app)
  await browser.register()
  const id = await connectOn(app, browser, 'x')
  assert.equal((await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)).statusCode, 200)
  await archiveAll(app)
  const video = (await allMedia<MediaJson>(browser)).find((m) => m.media_type === 'VIDEO')
  assert.ok(video !== undefined)
  assert.equal(video.archive.state, 'stored')
  assert.equal(video.archive.video?.state, 'stored', JSON.stringify(video.archive.video))
  const url = video.archive.video?.url ?? ''
  const whole = await app.app.inject({ method: 'GET', url })
  assert.equal(whole.statusCode, 200)
  assert.equal(whole.headers['content-type'], 'video/mp4')
  const part = await app.app.inject({ method: 'GET', url, headers: { range: 'bytes=4-7' } })
  assert.equal(part.statusCode, 206)
  assert.equal(part.rawPayload.toString('latin1'), 'ftyp')
})

test('ARCHIVE_MAX_VIDEO_MB=0: pictures archived, videos skipped with the reason', async (t) => {
  const app = await buildTestApp(
    t,
    { ARCHIVE_MAX_VIDEO_MB: '0' },
    { blobs: 'local', clockStart: testClockStart() },
  )
  const browser = new Browser(app)
  await browser.register()
  const id = await connectOn(app, browser, 'x')
  assert.equal((await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)).statusCode, 200)
  await archiveAll(app)
  const video = (await allMedia<MediaJson>(browser)).find((m) => m.media_type === 'VIDEO')
  assert.equal(video?.archive.state, 'stored')
  assert.deepEqual(video.archive.video, {
    state: 'skipped',
    url: null,
    reason: 'Video archiving is off (ARCHIVE_MAX_VIDEO_MB=0)',
  })
})

test('downloads reach only the platform’s media servers, also across redirects', async () => {
  const origins = ['https://*.cdninstagram.com', 'https://pbs.twimg.com']
  assert.equal(allowedBy(new URL('https://scontent.cdninstagram.com/v/1.jpg'), origins), true)
  assert.equal(allowedBy(new URL('https://pbs.twimg.com/media/1.jpg'), origins), true)
  for (const bad of [
    'https://cdninstagram.com/x', // the wildcard needs a subdomain
    'https://evil.com/?.cdninstagram.com',
    'https://pbs.twimg.com.evil.com/1.jpg',
    'http://pbs.twimg.com/1.jpg',
    'https://pbs.twimg.com:8443/1.jpg',
    'https://127.0.0.1/1.jpg',
  ])
    assert.equal(allowedBy(new URL(bad), origins), false, bad)
  const asked: string[] = []
  const fetch = async (url: string) => {
    asked.push(url)
    return new Response(null, {
      status: 302,
      headers: { location: 'http://169.254.169.254/latest/meta-data/' },
    })
  }
  await assert.rejects(
    download({ fetch, origins, label: 'Instagram' }, 'https://a.cdninstagram.com/1.jpg', 1000),
    (error: unknown) =>
      error instanceof DownloadError && /outside its media servers \(169\.254/.test(error.message),
  )
  assert.deepEqual(asked, ['https://a.cdninstagram.com/1.jpg'], 'the redirect was not followed')
  await assert.rejects(
    download({ fetch, origins, label: 'X' }, 'https://internal.example/1.jpg', 1000),
    DownloadError,
  )
  assert.equal(asked.length, 1, 'a foreign host is never asked')
})

/** The Graph calls the Instagram emulator recorded since `from` (an index in its call log). */
function graphCallsSince(app: TestApp, from: number) {
  return app.emulator.control.calls().slice(from)
}

test('Instagram: a picture whose stored URL expired is read again by id and archived in the same pass, one Graph read, no sync', async (t) => {
  // no scheduled syncs: only the archive's re-read can bring a fresh URL (pictures only)
  const app = await buildTestApp(
    t,
    { SYNC_INTERVAL_MINUTES: '0', ARCHIVE_MAX_VIDEO_MB: '0' },
    { blobs: 'local', clockStart: testClockStart() },
  )
  const browser = new Browser(app)
  await browser.register()
  const id = await connectAccount(app, browser)
  assert.equal((await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)).statusCode, 200)
  await archiveAll(app)
  // a new post, synced, not archived yet
  const { id: postId } = app.emulator.control.publish(1)
  assert.equal((await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)).statusCode, 200)
  const post = (await allMedia<MediaJson>(browser)).find((m) => m.platform_media_id === postId)
  assert.ok(post !== undefined && post.media_url !== null)
  assert.equal(post.archive.state, 'pending')
  const oe = new URL(post.media_url).searchParams.get('oe') ?? ''
  // past the URL's `oe` on the emulator's clock, without a sync
  app.clock.advance(4 * 24 * HOUR)
  assert.ok(parseInt(oe, 16) * 1000 < app.clock.now(), 'the stored URL has expired')
  const from = app.emulator.control.calls().length
  const report = await app.app.jobs.runner.runDue()
  assert.equal(report.archive?.stored, 1, JSON.stringify(report.archive))
  assert.equal(report.archive?.retried, 0)
  const calls = graphCallsSince(app, from)
  const nodeReads = calls.filter((c) => /\/graph\/(v\d+\.\d\/)?\d+$/.test(c.path))
  assert.deepEqual(
    nodeReads.map((c) => [c.path.split('/').pop(), c.status]),
    [[postId, 200]],
    'exactly one Graph read, of the expired item',
  )
  assert.equal(
    calls.filter((c) => c.path.endsWith('/media') || c.path.endsWith('/me')).length,
    0,
    'no listing and no profile read: not a sync',
  )
  const after = (await allMedia<MediaJson>(browser)).find((m) => m.platform_media_id === postId)
  assert.equal(after?.archive.state, 'stored', JSON.stringify(after?.archive))
  assert.notEqual(after.media_url, post.media_url, 'the stored URL was refreshed')
  const fresh = new URL(after.media_url ?? '').searchParams.get('oe') ?? ''
  assert.ok(parseInt(fresh, 16) * 1000 > app.clock.now(), 'a URL that works now')
  // the next pass has nothing to do and calls nobody
  const settled = app.emulator.control.calls().length
  const later = await app.app.jobs.runner.runDue()
  assert.equal(later.archive?.stored, 0)
  assert.equal(app.emulator.control.calls().length, settled)
})

test('Instagram: an expired picture of an account that needs a reconnect waits with the reason, and Instagram is not called', async (t) => {
  const app = await buildTestApp(
    t,
    { SYNC_INTERVAL_MINUTES: '0' },
    { blobs: 'local', clockStart: testClockStart() },
  )
  const browser = new Browser(app)
  await browser.register()
  const id = await connectAccount(app, browser)
  assert.equal((await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)).statusCode, 200)
  const [account] = await app.raw('SELECT username FROM user_social_accounts WHERE id = ?', [id])
  const username = String(account?.username)
  await writeRaw(app, "UPDATE user_social_accounts SET status = 'reauth_required' WHERE id = ?", [
    id,
  ])
  app.clock.advance(4 * 24 * HOUR)
  const from = app.emulator.control.calls().length
  const report = await app.app.jobs.runner.runDue()
  assert.equal(report.archive?.stored, 0)
  assert.ok((report.archive?.retried ?? 0) > 0, JSON.stringify(report.archive))
  assert.equal(report.archive?.failed, 0, 'retried, not failed')
  assert.deepEqual(graphCallsSince(app, from), [], 'no call for an account that needs a reconnect')
  const attempted = (await allMedia<MediaJson>(browser))
    .flatMap((m) => [m, ...m.children])
    .filter((m) => m.archive.reason !== null)
  assert.equal(attempted.length, report.archive?.retried)
  for (const item of attempted) {
    assert.equal(item.archive.state, 'pending')
    assert.equal(
      item.archive.reason,
      `Instagram needs you to reconnect @${username} before this picture can be archived`,
    )
  }
})

test('TikTok: covers past their expiry are read again with one video query per account per pass', async (t) => {
  const app = await buildTestApp(
    t,
    { SYNC_INTERVAL_MINUTES: '0' },
    { blobs: 'local', clockStart: testClockStart() },
  )
  const browser = new Browser(app)
  await browser.register()
  const id = await connectOn(app, browser, 'tiktok')
  assert.equal((await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)).statusCode, 200)
  const before = await allMedia<MediaJson>(browser)
  assert.ok(before.length > 0)
  // covers live about 6 hours
  app.clock.advance(7 * HOUR)
  let calls = app.tiktok.control.calls().length
  for (let pass = 0; pass < 10; pass++) {
    const report = await app.app.jobs.runner.runDue()
    const made = app.tiktok.control.calls().slice(calls)
    calls += made.length
    const queries = made.filter((c) => c.path.endsWith('/v2/video/query/'))
    assert.ok(queries.length <= 1, `pass ${pass}: ${queries.length} video queries`)
    assert.equal(made.filter((c) => c.path.endsWith('/v2/video/list/')).length, 0, 'not a sync')
    assert.equal(report.archive?.retried, 0, JSON.stringify(report.archive))
    if (report.archive?.stored === 0) break
    assert.equal(queries.length, 1, 'the pass that archived read the covers again')
  }
  const after = await allMedia<MediaJson>(browser)
  assert.ok(
    after.every((m) => m.archive.state === 'stored'),
    JSON.stringify(after.map((m) => m.archive)),
  )
  assert.notEqual(after[0]?.thumbnail_url, before[0]?.thumbnail_url, 'fresh covers stored')
})
