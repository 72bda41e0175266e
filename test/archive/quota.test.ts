/**
 * `ARCHIVE_MAX_MB_PER_USER` through the whole app: beyond it the newest media are kept, the
 * older ones say why in the media API, their blobs are collected, and the limit holds.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  Browser,
  allMedia,
  buildTestApp,
  connectAccount,
  testClockStart,
} from '../helpers/build-app.ts'
import type { MediaJson } from '../../src/http/presenters.ts'
import { QUOTA_REASON } from '../../src/archive/quota.ts'

const MB = 1024 * 1024

test('over the per-user quota the newest media are kept, the oldest say why, and their blobs go', async (t) => {
  const app = await buildTestApp(
    t,
    { ARCHIVE_MAX_MB_PER_USER: '1' },
    { blobs: 'local', clockStart: testClockStart() },
  )
  const browser = new Browser(app)
  const { id: userId } = await browser.register()
  const id = await connectAccount(app, browser)
  assert.equal((await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)).statusCode, 200)
  let evicted = 0
  for (let pass = 0; pass < 40; pass++) {
    const a = (await app.app.jobs.runner.runDue()).archive
    assert.ok(a !== undefined)
    evicted += a.evicted
    if (a.queued + a.stored + a.retried + a.failed === 0) break
  }
  assert.ok(evicted > 0, 'the demo account is larger than 1 MB')
  assert.ok((await app.store.archivedBytes(userId)) <= MB, 'the limit holds')

  const items = await allMedia<MediaJson>(browser)
  const kept = items.filter((m) => m.archive.state === 'stored')
  const dropped = items.filter((m) => m.archive.reason === QUOTA_REASON)
  assert.ok(kept.length > 0 && dropped.length > 0)
  for (const m of dropped) {
    assert.equal(m.archive.state, 'failed')
    assert.deepEqual(m.archive.sizes, [])
    assert.equal(m.archive.original_url, null)
  }
  // the newest are kept: every dropped post is older than every kept one
  const newestDropped = Math.max(...dropped.map((m) => Date.parse(m.timestamp)))
  const oldestKept = Math.min(...kept.map((m) => Date.parse(m.timestamp)))
  assert.ok(newestDropped <= oldestKept, 'older posts go first')
  assert.ok(
    app.logs.some((l) => l.includes('ARCHIVE_MAX_MB_PER_USER')),
    'the operator is told',
  )

  // an hour later their blobs are collected; the kept ones stay
  app.clock.advance(2 * 3_600_000)
  await app.app.jobs.runner.runDue()
  const blobs = await app.raw('SELECT sha256 FROM archive_blobs')
  const referenced = await app.raw(
    "SELECT sha256 FROM media_archive WHERE state = 'stored' UNION SELECT video_sha256 FROM media_archive WHERE video_sha256 IS NOT NULL",
  )
  assert.deepEqual(
    blobs.map((b) => String(b.sha256)).sort(),
    [...new Set(referenced.map((r) => String(r.sha256)))].sort(),
  )
  // a further pass changes nothing: no churn at the limit
  const again = (await app.app.jobs.runner.runDue()).archive
  assert.equal((again?.stored ?? 0) + (again?.evicted ?? 0), 0)
})
