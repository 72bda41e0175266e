/**
 * Shared by the benchmarks: the summary line format, the machine description, seeding a store
 * with a signed-in user and an account full of media, child processes and their memory.
 */
import type { YoutubeEmulator } from '../src/providers/youtube/emulator/index.ts'
import { createYoutubeSandbox } from '../src/providers/youtube/sandbox.ts'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join, resolve } from 'node:path'
import { bundleServer } from '../scripts/build-server.mjs'
import type { FastifyBaseLogger, FastifyInstance, InjectOptions } from 'fastify'
import { pino } from 'pino'
import { buildApp } from '../src/app.ts'
import { systemClock, type Clock } from '../src/clock.ts'
import { loadConfig, type Config } from '../src/config/load-config.ts'
import { sha256 } from '../src/crypto/random.ts'
import { FernetKey, FernetKeyRing } from '../src/crypto/fernet.ts'
import { generateMedia } from '../src/providers/instagram/emulator/demo-data.ts'
import type { Emulator } from '../src/providers/instagram/emulator/index.ts'
import { createSandbox } from '../src/providers/instagram/sandbox.ts'
import { openStore } from '../src/store/open-store.ts'
import { ORIGIN, type TestApp } from '../test/helpers/build-app.ts'
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from '../src/http/session.ts'
import type { MediaInput, SocialAccountRecord, Store } from '../src/store/types.ts'
import { accessTokenCredentials, sealCredentials } from '../src/socials/credentials.ts'

export const repoRoot = resolve(import.meta.dirname, '..')
export const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1'

/** One summary line per figure: `name: value (goal …) PASS|MISS`, or without a goal. */
export function line(name: string, value: string, goal?: { text: string; met: boolean }): void {
  console.log(
    goal === undefined
      ? `${name}: ${value}`
      : `${name}: ${value} (goal ${goal.text}) ${goal.met ? 'PASS' : 'MISS'}`,
  )
}

export function machine(): string {
  const cpu = cpus()
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}`
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

export const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

/** A user with a session (its cookie value returned) and an Instagram account with `n` media. */
export async function seedGallery(
  store: Store,
  vault: FernetKeyRing,
  n: number,
  /** The picture URL of item `j` (`kind`: m main, t video thumbnail, c album child). */
  mediaUrl: (j: number, kind: 'm' | 't' | 'c') => string,
): Promise<{ userId: string; sessionCookie: string; account: SocialAccountRecord }> {
  const now = Date.now()
  const user = await store.createUser({
    email: `bench-${randomBytes(4).toString('hex')}@example.com`,
    password_hash: 'none',
    now,
  })
  const sessionCookie = randomBytes(32).toString('base64url')
  await store.createSession({
    id_hash: sha256(sessionCookie),
    user_id: user.id,
    created_at: now,
    expires_at: now + SESSION_ABSOLUTE_MS,
    idle_expires_at: now + SESSION_IDLE_MS,
  })
  const { account } = await store.upsertOAuthAccount({
    user_id: user.id,
    platform: 'instagram',
    username: 'bench',
    platform_user_id: `1784140${String(Math.floor(Math.random() * 1e10)).padStart(10, '0')}`,
    platform_scoped_id: randomBytes(6).toString('hex'),
    platform_attributes: { account_type: 'BUSINESS' },
    credentials: sealCredentials(
      vault,
      accessTokenCredentials('IGAAbench', now + 50 * 86_400_000, now),
    ),
    posts_count: n,
    profile_url: 'https://www.instagram.com/bench/',
    profile_picture_url: null,
    now,
  })
  for (let i = 0; i < n; i += 500) {
    const page: MediaInput[] = []
    for (let j = i; j < Math.min(n, i + 500); j++) {
      page.push({
        platform_media_id: `179${String(j).padStart(14, '0')}`,
        media_type: j % 7 === 3 ? 'CAROUSEL_ALBUM' : j % 5 === 2 ? 'VIDEO' : 'IMAGE',
        media_product_type: 'FEED',
        media_url: mediaUrl(j, 'm'),
        thumbnail_url: j % 5 === 2 ? mediaUrl(j, 't') : null,
        url_expires_at: null,
        permalink: `https://www.instagram.com/p/x${j}/`,
        caption: `Caption ${j}: a day at the sea with friends #bench`,
        timestamp: now - j * 60_000,
        duration_seconds: null,
        visibility: 'public' as const,
        children:
          j % 7 === 3
            ? [0, 1, 2].map((c) => ({
                platform_media_id: `178${String(j).padStart(12, '0')}${c}0`,
                media_type: 'IMAGE' as const,
                media_product_type: null,
                media_url: `${mediaUrl(j, 'c')}-${c}`,
                thumbnail_url: null,
                url_expires_at: null,
                duration_seconds: null,
                visibility: 'public' as const,
                permalink: null,
                caption: null,
                timestamp: now - j * 60_000,
              }))
            : [],
      })
    }
    await store.upsertMediaPage(account, `bench-${i}`, page, now)
  }
  return { userId: user.id, sessionCookie, account }
}

export interface Child {
  readonly process: ChildProcess
  readonly startedAt: number
  output(): string
  /** Resident memory now, in MB (10⁶ bytes; from /proc). */
  rssMB(): number
  stop(): Promise<void>
}

/** The node flags of the Docker image's CMD (before the script): production's, measured as is. */
export function productionNodeFlags(): string[] {
  const cmd = /^CMD \[(.+)\]$/m.exec(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'))?.[1]
  const words = (JSON.parse(`[${cmd ?? ''}]`) as string[]).slice(1)
  return words.filter((word) => word.startsWith('--'))
}

/**
 * TypeScript through `node --import tsx` (as `npm start`); bundles (.mjs) with plain node and the
 * production image's flags.
 */
export function startNode(script: string, env: Record<string, string>): Child {
  let output = ''
  const startedAt = performance.now()
  const args = script.endsWith('.ts')
    ? ['--import', 'tsx', script]
    : [...productionNodeFlags(), script]
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // keep the last bit of output for error messages; the rest is discarded like a log shipper would
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  return {
    process: child,
    startedAt,
    output: () => output,
    rssMB() {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
        return (Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024) / 1e6
      } catch {
        return 0
      }
    },
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done()
        child.once('exit', () => done())
        child.kill('SIGTERM')
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref()
      }),
  }
}

/** Polls `url` until it answers 200; returns the time from the child's start, in ms. */
export async function firstOk(child: Child, url: string, timeoutMs = 30_000): Promise<number> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    if (child.process.exitCode !== null)
      throw new Error(`the server exited (${child.process.exitCode}): ${child.output()}`)
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) })
      await response.arrayBuffer()
      if (response.status === 200) return performance.now() - child.startedAt
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5))
  }
  throw new Error(`no 200 from ${url} within ${timeoutMs} ms: ${child.output()}`)
}

/**
 * The service in this process with the sandbox emulator (as `npm start` without credentials),
 * on a fresh SQLite file or the given PostgreSQL database, logging off. `asTestApp` lets the
 * tests' OAuth helpers (register, connect, consent) drive it through `inject`.
 */
export interface BenchApp {
  readonly app: FastifyInstance
  readonly store: Store
  readonly vault: FernetKeyRing
  readonly emulator: Emulator
  /** The YouTube sandbox (Google's endpoints and the Data API). */
  readonly youtube: YoutubeEmulator
  readonly config: Config
  readonly asTestApp: TestApp
  close(): Promise<void>
}

export async function benchApp(options: {
  databaseUrl?: string
  env?: Record<string, string>
  clock?: Clock
  logger?: FastifyBaseLogger
}): Promise<BenchApp> {
  const dir = mkdtempSync(join(tmpdir(), 'psg-bench-app-'))
  const config = loadConfig({
    NODE_ENV: 'test',
    PUBLIC_URL: ORIGIN,
    DATA_DIR: dir,
    DATABASE_URL: options.databaseUrl ?? `sqlite:${join(dir, 'gallery.db')}`,
    SOCIAL_TOKEN_ENCRYPTION_KEY: FernetKey.generate(),
    ...options.env,
  })
  const store = await openStore(config.database)
  const vault = new FernetKeyRing(config.encryptionKeys ?? [])
  const clock = options.clock ?? systemClock
  const emulator = createSandbox({
    publicUrl: config.publicUrl,
    redirectUri: config.providers.instagram.settings.redirectUri,
    clock,
  })
  const youtube = createYoutubeSandbox({
    publicUrl: config.publicUrl,
    redirectUri: config.providers.youtube.settings.redirectUri,
    clock,
  })
  const app = await buildApp({
    config,
    store,
    vault,
    clock,
    logger: options.logger ?? pino({ level: 'silent' }),
    sandboxes: { instagram: emulator, youtube },
    passwordCost: 10,
  })
  await app.ready()
  const asTestApp = {
    app,
    request: (o: InjectOptions) => app.inject(o),
  } as unknown as TestApp
  return {
    app,
    store,
    vault,
    emulator,
    youtube,
    config,
    asTestApp,
    async close() {
      await app.close()
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A demo Instagram user in the emulator with `mediaCount` generated media (albums among them). */
export async function addEmulatorUser(
  emulator: Emulator,
  index: number,
  mediaCount: number,
): Promise<void> {
  const template = emulator.state.users[0]
  if (template === undefined) throw new Error('the emulator has no demo users')
  const username = `bench_${index}`
  emulator.state.users.push({
    ...template,
    index,
    username,
    id: String(27281358591550000 + index),
    user_id: String(17841457215390000 + index),
    media: generateMedia(index, username, mediaCount),
  })
}

/**
 * An app user holding a connected Instagram account for emulator user `index`, written straight
 * to the store with a token the emulator issued (what a completed OAuth connection leaves).
 */
export async function seedConnectedAccount(
  bench: BenchApp,
  index: number,
  options: { userId?: string; issuedAt?: number; expiresAt?: number } = {},
): Promise<SocialAccountRecord> {
  const now = Date.now()
  const user = bench.emulator.state.userByIndex(index)
  if (user === undefined) throw new Error(`no emulator user ${index}`)
  const userId =
    options.userId ??
    (
      await bench.store.createUser({
        email: `bench-${index}-${randomBytes(3).toString('hex')}@example.com`,
        password_hash: 'none',
        now,
      })
    ).id
  const { token } = bench.emulator.state.issueToken(index, 'l', [
    ...bench.config.providers.instagram.settings.scopes,
  ])
  const { account } = await bench.store.upsertOAuthAccount({
    user_id: userId,
    platform: 'instagram',
    username: user.username,
    platform_user_id: user.user_id,
    platform_scoped_id: user.id,
    platform_attributes: { account_type: 'BUSINESS' },
    credentials: sealCredentials(
      bench.vault,
      accessTokenCredentials(
        token,
        options.expiresAt ?? now + 60 * 86_400_000,
        options.issuedAt ?? now,
      ),
    ),
    posts_count: user.media.length,
    profile_url: `https://www.instagram.com/${user.username}/`,
    profile_picture_url: null,
    now,
  })
  return account
}

/**
 * The service's production bundle (as `npm run build:server` makes it) and the bare baseline
 * bundled the same way, in dist/bench/: both then run with plain node.
 */
export async function buildBenchBundles(): Promise<void> {
  await bundleServer(
    { main: 'src/main.ts', 'bare-server': 'bench/servers/bare-server.ts' },
    'dist/bench',
  )
}
