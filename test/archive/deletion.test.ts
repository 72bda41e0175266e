/**
 * Every deletion path removes the archive's blobs nobody references any more, on both blob
 * backends (a local directory, and S3 through a real s3rver on loopback), and keeps every blob
 * another item still references (issue 16 item 6).
 *
 * The world of a case: person A connects Instagram (demo user 1) and X (@ada_demo); person B
 * connects Instagram (demo user 2, one of whose posts is drawn exactly like one of A's) and X
 * (@grace_demo, whose pictures and video are the same content as A's first posts: X's emulator
 * draws a picture from its position and hue only, and plays one clip for every video). So blobs
 * are shared across accounts and people, and each deletion must keep the shared ones.
 *
 * After each deletion path, the clock passes the grace time and the job runner runs; then every
 * object of the blob store and every `archive_blobs` row is listed, and: nothing is left that no
 * archive row references, no temporary key is left, and every referenced blob is present and
 * readable (its original hashes to its name, each size has its recorded length).
 */
import { after, before, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import {
  Browser,
  buildTestApp,
  connectAccount,
  connectOn,
  testClockStart,
  type TestApp,
} from '../helpers/build-app.ts'
import { tempDir } from '../helpers/temp.ts'
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.ts'
import type { BlobStore } from '../../src/archive/blobs/types.ts'
import { openLocalBlobStore } from '../../src/archive/blobs/local/local-blob-store.ts'
import { S3BlobStore } from '../../src/archive/blobs/s3/s3-blob-store.ts'
import { BLOB_GRACE_MS } from '../../src/archive/archiver.ts'
import type { ArchiveVariant } from '../../src/store/types.ts'
import type { JobsReport } from '../../src/socials/job-runner.ts'
import type { EmulatorMedia } from '../../src/providers/instagram/emulator/state.ts'
import { signRequest } from '../../src/providers/instagram/signed-request.ts'
import { DATA_DELETION_PATH, DEAUTHORIZE_PATH } from '../../src/providers/instagram/inbound.ts'
import { instagramUserId, scopedUserId } from '../../src/providers/instagram/emulator/demo-data.ts'
import { TIKTOK_WEBHOOK_PATH } from '../../src/providers/tiktok/inbound.ts'
import {
  authorizationRemovedBody,
  tiktokSignature,
} from '../../src/providers/tiktok/emulator/webhook.ts'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

let s3: S3rverHandle
before(async () => {
  s3 = await startS3rver(undefined)
})
after(async () => {
  await s3.close()
})

type Backend = 'local' | 's3'
const BACKENDS: readonly Backend[] = ['local', 's3']

let cases = 0
/** A fresh, empty blob store of `backend` (S3: its own prefix in the file's one bucket). */
async function openStore(t: TestContext, backend: Backend): Promise<BlobStore> {
  if (backend === 'local') {
    const dir = tempDir('psg-blobs-')
    const store = await openLocalBlobStore({ path: dir.path })
    t.after(async () => {
      await store.close()
      dir.cleanup()
    })
    return store
  }
  const store = new S3BlobStore({
    bucket: s3.bucket,
    prefix: `deletion-${++cases}/`,
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: s3.credentials,
  })
  t.after(() => store.close())
  return store
}

/**
 * A store that passes everything to `inner`, with two hooks on `delete`: `beforeDelete` runs
 * first (a concurrent instance's work, in the window between a garbage claim and its deletes),
 * and `failAt` makes the Nth delete from now on throw (a crash in the middle of a pass).
 */
class HookedStore implements BlobStore {
  readonly inner: BlobStore
  deletes = 0
  failAt: number | null = null
  beforeDelete: ((key: string) => Promise<void>) | null = null
  constructor(inner: BlobStore) {
    this.inner = inner
  }
  write(...args: Parameters<BlobStore['write']>) {
    return this.inner.write(...args)
  }
  move(from: string, to: string) {
    return this.inner.move(from, to)
  }
  read(...args: Parameters<BlobStore['read']>) {
    return this.inner.read(...args)
  }
  head(key: string) {
    return this.inner.head(key)
  }
  async delete(key: string) {
    this.deletes++
    if (this.failAt !== null && this.deletes >= this.failAt)
      throw new Error('injected: the instance died while deleting')
    await this.beforeDelete?.(key)
    return this.inner.delete(key)
  }
  list(prefix: string) {
    return this.inner.list(prefix)
  }
  close() {
    return Promise.resolve()
  }
}

interface World {
  readonly app: TestApp
  readonly blobs: BlobStore
  readonly a: Browser
  readonly b: Browser
  readonly igA: string
  readonly xA: string
  readonly igB: string
  readonly xB: string
  readonly tiktokA: string | null
}

interface WorldOptions {
  readonly env?: Record<string, string>
  /** Person A also connects TikTok. */
  readonly tiktok?: boolean
  /** Only Instagram (for the cases about garbage collection itself). */
  readonly instagramOnly?: boolean
  /** The store the app uses instead of a fresh one of the backend. */
  readonly blobs?: BlobStore
}

/**
 * Shapes the emulators small (a few posts each: the archive converts every picture) with content
 * shared across accounts, connects everything, and archives it all.
 */
async function world(t: TestContext, backend: Backend, options: WorldOptions = {}): Promise<World> {
  const blobs = options.blobs ?? (await openStore(t, backend))
  const app = await buildTestApp(
    t,
    { SYNC_INTERVAL_MINUTES: '60', ...options.env },
    { blobs, clockStart: testClockStart() },
  )
  const ig1 = app.emulator.state.userByIndex(1)
  const ig2 = app.emulator.state.userByIndex(2)
  assert.ok(ig1 !== undefined && ig2 !== undefined)
  // A: two pictures, a reel, a picture and an album of three (a picture, a video, a picture)
  ig1.media.splice(5)
  ig2.media.splice(2)
  picturesOnly(ig1.media)
  copyDrawing(ig2.media[0], ig1.media[0])
  const ada = app.x.state.accountByIndex(1)
  const grace = app.x.state.accountByIndex(2)
  assert.ok(ada !== undefined && grace !== undefined)
  // Grace's 8 posts are drawn like Ada's first 8; Ada's last 4 are hers alone
  ada.posts.splice(12)
  grace.posts.splice(8)
  app.tiktok.state.accountByIndex(1)?.videos.splice(3)

  const a = new Browser(app)
  await a.register()
  const igA = await connectAccount(app, a, 1)
  const xA = options.instagramOnly === true ? '' : await connectOn(app, a, 'x', 1)
  const tiktokA = options.tiktok === true ? await connectOn(app, a, 'tiktok', 1) : null
  const b = new Browser(app)
  await b.register()
  const igB = await connectAccount(app, b, 2)
  const xB = options.instagramOnly === true ? '' : await connectOn(app, b, 'x', 2)
  await archiveAll(app)
  const states = await app.raw('SELECT state, COUNT(*) AS n FROM media_archive GROUP BY state')
  assert.deepEqual(
    states.map((r) => String(r.state)),
    ['stored'],
    `everything archived: ${JSON.stringify(states)}`,
  )
  return { app, blobs, a, b, igA, xA, igB, xB, tiktokA }
}

/** Makes `target` render exactly like `source` on the Instagram emulator's CDN. */
function copyDrawing(target: EmulatorMedia | undefined, source: EmulatorMedia | undefined): void {
  assert.ok(target !== undefined && source !== undefined)
  assert.equal(source.children.length, 0)
  Object.assign(target, {
    hue: source.hue,
    caption: source.caption,
    username: source.username,
    media_type: source.media_type,
    media_product_type: source.media_product_type,
    children: [],
  })
}

/** Instagram's reels and album videos become pictures (videos are X's part here). */
function picturesOnly(media: EmulatorMedia[]): void {
  for (const item of media) {
    if (item.media_type === 'VIDEO')
      Object.assign(item, { media_type: 'IMAGE', media_product_type: 'FEED' })
    picturesOnly(item.children)
  }
}

function runDue(app: TestApp): Promise<JobsReport> {
  return app.app.jobs.runner.runDue()
}

/** Job passes until the archive has nothing left to do (bounded). */
async function archiveAll(app: TestApp): Promise<void> {
  for (let i = 0; i < 30; i++) {
    const a = (await runDue(app)).archive
    assert.ok(a !== undefined, 'the runner archives')
    if (a.queued === 0 && a.stored === 0 && a.retried === 0 && a.failed === 0) return
  }
  assert.fail('the archive did not settle')
}

/** Past the grace time, pass after pass, until a pass collects nothing (bounded). */
async function collect(app: TestApp): Promise<number> {
  let deleted = 0
  for (let i = 0; i < 6; i++) {
    app.clock.advance(BLOB_GRACE_MS + MINUTE)
    const report = await runDue(app)
    const got = report.archive?.deleted_blobs ?? 0
    deleted += got
    if (i > 0 && got === 0) break
  }
  return deleted
}

/** Every archive row's blobs, by account. */
async function blobsByAccount(app: TestApp): Promise<Map<string, Set<string>>> {
  const rows = await app.raw('SELECT account_id, sha256, video_sha256 FROM media_archive')
  const out = new Map<string, Set<string>>()
  for (const row of rows) {
    const set = out.get(String(row.account_id)) ?? new Set<string>()
    for (const sha of [row.sha256, row.video_sha256]) if (typeof sha === 'string') set.add(sha)
    out.set(String(row.account_id), set)
  }
  return out
}

const union = (sets: Iterable<Set<string>>): Set<string> => {
  const out = new Set<string>()
  for (const set of sets) for (const sha of set) out.add(sha)
  return out
}

async function listKeys(blobs: BlobStore): Promise<string[]> {
  const keys: string[] = []
  for await (const entry of blobs.list('')) keys.push(entry.key)
  return keys.sort()
}

async function readAll(blobs: BlobStore, key: string): Promise<Buffer | null> {
  const got = await blobs.read(key)
  if (got === null) return null
  const chunks: Buffer[] = []
  for await (const chunk of got.body) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/**
 * Lists every object and every blob row, and checks them against the archive rows: the blobs
 * stored are exactly the ones referenced, each readable in full. Returns the referenced hashes.
 */
async function assertNoGarbage(w: World, message: string): Promise<Set<string>> {
  const rows = await w.app.raw(
    'SELECT media_id, state, sha256, variants, video_sha256 FROM media_archive',
  )
  const referenced = new Set<string>()
  for (const row of rows)
    for (const sha of [row.sha256, row.video_sha256])
      if (typeof sha === 'string') referenced.add(sha)
  const blobRows = await w.app.raw('SELECT sha256, state FROM archive_blobs')
  assert.deepEqual(
    blobRows.map((r) => String(r.sha256)).sort(),
    [...referenced].sort(),
    `${message}: archive_blobs holds exactly the referenced blobs`,
  )
  assert.ok(
    blobRows.every((r) => r.state === 'stored'),
    `${message}: no blob left half-deleted`,
  )
  const keys = await listKeys(w.blobs)
  assert.deepEqual(
    keys.filter((k) => !/^(o\/[0-9a-f]{64}|v\/[0-9a-f]{64}\/[0-9]+\.(avif|webp|jpeg))$/.test(k)),
    [],
    `${message}: only archive objects (no temporary key left)`,
  )
  const stored = new Set(keys.map((k) => k.split('/')[1] ?? ''))
  assert.deepEqual(
    [...stored].sort(),
    [...referenced].sort(),
    `${message}: the store holds exactly the referenced blobs`,
  )
  // every referenced blob is whole: its original hashes to its name, each size is as recorded
  const expected = new Set<string>()
  for (const row of rows) {
    if (typeof row.sha256 === 'string') {
      expected.add(`o/${row.sha256}`)
      for (const v of JSON.parse(String(row.variants)) as ArchiveVariant[])
        expected.add(`v/${row.sha256}/${v.width}.${v.format}`)
    }
    if (typeof row.video_sha256 === 'string') expected.add(`o/${row.video_sha256}`)
  }
  assert.deepEqual(keys, [...expected].sort(), `${message}: every object of every row, no other`)
  for (const row of rows) {
    for (const sha of [row.sha256, row.video_sha256]) {
      if (typeof sha !== 'string') continue
      const bytes = await readAll(w.blobs, `o/${sha}`)
      assert.ok(bytes !== null, `${message}: o/${sha} readable`)
      assert.equal(createHash('sha256').update(bytes).digest('hex'), sha, `${message}: intact`)
    }
    if (typeof row.sha256 !== 'string') continue
    for (const v of JSON.parse(String(row.variants)) as ArchiveVariant[]) {
      const bytes = await readAll(w.blobs, `v/${row.sha256}/${v.width}.${v.format}`)
      assert.equal(bytes?.length, v.bytes, `${message}: ${row.sha256}/${v.width}.${v.format}`)
    }
  }
  return referenced
}

/**
 * Takes a snapshot before a deletion of `victims`, and after it checks: no garbage, the victims'
 * own blobs are gone (there were some), the blobs they shared with a survivor are all still there.
 */
async function expectCollected(
  w: World,
  victims: readonly string[],
  deletion: () => Promise<void>,
): Promise<void> {
  const before = await blobsByAccount(w.app)
  const victimBlobs = union(victims.map((id) => before.get(id) ?? new Set()))
  const survivorBlobs = union([...before].filter(([id]) => !victims.includes(id)).map(([, s]) => s))
  const own = [...victimBlobs].filter((sha) => !survivorBlobs.has(sha))
  const shared = [...victimBlobs].filter((sha) => survivorBlobs.has(sha))
  assert.ok(own.length > 0, 'the victims hold blobs of their own')
  assert.ok(shared.length > 0, 'the victims share blobs with a survivor')
  await deletion()
  const after = await blobsByAccount(w.app)
  for (const id of victims) assert.equal(after.has(id), false, `${id}: its archive rows are gone`)
  const referenced = await assertNoGarbage(w, 'after the deletion')
  for (const sha of own) assert.equal(referenced.has(sha), false, `${sha} was collected`)
  for (const sha of shared) assert.ok(referenced.has(sha), `${sha}: still referenced, kept`)
  assert.deepEqual(referenced, union(after.values()), 'the survivors keep all theirs')
}

function metaForm(app: TestApp, userId: string): string {
  const payload = {
    algorithm: 'HMAC-SHA256',
    user_id: userId,
    issued_at: Math.floor(app.clock.now() / 1000),
  }
  const signed = signRequest(payload, app.emulator.state.settings.clientSecret)
  return `signed_request=${encodeURIComponent(signed)}`
}

async function postMeta(app: TestApp, path: string, userId: string): Promise<void> {
  const answer = await app.request({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: metaForm(app, userId),
  })
  assert.equal(answer.statusCode, 200, answer.body)
}

async function accountStatus(app: TestApp, id: string): Promise<string | undefined> {
  const [row] = await app.raw('SELECT status FROM user_social_accounts WHERE id = ?', [id])
  return row === undefined ? undefined : String(row.status)
}

async function ok(
  browser: Browser,
  method: 'DELETE' | 'POST',
  url: string,
  codes: readonly number[] = [200, 204],
): Promise<void> {
  const answer = await browser.fetch(method, url)
  assert.ok(codes.includes(answer.statusCode), `${method} ${url}: ${answer.body}`)
}

/**
 * A revocation keeps the gallery (and so every blob) until the retention purge, which deletes the
 * account and its media; then its blobs go.
 */
async function revokedThenPurged(w: World, victim: string, revoke: () => Promise<void>) {
  await expectCollected(w, [victim], async () => {
    await revoke()
    assert.equal(await accountStatus(w.app, victim), 'revoked')
    const kept = await blobsByAccount(w.app)
    await collect(w.app)
    assert.deepEqual(await blobsByAccount(w.app), kept, 'revoked: the gallery is kept')
    await assertNoGarbage(w, 'revoked, before the purge')
    // REVOKED_ACCOUNT_RETENTION_DAYS=1: the purge deletes the account a day later
    w.app.clock.advance(DAY + HOUR)
    const purged = await runDue(w.app)
    assert.equal(purged.purged.revoked_accounts, 1, JSON.stringify(purged.purged))
    assert.equal(await accountStatus(w.app, victim), undefined)
    await collect(w.app)
  })
}

for (const backend of BACKENDS) {
  test(`${backend}: a disconnect removes the account's own blobs and keeps the shared ones`, async (t) => {
    const w = await world(t, backend)
    await expectCollected(w, [w.igA, w.xA], async () => {
      await ok(w.a, 'DELETE', `/api/socials/accounts/${w.igA}`)
      await ok(w.a, 'DELETE', `/api/socials/accounts/${w.xA}`)
      assert.ok((await collect(w.app)) > 0)
    })
  })

  test(`${backend}: Meta's deauthorize keeps the gallery; the purge of revoked accounts then removes its blobs`, async (t) => {
    const w = await world(t, backend, { env: { REVOKED_ACCOUNT_RETENTION_DAYS: '1' } })
    await revokedThenPurged(w, w.igA, () => postMeta(w.app, DEAUTHORIZE_PATH, scopedUserId(1)))
  })

  test(`${backend}: Meta's data-deletion callback removes the account's blobs`, async (t) => {
    const w = await world(t, backend)
    await expectCollected(w, [w.igA], async () => {
      await postMeta(w.app, DATA_DELETION_PATH, instagramUserId(1))
      assert.equal(await accountStatus(w.app, w.igA), undefined)
      await collect(w.app)
    })
  })

  test(`${backend}: TikTok's authorization.removed revokes; the purge then removes its blobs`, async (t) => {
    const w = await world(t, backend, {
      tiktok: true,
      env: { REVOKED_ACCOUNT_RETENTION_DAYS: '1' },
    })
    const tiktok = w.tiktokA
    assert.ok(tiktok !== null)
    // TikTok's covers are A's alone: the X account (which shares) goes with it in this case
    await expectCollected(w, [tiktok, w.xA], async () => {
      await ok(w.a, 'DELETE', `/api/socials/accounts/${w.xA}`)
      const [row] = await w.app.raw(
        'SELECT platform_user_id FROM user_social_accounts WHERE id = ?',
        [tiktok],
      )
      const seconds = Math.floor(w.app.clock.now() / 1000)
      const body = authorizationRemovedBody(
        w.app.tiktok.state.settings.clientKey,
        String(row?.platform_user_id),
        1,
        seconds,
      )
      const answer = await w.app.request({
        method: 'POST',
        url: TIKTOK_WEBHOOK_PATH,
        headers: {
          'content-type': 'application/json',
          'tiktok-signature': tiktokSignature(
            w.app.tiktok.state.settings.clientSecret,
            seconds,
            body,
          ),
        },
        payload: body,
      })
      assert.equal(answer.statusCode, 200, answer.body)
      assert.deepEqual(answer.json(), { revoked: 1 })
      assert.equal(await accountStatus(w.app, tiktok), 'revoked')
      const kept = (await blobsByAccount(w.app)).get(tiktok)
      await collect(w.app)
      assert.deepEqual((await blobsByAccount(w.app)).get(tiktok), kept, 'revoked: kept')
      w.app.clock.advance(DAY + HOUR)
      assert.equal((await runDue(w.app)).purged.revoked_accounts, 1)
      await collect(w.app)
    })
  })

  test(`${backend}: "delete all my data" removes every blob of the person, then of the other`, async (t) => {
    const w = await world(t, backend)
    await expectCollected(w, [w.igA, w.xA], async () => {
      await ok(w.a, 'DELETE', '/api/socials/data', [200])
      await collect(w.app)
    })
    await ok(w.b, 'DELETE', '/api/socials/data', [200])
    await collect(w.app)
    assert.equal((await assertNoGarbage(w, 'everyone deleted')).size, 0)
    assert.deepEqual(await listKeys(w.blobs), [], 'an empty store')
  })

  test(`${backend}: media deleted on the platform lose their blobs after the reconciliation; shared content stays`, async (t) => {
    // (Instagram's listing is complete, so a full reconciliation sees deletions; X's is a window
    // of recent posts, from which the service deletes nothing, so X is left out here)
    const w = await world(t, backend, { instagramOnly: true })
    const ig = w.app.emulator.state.userByIndex(1)
    assert.ok(ig !== undefined)
    // the picture B has too, a picture of A's own and the album (children and all)
    const igGone = [ig.media[0], ig.media[1], ig.media[4]].map((m) => m?.id ?? '')
    const ids = await w.app.raw(
      'SELECT m.id, m.platform_media_id, m.parent_id FROM media m JOIN media_archive a ON a.media_id = m.id',
    )
    const parents = ids.filter((r) => igGone.includes(String(r.platform_media_id)))
    const gone = new Set(parents.map((r) => String(r.id)))
    for (const r of ids) if (gone.has(String(r.parent_id))) gone.add(String(r.id))
    assert.equal(gone.size, igGone.length + 3, 'the album children too')

    const before = await w.app.raw('SELECT media_id, sha256, video_sha256 FROM media_archive')
    const shasOf = (rows: Record<string, unknown>[]) =>
      new Set(rows.flatMap((r) => [r.sha256, r.video_sha256].filter((s) => typeof s === 'string')))
    const goneShas = shasOf(before.filter((r) => gone.has(String(r.media_id))))
    const keptShas = shasOf(before.filter((r) => !gone.has(String(r.media_id))))
    const own = [...goneShas].filter((s) => !keptShas.has(s))
    const shared = [...goneShas].filter((s) => keptShas.has(s))
    assert.ok(own.length > 0 && shared.length > 0, `own ${own.length}, shared ${shared.length}`)

    for (const id of igGone) w.app.emulator.control.deleteMedia(id)
    // "Sync now" is a full reconciliation: it finds the deletions
    w.app.clock.advance(10 * MINUTE)
    await ok(w.a, 'POST', `/api/socials/accounts/${w.igA}/sync`, [200])
    const left = await w.app.raw('SELECT media_id FROM media_archive')
    assert.equal(
      left.filter((r) => gone.has(String(r.media_id))).length,
      0,
      'their archive rows went with them',
    )
    assert.equal(left.length, before.length - gone.size)
    await collect(w.app)
    const referenced = await assertNoGarbage(w, 'after the platform deletions')
    for (const sha of own) assert.equal(referenced.has(sha), false, `${sha} collected`)
    for (const sha of shared) assert.ok(referenced.has(sha), `${sha} kept`)
  })

  test(`${backend}: a pass that dies after deleting objects, before forgetting the blob: the next pass finishes it`, async (t) => {
    const hooked = new HookedStore(await openStore(t, backend))
    const w = await world(t, backend, { blobs: hooked, instagramOnly: true })
    await expectCollected(w, [w.igA], async () => {
      await ok(w.a, 'DELETE', `/api/socials/accounts/${w.igA}`)
      w.app.clock.advance(BLOB_GRACE_MS + MINUTE)
      // the 9th delete of the pass: past the first blob's 7 objects, in the middle of the second
      hooked.failAt = hooked.deletes + 9
      const keysBefore = await listKeys(w.blobs)
      await assert.rejects(runDue(w.app), /injected/)
      const half = await w.app.raw("SELECT sha256 FROM archive_blobs WHERE state = 'deleting'")
      assert.ok(half.length > 0, 'claimed, objects partly deleted, rows not forgotten')
      const now = await listKeys(w.blobs)
      const partly = half.filter((r) => {
        const sha = String(r.sha256)
        const count = (keys: string[]) => keys.filter((k) => k.includes(sha)).length
        return count(now) < count(keysBefore)
      })
      assert.ok(partly.length > 0, 'a claimed blob has lost some of its objects already')
      hooked.failAt = null
      await collect(w.app)
    })
  })

  test(`${backend}: the same content appearing again while its blob is being deleted is never left without objects`, async (t) => {
    const hooked = new HookedStore(await openStore(t, backend))
    const w = await world(t, backend, { blobs: hooked, instagramOnly: true })
    // a second instance of the service on the same database and store
    const other = await buildTestApp(t, {}, { share: w.app, blobs: hooked })
    const bThere = new Browser(other)
    for (const [name, value] of w.b.cookies) bThere.cookies.set(name, value)
    const ig1 = w.app.emulator.state.userByIndex(1)
    const source = ig1?.media[1]
    assert.ok(source !== undefined)
    const [row] = await w.app.raw(
      'SELECT a.sha256 FROM media_archive a JOIN media m ON m.id = a.media_id WHERE m.platform_media_id = ?',
      [source.id],
    )
    const target = String(row?.sha256)
    assert.match(target, /^[0-9a-f]{64}$/)

    await ok(w.a, 'DELETE', `/api/socials/accounts/${w.igA}`)
    w.app.clock.advance(BLOB_GRACE_MS + MINUTE)
    let racing: JobsReport['archive'] | undefined
    hooked.beforeDelete = async (key) => {
      if (racing !== undefined || !key.includes(target)) return
      hooked.beforeDelete = null
      // claimed (`deleting`), not deleted yet: B posts the same picture, and the other instance
      // syncs and archives it
      const fresh = w.app.emulator.control.publish(2, {}).id
      copyDrawing(w.app.emulator.state.findMedia(fresh)?.media, source)
      await ok(bThere, 'POST', `/api/socials/accounts/${w.igB}/sync`, [200])
      racing = (await runDue(other)).archive
    }
    await runDue(w.app)
    assert.ok(racing !== undefined, 'the race ran')
    assert.ok(racing.retried >= 1, `the new item waits for the deletion: ${JSON.stringify(racing)}`)
    const [waiting] = await w.app.raw(
      "SELECT state, reason FROM media_archive WHERE sha256 IS NULL AND state = 'pending'",
    )
    assert.match(String(waiting?.reason), /being removed|removing/)
    // its retry stores the content again, whole
    w.app.clock.advance(5 * MINUTE)
    await archiveAll(w.app)
    const [again] = await w.app.raw(
      'SELECT state FROM media_archive WHERE sha256 = ? AND account_id = ?',
      [target, w.igB],
    )
    assert.equal(again?.state, 'stored')
    await collect(w.app)
    const referenced = await assertNoGarbage(w, 'after the race')
    assert.ok(referenced.has(target), 'the new reference has its objects')
  })
}
