/**
 * Issue 16, "done when": peak memory during a backfill of N media items (goal ≤ 300 MB RSS).
 * `node --import tsx bench/archive-backfill.ts [--quick]` (N = 300 quick, 5,000 full, or
 * `BENCH_BACKFILL_ITEMS`, a comma-separated list to measure several sizes one after the other).
 *
 * This process (the parent) makes 4 demo photos (1080 × 1080 JPEGs as a platform serves them)
 * and serves N distinct pictures from a loopback HTTP server: item i is photo i mod 4 with a JPEG
 * comment segment naming i, so every item has its own SHA-256 and goes through the whole
 * pipeline. It seeds a SQLite store with one user and an Instagram account holding the N items.
 * Then the service's archiving runs in a child process, bundled like production
 * (`dist/bench/archive-backfill.mjs`, plain node with the Docker image's node flags): the app
 * as `buildApp` makes it, with a local blob store, and the archiver with the app's defaults
 * (batch 20, concurrency 3, production widths 320/640/1080 in AVIF + WebP + JPEG), the loopback
 * server as the platform's media source. `runDue()` runs pass after pass, as the job runner does,
 * until every item is stored; the child samples its own `process.memoryUsage.rss()` every 100 ms.
 *
 * The child must not load the benchmarks' shared module (lib.ts imports the bundler script, whose
 * "run me" check would fire inside a bundle), so the parent's helpers are imported at run time.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pino } from 'pino'
import { createArchiver } from '../src/archive/archiver.ts'
import { openLocalBlobStore } from '../src/archive/blobs/local/local-blob-store.ts'
import { demoPicture } from '../src/archive/images/demo-pictures.ts'
import { buildApp } from '../src/app.ts'
import { systemClock } from '../src/clock.ts'
import { loadConfig } from '../src/config/load-config.ts'
import { FernetKey, FernetKeyRing } from '../src/crypto/fernet.ts'
import { accessTokenCredentials, sealCredentials } from '../src/socials/credentials.ts'
import { openStore } from '../src/store/open-store.ts'
import type { MediaInput } from '../src/store/types.ts'
import type * as LibModule from './lib.ts'
import type * as BundlerModule from '../scripts/build-server.mjs'

type Lib = typeof LibModule
type Bundler = typeof BundlerModule

const root = resolve(import.meta.dirname, '..')
const PHOTOS = 4

export interface BackfillResult {
  readonly items: number
  readonly stored: number
  readonly failed: number
  readonly passes: number
  readonly wallS: number
  readonly itemsPerS: number
  readonly rssStartMB: number
  readonly rssPeakMB: number
  readonly samples: number
}

/** Photo `i mod 4` with a COM segment (`FF FE`) naming `i` right after SOI: distinct bytes. */
function pictureFor(photos: readonly Buffer[], i: number): Buffer {
  const photo = photos[i % photos.length] ?? Buffer.alloc(0)
  const text = Buffer.from(`backfill item ${i}`, 'latin1')
  const segment = Buffer.alloc(4 + text.length)
  segment.writeUInt16BE(0xfffe, 0)
  segment.writeUInt16BE(text.length + 2, 2)
  text.copy(segment, 4)
  return Buffer.concat([photo.subarray(0, 2), segment, photo.subarray(2)])
}

async function pictureServer(photos: readonly Buffer[]): Promise<{ base: string; server: Server }> {
  const server = createServer((request, response) => {
    const i = Number(/^\/p\/(\d+)\.jpg$/.exec(request.url ?? '')?.[1] ?? NaN)
    if (!Number.isInteger(i)) {
      response.writeHead(404).end()
      return
    }
    const body = pictureFor(photos, i)
    response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length })
    response.end(body)
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

function childEnv(dir: string, key: string): Record<string, string> {
  return {
    NODE_ENV: 'test',
    PUBLIC_URL: 'http://127.0.0.1:1',
    DATA_DIR: dir,
    DATABASE_URL: `sqlite:${join(dir, 'gallery.db')}`,
    SOCIAL_TOKEN_ENCRYPTION_KEY: key,
  }
}

/** One user, one Instagram account, `n` pictures (no albums, no videos: n items to archive). */
async function seed(env: Record<string, string>, n: number, base: string): Promise<void> {
  const config = loadConfig(env)
  const store = await openStore(config.database)
  const vault = new FernetKeyRing(config.encryptionKeys ?? [])
  const now = Date.now()
  const user = await store.createUser({
    email: `backfill-${randomBytes(4).toString('hex')}@example.com`,
    password_hash: 'none',
    now,
  })
  const { account } = await store.upsertOAuthAccount({
    user_id: user.id,
    platform: 'instagram',
    username: 'backfill',
    platform_user_id: '17841400000000001',
    platform_scoped_id: randomBytes(6).toString('hex'),
    platform_attributes: { account_type: 'BUSINESS' },
    credentials: sealCredentials(
      vault,
      accessTokenCredentials('IGAAbench', now + 50 * 86_400_000, now),
    ),
    posts_count: n,
    profile_url: 'https://www.instagram.com/backfill/',
    profile_picture_url: null,
    now,
  })
  for (let i = 0; i < n; i += 500) {
    const page: MediaInput[] = []
    for (let j = i; j < Math.min(n, i + 500); j++)
      page.push({
        platform_media_id: `179${String(j).padStart(14, '0')}`,
        media_type: 'IMAGE',
        media_product_type: 'FEED',
        media_url: `${base}/p/${j}.jpg`,
        thumbnail_url: null,
        url_expires_at: null,
        permalink: `https://www.instagram.com/p/b${j}/`,
        caption: `Backfill ${j}`,
        timestamp: now - j * 60_000,
        duration_seconds: null,
        visibility: 'public',
        children: [],
      })
    await store.upsertMediaPage(account, `backfill-${i}`, page, now)
  }
  await store.close()
}

/** The child: the app and its archiver over the seeded store, until all `n` are stored. */
async function child(): Promise<void> {
  const n = Number(process.env.BACKFILL_ITEMS)
  const base = process.env.BACKFILL_SOURCE ?? ''
  const env = childEnv(process.env.DATA_DIR ?? '', process.env.SOCIAL_TOKEN_ENCRYPTION_KEY ?? '')
  const config = loadConfig(env)
  const store = await openStore(config.database)
  const blobs = await openLocalBlobStore({ path: join(config.dataDir, 'media') })
  const vault = new FernetKeyRing(config.encryptionKeys ?? [])
  const logger = pino({ level: 'silent' })
  const app = await buildApp({ config, store, blobs, vault, logger, passwordCost: 10 })
  await app.ready()
  const archiver = createArchiver({
    store,
    blobs,
    clock: systemClock,
    logger,
    // the platform's media servers: here the loopback picture server
    sources: new Map([
      [
        'instagram',
        { fetch: globalThis.fetch, origins: [], sandboxBase: base, label: 'Instagram' },
      ],
    ]),
    instanceId: 'backfill-bench',
    maxVideoBytes: config.archive.maxVideoBytes,
  })
  const rssStart = process.memoryUsage.rss()
  let peak = rssStart
  let samples = 0
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
    samples++
  }, 100)
  const started = performance.now()
  let stored = 0
  let failed = 0
  let passes = 0
  for (let idle = 0; stored + failed < n && idle < 3;) {
    const report = await archiver.runDue()
    passes++
    stored += report.stored
    failed += report.failed
    idle = report.stored + report.failed + report.queued + report.retried === 0 ? idle + 1 : 0
  }
  const wallS = (performance.now() - started) / 1000
  clearInterval(sampler)
  peak = Math.max(peak, process.memoryUsage.rss())
  const result: BackfillResult = {
    items: n,
    stored,
    failed,
    passes,
    wallS,
    itemsPerS: stored / wallS,
    rssStartMB: rssStart / 1e6,
    rssPeakMB: peak / 1e6,
    samples,
  }
  console.log(`BACKFILL ${JSON.stringify(result)}`)
  await app.close()
  await store.close()
  await blobs.close()
  process.exit(0)
}

/** Seeds N items, runs the child, returns its figures. */
async function backfill(lib: Lib, photos: readonly Buffer[], n: number): Promise<BackfillResult> {
  const dir = mkdtempSync(join(tmpdir(), 'psg-bench-backfill-'))
  const { base, server } = await pictureServer(photos)
  try {
    const env = childEnv(dir, FernetKey.generate())
    await seed(env, n, base)
    const script = join(root, 'dist/bench/archive-backfill.mjs')
    const proc = spawn(process.execPath, [...lib.productionNodeFlags(), script, '--child'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...env,
        BACKFILL_ITEMS: String(n),
        BACKFILL_SOURCE: base,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    proc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    proc.stderr.on(
      'data',
      (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-8000)),
    )
    const code = await new Promise<number | null>((done) => proc.once('exit', done))
    const json = /^BACKFILL (.+)$/m.exec(output)?.[1]
    if (code !== 0 || json === undefined)
      throw new Error(`the backfill child failed (${code}): ${output.slice(-4000)}`)
    return JSON.parse(json) as BackfillResult
  } finally {
    server.close()
    server.closeAllConnections()
    rmSync(dir, { recursive: true, force: true })
  }
}

export async function archiveBackfillBenchmark(): Promise<BackfillResult[]> {
  const libPath = './lib.ts'
  const bundlerPath = '../scripts/build-server.mjs'
  const lib = (await import(libPath)) as Lib
  const { bundleServer } = (await import(bundlerPath)) as Bundler
  const sizes = (process.env.BENCH_BACKFILL_ITEMS ?? (lib.QUICK ? '300' : '5000'))
    .split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0)
  const flags = lib.productionNodeFlags().join(' ')
  console.log(
    `# archive backfill on ${lib.machine()}: ${sizes.join(', ')} items, child bundled, node ${flags}`,
  )
  await bundleServer({ 'archive-backfill': 'bench/archive-backfill.ts' }, 'dist/bench')
  const photos: Buffer[] = []
  for (let k = 0; k < PHOTOS; k++) photos.push(await demoPicture(`backfill-${k}`, 1080, 1080))
  const results: BackfillResult[] = []
  for (const n of sizes) {
    const r = await backfill(lib, photos, n)
    results.push(r)
    const all = r.stored === n && r.failed === 0
    lib.line(
      `archive backfill of ${lib.fmt(n)} items: peak RSS`,
      `${lib.fmt(r.rssPeakMB)} MB (${lib.fmt(r.rssStartMB)} MB at the start; ${lib.fmt(r.itemsPerS, 2)} items/s, ${lib.fmt(r.wallS, 0)} s wall, ${lib.fmt(r.stored)} stored, ${r.failed} failed, ${r.passes} passes, ${r.samples} samples)`,
      { text: '≤ 300 MB and every item stored', met: r.rssPeakMB <= 300 && all },
    )
  }
  return results
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--child')) await child()
  else await archiveBackfillBenchmark()
}
