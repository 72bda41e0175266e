import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PageCache } from '../../src/http/page-cache.ts'
import {
  Browser,
  buildTestApp,
  connectAccount,
  connectedApp,
  testClockStart,
} from '../helpers/build-app.ts'
import { publish, runDue, unpublish } from '../helpers/jobs.ts'

test('page cache: a page is served only at the version it was rendered at; least recently used go first', () => {
  const cache = new PageCache(100)
  cache.set('a', 1, 'x'.repeat(10))
  assert.equal(cache.get('a', 1), 'x'.repeat(10))
  assert.equal(cache.get('a', 2), undefined, 'another version: not served')
  assert.equal(cache.get('a', 1), undefined, 'and dropped')
  cache.set('big', 1, 'x'.repeat(13))
  assert.equal(cache.get('big', 1), undefined, 'more than an eighth of the cache: not kept')
  for (const key of ['k1', 'k2', 'k3', 'k4', 'k5', 'k6']) cache.set(key, 1, 'y'.repeat(12))
  cache.get('k1', 1) // k1 used: k2 is now the oldest
  for (const key of ['k7', 'k8', 'k9']) cache.set(key, 1, 'y'.repeat(12))
  assert.ok(cache.size.bytes <= 100)
  assert.equal(cache.get('k2', 1), undefined, 'the least recently used went first')
  assert.equal(cache.get('k1', 1), 'y'.repeat(12))
})

const items = async (browser: Browser, query = '') =>
  (await browser.fetch('GET', `/api/socials/media?limit=50${query}`)).json<{
    items: { platform_media_id: string; caption: string | null }[]
  }>().items

test('the media API is never stale: new posts, edits, deletions and disconnections show at once, from any instance', async (t) => {
  const { app, browser, accountId } = await connectedApp(t)
  assert.equal(
    (await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)).statusCode,
    200,
  )
  const first = await items(browser)
  assert.equal(first.length, 48)
  assert.deepEqual(await items(browser), first, 'the same page again')

  const posted = await publish(app, 1, 'fresh from the beach')
  await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
  const afterPost = await items(browser)
  assert.equal(afterPost[0]?.caption, 'fresh from the beach')
  assert.equal(afterPost.length, 49)

  await unpublish(app, posted)
  app.clock.advance(11 * 60_000) // past the "Sync now" limit's window of ten in ten minutes
  await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
  assert.ok(!(await items(browser)).some((m) => m.platform_media_id === posted))

  // a filtered page, cached too, then the account disconnected on a second instance
  assert.equal((await items(browser, `&account_id=${accountId}`)).length, 48)
  const second = await buildTestApp(t, {}, { share: app })
  const elsewhere = new Browser(second)
  for (const [name, value] of browser.cookies) elsewhere.cookies.set(name, value)
  assert.equal(
    (await elsewhere.fetch('DELETE', `/api/socials/accounts/${accountId}`)).statusCode,
    204,
  )
  assert.deepEqual(await items(browser), [])
  const filtered = await browser.fetch('GET', `/api/socials/media?limit=50&account_id=${accountId}`)
  assert.equal(filtered.statusCode, 404, 'the disconnected account is gone, not an empty page')
})

test('a sync that finds nothing new keeps cached media pages; a new post replaces them', async (t) => {
  // away from midnight UTC, when every signed CDN URL changes (and a full sync rewrites each row)
  const app = await buildTestApp(t, {}, { clockStart: testClockStart() })
  const browser = new Browser(app)
  await browser.register()
  const accountId = await connectAccount(app, browser, 1)
  const first = await runDue(app)
  assert.equal(first.syncs.modes.full, 1, 'a new account gets a full sync at once')
  // count the renderings: a page served from the cache does not list media
  let listed = 0
  const listMedia = app.store.listMedia.bind(app.store)
  app.store.listMedia = (query) => {
    listed++
    return listMedia(query)
  }
  const version = async () =>
    Number((await app.raw('SELECT gallery_version AS v FROM users'))[0]?.v ?? -1)
  const page = async () => (await browser.fetch('GET', '/api/socials/media?limit=50')).body

  const rendered = await page()
  assert.equal(listed, 1)
  const before = await version()

  app.clock.advance(75 * 60_000)
  const incremental = await runDue(app)
  assert.deepEqual([incremental.syncs.modes.incremental, incremental.syncs.synced], [1, 1])
  assert.equal(await version(), before, 'an unchanged incremental sync leaves the version')
  assert.equal(await page(), rendered)
  assert.equal(listed, 1, 'served from the cache')

  app.clock.advance(11 * 60_000)
  const full = await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
  assert.equal(full.statusCode, 200)
  assert.equal(full.json<{ mode: string }>().mode, 'full')
  assert.equal(await version(), before, 'an unchanged full sync (every post marked seen) too')
  assert.equal(await page(), rendered)
  assert.equal(listed, 1, 'still served from the cache')

  await publish(app, 1, 'a new post')
  app.clock.advance(75 * 60_000)
  assert.equal((await runDue(app)).syncs.synced, 1)
  assert.ok((await version()) > before, 'a new post moves the version')
  const fresh = await page()
  assert.equal(listed, 2, 'rendered again')
  assert.notEqual(fresh, rendered)
  assert.equal(
    (JSON.parse(fresh) as { items: { caption: string }[] }).items[0]?.caption,
    'a new post',
  )
})
