/**
 * `npm run archive -- status | verify | backfill | gc` on an archive the test app filled from the
 * Instagram sandbox: in-process on the test backend (SQLite, or PostgreSQL in the storage run),
 * and as a spawned command on the SQLite file and media folder the app uses.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  Browser,
  TEST_BACKEND,
  buildTestApp,
  connectAccount,
  testClockStart,
  writeRaw,
  type TestApp,
} from '../helpers/build-app.ts'
import { tempDir } from '../helpers/temp.ts'
import { repoRoot } from '../helpers/paths.ts'
import { archiveSource, assembleArchiver } from '../../src/archive/assemble.ts'
import { originalKey, variantKey } from '../../src/archive/keys.ts'
import { createInjectFetch } from '../../src/providers/emulator-core/inject-fetch.ts'
import { CONNECTABLE } from '../../src/providers/registry.ts'
import {
  parseArchiveArgs,
  runArchiveCommand,
  type ArchiveCommandEnv,
} from '../../src/maintenance/archive.ts'
import type { BlobStore } from '../../src/archive/blobs/types.ts'

const HOUR = 3_600_000

/** A test app whose demo Instagram account is synced and archived. */
async function archivedApp(t: Parameters<typeof buildTestApp>[0]) {
  const app = await buildTestApp(t, {}, { blobs: 'local', clockStart: testClockStart() })
  const browser = new Browser(app)
  const user = await browser.register()
  await connectAccount(app, browser)
  for (let i = 0; i < 30; i++) {
    const a = (await app.app.jobs.runner.runDue()).archive
    if (a === undefined || a.queued + a.stored + a.retried + a.failed === 0) break
  }
  assert.ok(app.blobs !== null)
  return { app, blobs: app.blobs, email: user.email }
}

/** An in-process run of the command, with its output. */
function runner(app: TestApp, blobs: BlobStore) {
  const instagram = CONNECTABLE.find((p) => p.info.id === 'instagram')
  assert.ok(instagram !== undefined)
  return async (...args: string[]) => {
    const parsed = parseArchiveArgs(args)
    if ('error' in parsed) throw new Error(parsed.error)
    const out: string[] = []
    const err: string[] = []
    const env: ArchiveCommandEnv = {
      store: app.store,
      blobs,
      config: app.config,
      now: () => app.clock.now(),
      out: { isTTY: false, write: (s: string) => out.push(s) },
      err: { isTTY: false, write: (s: string) => err.push(s) },
      async archiver() {
        const base = app.emulator.baseUrl()
        return assembleArchiver({
          config: app.config,
          store: app.store,
          blobs,
          clock: app.clock,
          logger: app.app.log,
          sources: new Map([
            [
              'instagram',
              archiveSource(instagram, 'sandbox', {
                fetch: createInjectFetch(app.app, base),
                sandboxBase: base,
              }),
            ],
          ]),
          instanceId: 'archive-cli-test',
          derive: { widths: [48, 96] },
        })
      },
    }
    const code = await runArchiveCommand(parsed, env)
    return { code, stdout: out.join(''), stderr: err.join('') }
  }
}

/** Stored blobs of one kind (hash order). */
async function storedBlobs(app: TestApp, kind: 'picture' | 'video') {
  return (await app.store.listBlobs(null, 1000)).filter((b) => b.kind === kind)
}

test(
  'archive status, verify (with --requeue), backfill and gc, in-process',
  { timeout: 180_000 },
  async (t) => {
    const { app, blobs, email } = await archivedApp(t)
    const run = runner(app, blobs)

    const status = await run('status', '--json')
    assert.equal(status.code, 0)
    const report = JSON.parse(status.stdout) as {
      items: { platform: string; state: string; items: number; bytes: number }[]
      blobs: { total_blobs: number; total_bytes: number }
      users: { email: string; bytes: number; percent_of_limit: number }[]
      max_bytes_per_user: number
    }
    const stored = report.items.find((r) => r.platform === 'instagram' && r.state === 'stored')
    assert.ok(stored !== undefined && stored.items > 0, status.stdout)
    assert.ok(report.blobs.total_blobs > 0 && report.blobs.total_bytes > 0)
    assert.equal(report.users[0]?.email, email)
    assert.equal(report.max_bytes_per_user, app.config.archive.maxBytesPerUser)
    const human = await run('status')
    assert.match(human.stdout, /instagram\s+stored\s+\d/)
    assert.match(human.stdout, new RegExp(`${email.replace(/[.]/g, '\\.')}\\s+\\d`))

    const clean = await run('verify')
    assert.equal(clean.code, 0, clean.stdout)
    assert.match(clean.stdout, /blobs checked, all intact/)

    // one original corrupted on disk (same length), one deleted, one size deleted
    const pictures = await storedBlobs(app, 'picture')
    const [corrupt, missing, sized] = pictures
    assert.ok(corrupt !== undefined && missing !== undefined && sized !== undefined)
    const corruptPath = join(app.config.dataDir, 'media', originalKey(corrupt.sha256))
    const bytes = readFileSync(corruptPath)
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff
    writeFileSync(corruptPath, bytes)
    assert.equal(await blobs.delete(originalKey(missing.sha256)), true)
    const [row] = (await app.store.getArchives(await mediaIds(app))).filter(
      (r) => r.sha256 === sized.sha256,
    )
    const variant = row?.variants[0]
    assert.ok(variant !== undefined)
    assert.equal(await blobs.delete(variantKey(sized.sha256, variant.width, variant.format)), true)

    const found = await run('verify')
    assert.equal(found.code, 1)
    assert.match(
      found.stdout,
      new RegExp(
        `${corrupt.sha256} {2}picture {2}o/${corrupt.sha256}: the original's content does not match its hash`,
      ),
    )
    assert.match(found.stdout, new RegExp(`${missing.sha256} .*the original picture is missing`))
    assert.match(
      found.stdout,
      new RegExp(`${sized.sha256} .*the ${variant.width}px ${variant.format} is missing`),
    )
    assert.match(found.stdout, /3 corrupt or missing/)
    assert.match(found.stdout, /verify --requeue/)
    const json = await run('verify', '--json')
    assert.equal(json.code, 1)
    const problems = (
      JSON.parse(json.stdout) as { problems: { sha256: string; problem: string }[] }
    ).problems
    assert.deepEqual(
      problems.map((p) => [p.sha256, p.problem]).sort(),
      [
        [corrupt.sha256, 'corrupt'],
        [missing.sha256, 'missing'],
        [sized.sha256, 'missing'],
      ].sort(),
    )
    assert.match(json.stderr, /^verify {2}\d/, 'progress goes to stderr with --json')

    const requeued = await run('verify', '--requeue')
    assert.equal(requeued.code, 1)
    assert.match(requeued.stdout, /\d+ items using them are pending again/)
    const pending = (await app.store.archiveStatus()).find((r) => r.state === 'pending')
    assert.ok(pending !== undefined && pending.items >= 3, JSON.stringify(pending))

    // items synced before the archive existed: no archive row at all
    const [first, second] = await mediaIds(app)
    for (const id of [first, second])
      await writeRaw(app, 'DELETE FROM media_archive WHERE media_id = ?', [id])
    assert.equal((await app.store.getArchives([first ?? '', second ?? ''])).length, 0)

    const backfill = await run('backfill')
    assert.equal(backfill.code, 0, backfill.stderr)
    assert.match(backfill.stdout, /^backfill: 2 items queued; \d+ pending in all/)
    assert.match(backfill.stdout, /backfill: \d+ archived, 0 failed for good.*; 0 still pending\n$/)
    const after = await app.store.getArchives(await mediaIds(app))
    assert.ok(after.length > 0)
    assert.ok(
      after.every((r) => r.state === 'stored'),
      JSON.stringify(after.map((r) => [r.state, r.reason])),
    )
    const repaired = await run('verify')
    assert.equal(repaired.code, 0, repaired.stdout)

    // gc: an unreferenced blob past its grace goes, with its objects; a fresh one stays; so do the
    // referenced ones; a temporary key from two days ago goes, a fresh one stays
    const old = await garbageBlob(app, blobs, 'old', app.clock.now() - 2 * HOUR)
    const fresh = await garbageBlob(app, blobs, 'fresh', app.clock.now() - 60_000)
    const staleTemp = `tmp/${app.clock.now() - 2 * 24 * HOUR}-0123456789abcdef`
    const freshTemp = `tmp/${app.clock.now() - 60_000}-0123456789abcdef`
    for (const key of [staleTemp, freshTemp])
      await blobs.write(key, Buffer.from('partial'), { contentType: 'video/mp4' })
    const referenced = (await app.store.listBlobs(null, 1000)).length - 2

    const gc = await run('gc', '--json')
    assert.equal(gc.code, 0)
    assert.deepEqual(JSON.parse(gc.stdout), {
      removed_blobs: 1,
      freed_bytes: old.bytes,
      temp_keys: 1,
      grace_ms: HOUR,
    })
    assert.equal(await app.store.getBlob(old.sha256), null)
    assert.equal(await blobs.head(originalKey(old.sha256)), null)
    assert.equal(await blobs.head(variantKey(old.sha256, 48, 'jpeg')), null)
    assert.equal(await blobs.head(staleTemp), null)
    assert.notEqual(await blobs.head(freshTemp), null)
    assert.notEqual(await app.store.getBlob(fresh.sha256), null, 'within its grace')
    const human2 = await run('gc')
    assert.match(human2.stdout, /^gc: 0 unreferenced blobs removed \(0 B freed\)/)
    assert.match(human2.stdout, /written less than 1h00m ago are kept/)
    const now = await run('gc', '--now')
    assert.match(now.stdout, /^gc: 1 unreferenced blobs removed/)
    assert.equal(await app.store.getBlob(fresh.sha256), null)
    assert.equal((await app.store.listBlobs(null, 1000)).length, referenced, 'referenced ones kept')
    assert.equal((await run('verify')).code, 0)
  },
)

/** Every media id of the app (album children included), oldest first. */
async function mediaIds(app: TestApp): Promise<string[]> {
  return (await app.raw('SELECT id FROM media ORDER BY timestamp, id')).map((r) => String(r.id))
}

/** A blob with its objects that no item references, last written at `at`. */
async function garbageBlob(app: TestApp, blobs: BlobStore, content: string, at: number) {
  const body = Buffer.from(`not a picture anyone uses: ${content}`)
  const sha256 = createHash('sha256').update(body).digest('hex')
  await app.store.reserveBlob({ sha256, kind: 'picture', now: at })
  await blobs.write(originalKey(sha256), body, { contentType: 'image/jpeg' })
  await blobs.write(variantKey(sha256, 48, 'jpeg'), body, { contentType: 'image/jpeg' })
  await writeRaw(app, 'UPDATE archive_blobs SET bytes = ? WHERE sha256 = ?', [
    body.length * 2,
    sha256,
  ])
  return { sha256, bytes: body.length * 2 }
}

test(
  'npm run archive: a spawned command on the service’s SQLite file and media folder',
  {
    timeout: 180_000,
    skip: TEST_BACKEND === 'postgres' && 'the spawned command reads SQLite here',
  },
  async (t) => {
    const { app, blobs, email } = await archivedApp(t)
    const spawn = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/maintenance/archive.ts', ...args], {
        cwd: repoRoot,
        encoding: 'utf8',
        env: {
          ...process.env,
          NODE_ENV: 'test',
          PUBLIC_URL: 'http://localhost:8080',
          DATA_DIR: app.config.dataDir,
          DATABASE_URL: `sqlite:${join(app.config.dataDir, 'gallery.db')}`,
          SOCIAL_TOKEN_ENCRYPTION_KEY: app.encryptionKey,
          ...env,
        },
      })

    const status = spawn(['status'])
    assert.equal(status.status, 0, status.stderr)
    assert.match(status.stdout, /^Archived items\nplatform +state +items +bytes\n/)
    assert.match(status.stdout, /instagram +stored +\d/)
    assert.match(status.stdout, /Blobs: \d+ holding/)
    assert.ok(status.stdout.includes(email))
    const json = spawn(['status', '--json', '--top', '1'])
    assert.equal(json.status, 0, json.stderr)
    assert.equal((JSON.parse(json.stdout) as { users: unknown[] }).users.length, 1)

    const [corrupt, missing] = await storedBlobs(app, 'picture')
    assert.ok(corrupt !== undefined && missing !== undefined)
    writeFileSync(
      join(app.config.dataDir, 'media', originalKey(corrupt.sha256)),
      Buffer.alloc(100, 7),
    )
    await blobs.delete(originalKey(missing.sha256))
    const verify = spawn(['verify'])
    assert.equal(verify.status, 1, verify.stderr)
    assert.match(verify.stdout, new RegExp(`${corrupt.sha256} .*does not match its hash`))
    assert.match(verify.stdout, new RegExp(`${missing.sha256} .*the original picture is missing`))
    assert.match(verify.stdout, /verify {2}\d+\/\d+ {2}[\d.]+\/s/, 'plain progress lines')
    assert.doesNotMatch(verify.stdout, /\r/)

    // the sandbox is wired here too; nothing is due, so nothing is downloaded
    const backfill = spawn(['backfill', '--max-minutes', '1'])
    assert.equal(backfill.status, 0, backfill.stderr)
    assert.match(backfill.stdout, /^backfill: 0 items queued; 0 pending in all/)

    const gc = spawn(['gc', '--json'])
    assert.equal(gc.status, 0, gc.stderr)
    assert.equal((JSON.parse(gc.stdout) as { removed_blobs: number }).removed_blobs, 0)

    for (const args of [[], ['bogus'], ['gc', '--requeue'], ['status', '--top'], ['verify', 'x']]) {
      const bad = spawn(args)
      assert.equal(bad.status, 2, `${args.join(' ')}: ${bad.stderr}`)
      assert.match(bad.stderr, /usage: npm run archive -- <command>/)
    }
    const nowhere = tempDir('psg-archive-none-')
    t.after(() => nowhere.cleanup())
    const none = spawn(['status'], {
      DATA_DIR: nowhere.path,
      DATABASE_URL: `sqlite:${join(nowhere.path, 'gallery.db')}`,
    })
    assert.equal(none.status, 1)
    assert.match(none.stderr, /No media archive here: MEDIA_STORE_URL is not set/)
  },
)
