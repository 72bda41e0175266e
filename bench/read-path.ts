/**
 * Benchmark 1 (read path) and the memory half of 5: `GET /api/socials/media?limit=50` for a
 * signed-in user with 5,000 media, and `GET /api/socials/accounts`, served by the real service
 * (the production bundle in production mode, request logging on, its output discarded; call
 * `buildBenchBundles` first), against a bare
 * Fastify route answering the same bytes from memory — both measured with autocannon in the same
 * run, alternating, on SQLite and on PostgreSQL. Also the service's resident memory after start
 * and at its peak under this load.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { loadConfig } from '../src/config/load-config.ts'
import { FernetKey, FernetKeyRing } from '../src/crypto/fernet.ts'
import { openStore } from '../src/store/open-store.ts'
import { freePort } from '../test/helpers/net.ts'
import { QUICK, firstOk, fmt, line, median, seedGallery, startNode } from './lib.ts'

const MEDIA = 5_000
const SECONDS = QUICK ? 1.5 : 10
const WARM_UP_SECONDS = QUICK ? 0.5 : 2
const ROUNDS = QUICK ? 1 : 3
const CONNECTIONS = 10

interface Load {
  readonly rps: number
  readonly p50: number
  readonly p99: number
  readonly errors: number
}

async function load(url: string, headers: Record<string, string>, seconds: number): Promise<Load> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers })
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
  }
}

/** `databaseUrl` null: SQLite in a temp folder. */
export async function readPathBenchmark(
  backend: 'sqlite' | 'postgres',
  databaseUrl: string | null,
): Promise<{ rssAfterStartMB: number; rssPeakMB: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'psg-bench-read-'))
  const url = databaseUrl ?? `sqlite:${join(dir, 'gallery.db')}`
  const key = FernetKey.generate()
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dir, DATABASE_URL: url })
  const store = await openStore(config.database)
  const { sessionCookie } = await seedGallery(
    store,
    new FernetKeyRing([key]),
    MEDIA,
    (j, kind) => `${base}/${kind}/${j}.jpg`,
  )
  await store.close()

  const app = startNode('dist/bench/main.mjs', {
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: base,
    DATA_DIR: dir,
    DATABASE_URL: url,
    SOCIAL_TOKEN_ENCRYPTION_KEY: key,
    SCHEDULER_INTERVAL_SECONDS: '0',
    ...(process.env.BENCH_LOG_LEVEL === undefined
      ? {}
      : { LOG_LEVEL: process.env.BENCH_LOG_LEVEL }),
  })
  const bare = { child: null as ReturnType<typeof startNode> | null }
  try {
    await firstOk(app, `${base}/healthz`)
    const rssAfterStartMB = app.rssMB()
    const headers = { cookie: `psg_session=${sessionCookie}` }
    const routes = {
      'media?limit=50': '/api/socials/media?limit=50',
      accounts: '/api/socials/accounts',
    }
    // the bare server answers exactly the bytes the service answered
    const files: Record<string, string> = {}
    for (const [name, path] of Object.entries(routes)) {
      const response = await fetch(`${base}${path}`, { headers })
      if (response.status !== 200)
        throw new Error(`${path}: ${response.status} ${await response.text()}`)
      const body = Buffer.from(await response.arrayBuffer())
      files[name] = join(dir, `${name.replace(/\W/g, '_')}.json`)
      writeFileSync(files[name], body)
      if (name === 'media?limit=50')
        line(`read path ${backend}: media page size`, `${fmt(body.length)} bytes, 50 items`)
    }
    const barePort = await freePort()
    bare.child = startNode('dist/bench/bare-server.mjs', {
      PORT: String(barePort),
      MEDIA_BODY: files['media?limit=50'] ?? '',
      ACCOUNTS_BODY: files.accounts ?? '',
    })
    await firstOk(bare.child, `http://127.0.0.1:${barePort}/healthz`)

    let rssPeakMB = rssAfterStartMB
    const sampler = setInterval(() => {
      rssPeakMB = Math.max(rssPeakMB, app.rssMB())
    }, 100)
    try {
      for (const [name, path] of Object.entries(routes)) {
        // warm both up (JIT, statement caches), then alternate
        await load(`${base}${path}`, headers, WARM_UP_SECONDS)
        await load(`http://127.0.0.1:${barePort}${path}`, {}, WARM_UP_SECONDS)
        const ours: Load[] = []
        const theirs: Load[] = []
        for (let round = 0; round < ROUNDS; round++) {
          theirs.push(await load(`http://127.0.0.1:${barePort}${path}`, {}, SECONDS))
          ours.push(await load(`${base}${path}`, headers, SECONDS))
        }
        const errors = ours.reduce((n, r) => n + r.errors, 0)
        if (errors > 0) throw new Error(`${errors} failed requests on ${path}`)
        const rps = median(ours.map((r) => r.rps))
        const bareRps = median(theirs.map((r) => r.rps))
        const ratio = rps / bareRps
        line(
          `read path ${backend}: ${name}`,
          `${fmt(rps)} req/s (p50 ${median(ours.map((r) => r.p50))} ms, p99 ${median(ours.map((r) => r.p99))} ms) vs bare Fastify ${fmt(bareRps)} req/s (p50 ${median(theirs.map((r) => r.p50))} ms, p99 ${median(theirs.map((r) => r.p99))} ms); ratio ${ratio.toFixed(2)}`,
          { text: '≥ 0.6', met: ratio >= 0.6 },
        )
      }
    } finally {
      clearInterval(sampler)
    }
    return { rssAfterStartMB, rssPeakMB }
  } finally {
    await app.stop()
    await bare.child?.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
