/**
 * `npm run bench` (full) and `npm run bench:quick` (smaller sizes, about a minute and a half):
 * every benchmark of issues 7 and 14, one summary line per figure, goals marked PASS or MISS.
 * PostgreSQL is a throw-away embedded server (or TEST_DATABASE_URL). Results and their reading:
 * BENCHMARKS.md.
 */
import pg from 'pg'
import { randomBytes } from 'node:crypto'
import { startEmbeddedPostgres } from '../test/helpers/postgres.ts'
import { QUICK, buildBenchBundles, line, machine } from './lib.ts'
import { readPathBenchmark } from './read-path.ts'
import { renewalBenchmark } from './renewal.ts'
import { startupBenchmark } from './startup.ts'
import { archiveBackfillBenchmark } from './archive-backfill.ts'
import { firstTilesBenchmark } from './first-tiles.ts'
import { syncBenchmark } from './sync.ts'
import { vaultBenchmark } from './vault.ts'
import { youtubeQuotaBenchmark } from './youtube-quota.ts'

const started = performance.now()
console.log(
  `# benchmarks (${QUICK ? 'quick' : 'full'}) on ${machine()}, ${new Date().toISOString()}`,
)
await buildBenchBundles()

const server = process.env.TEST_DATABASE_URL ? null : await startEmbeddedPostgres()
const serverUrl = process.env.TEST_DATABASE_URL ?? server?.url ?? ''
/** A fresh database on the PostgreSQL server for one benchmark. */
async function database(): Promise<string> {
  const name = `bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return url.toString()
}

/** Runs one benchmark and says how long it took (what a quick run's minute is spent on). */
async function timed<T>(name: string, work: () => T | Promise<T>): Promise<T> {
  const t0 = performance.now()
  const result = await work()
  console.log(`# ${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  return result
}

try {
  await timed('vault', vaultBenchmark)
  await timed('sync', syncBenchmark)
  await timed('youtube quota', youtubeQuotaBenchmark)
  // issue 16: peak memory of a backfill (300 items quick, 5,000 full), first tiles of 1,000
  // archived items in a new Chromium context (builds the web pages first)
  await timed('archive backfill', archiveBackfillBenchmark)
  await timed('first tiles', () => firstTilesBenchmark())
  const { bundleRssMB } = await timed('start-up', startupBenchmark)
  let peak = bundleRssMB
  for (const backend of ['sqlite', 'postgres'] as const) {
    const url = backend === 'sqlite' ? null : await database()
    const memory = await timed(`read path ${backend}`, () => readPathBenchmark(backend, url))
    peak = Math.max(peak, memory.rssPeakMB)
    line(
      `memory ${backend}: production bundle`,
      `${memory.rssAfterStartMB.toFixed(0)} MB after start, ${memory.rssPeakMB.toFixed(0)} MB at peak under the read-path load`,
      { text: '≤ 150 MB', met: memory.rssPeakMB <= 150 },
    )
  }
  for (const backend of ['sqlite', 'postgres'] as const) {
    const url = backend === 'sqlite' ? null : await database()
    await timed(`renewal ${backend}`, () => renewalBenchmark(backend, url))
  }
} finally {
  await server?.stop()
}
console.log(`# done in ${((performance.now() - started) / 1000).toFixed(0)} s`)
