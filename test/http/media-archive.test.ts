/**
 * `GET /api/socials/media/archive?ids=…`: what the gallery asks while tiles wait for the archive.
 * It answers only for its caller's media, only once the archive has a row for them, refuses
 * malformed or too many ids, and archiving right after "Sync now" (the service's default) fills
 * the archive without any scheduler pass.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  Browser,
  allMedia,
  buildTestApp,
  connectAccount,
  type TestApp,
} from '../helpers/build-app.ts'
import type { ArchiveJson, MediaJson } from '../../src/http/presenters.ts'

async function archives(
  browser: Browser,
  ids: readonly string[],
): Promise<{ status: number; body: { archives?: Record<string, ArchiveJson>; error?: unknown } }> {
  const response = await browser.fetch(
    'GET',
    `/api/socials/media/archive?ids=${encodeURIComponent(ids.join(','))}`,
  )
  return { status: response.statusCode, body: response.json() }
}

async function archiveAll(app: TestApp): Promise<void> {
  for (let i = 0; i < 30; i++) {
    const a = (await app.app.jobs.runner.runDue()).archive
    if (a === undefined || a.queued + a.stored + a.retried + a.failed === 0) return
  }
}

test('the archive of one’s own media, by id: pending ones are left out until they have a row, others’ never appear', async (t) => {
  const app = await buildTestApp(t, {}, { blobs: 'local' })
  const owner = new Browser(app)
  await owner.register('owner@example.com')
  const id = await connectAccount(app, owner)
  assert.equal((await owner.fetch('POST', `/api/socials/accounts/${id}/sync`)).statusCode, 200)
  const media = await allMedia<MediaJson>(owner)
  const ids = media.slice(0, 5).map((m) => m.id)
  // synced, not archived yet: no row, nothing to say
  assert.deepEqual(await archives(owner, ids), { status: 200, body: { archives: {} } })
  await archiveAll(app)
  const answer = await archives(owner, ids)
  assert.equal(answer.status, 200)
  assert.deepEqual(Object.keys(answer.body.archives ?? {}).sort(), [...ids].sort())
  for (const archive of Object.values(answer.body.archives ?? {})) {
    assert.equal(archive.state, 'stored')
    assert.ok(archive.sizes.length > 0)
    assert.match(archive.sizes[0]?.url ?? '', /^\/media\/[0-9a-f]{64}\/\d+\.(avif|webp|jpeg)$/)
  }
  // an album child's archive is asked for by its own id
  const child = media.find((m) => m.children.length > 0)?.children[0]
  assert.ok(child !== undefined)
  const children = await archives(owner, [child.id])
  assert.equal(children.body.archives?.[child.id]?.state, 'stored')
  // a video's own copy is described (the Instagram demo has Reels)
  const reel = media.find((m) => m.media_type === 'VIDEO')
  assert.ok(reel !== undefined)
  const video = (await archives(owner, [reel.id])).body.archives?.[reel.id]?.video
  assert.ok(video !== null && video !== undefined, 'a video has a video archive')

  // somebody else asking for the owner's ids learns nothing
  const other = new Browser(app)
  await other.register('other@example.com')
  assert.deepEqual(await archives(other, ids), { status: 200, body: { archives: {} } })
  // signed out: 401
  const anonymous = new Browser(app)
  assert.equal((await archives(anonymous, ids)).status, 401)
})

test('malformed, missing and too many ids are refused with the validation envelope', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const uuid = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`
  for (const query of [
    '',
    '?ids=',
    '?ids=not-a-uuid',
    `?ids=${uuid(1)},`,
    `?ids=${uuid(1)}&ids=${uuid(2)}`,
    `?ids=${Array.from({ length: 101 }, (_, i) => uuid(i)).join(',')}`,
    `?ids=${uuid(1)}&extra=1`,
  ]) {
    const response = await browser.fetch('GET', `/api/socials/media/archive${query}`)
    assert.equal(response.statusCode, 400, query)
    assert.equal(
      response.json<{ error?: { code?: string } }>().error?.code,
      'ERR_VALIDATION',
      query,
    )
  }
  const hundred = Array.from({ length: 100 }, (_, i) => uuid(i)).join(',')
  const response = await browser.fetch('GET', `/api/socials/media/archive?ids=${hundred}`)
  assert.equal(response.statusCode, 200)
  assert.deepEqual(response.json(), { archives: {} })
})

test('with archiving after "Sync now" on, as the service runs, the archive fills with no scheduler pass', async (t) => {
  const app = await buildTestApp(t, {}, { blobs: 'local', archiveOnSync: true })
  const browser = new Browser(app)
  await browser.register()
  const id = await connectAccount(app, browser)
  assert.equal((await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)).statusCode, 200)
  const media = await allMedia<MediaJson>(browser)
  const ids = media.slice(0, 20).map((m) => m.id)
  let stored = 0
  for (let i = 0; i < 200 && stored < ids.length; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    const answer = await archives(browser, ids)
    stored = Object.values(answer.body.archives ?? {}).filter((a) => a.state === 'stored').length
  }
  assert.equal(stored, ids.length, 'archived in the background after the sync')
})
