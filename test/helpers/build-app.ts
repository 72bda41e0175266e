/**
 * Builds the app for a test on a real SQLite file in a temp folder, with the sandbox emulator on
 * a movable clock, logs captured in memory, and closes everything when the test ends.
 */
import type { BlobStore } from '../../src/archive/blobs/types.ts'
import { openLocalBlobStore } from '../../src/archive/blobs/local/local-blob-store.ts'
import type { TestContext } from 'node:test'
import { Writable } from 'node:stream'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { buildApp } from '../../src/app.ts'
import { loadConfig, type Config } from '../../src/config/load-config.ts'
import { FernetKey, FernetKeyRing } from '../../src/crypto/fernet.ts'
import { createLogger } from '../../src/log/logger.ts'
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import type { Store } from '../../src/store/types.ts'
import { createManualClock, type ManualClock } from '../../src/clock.ts'
import { createSandbox } from '../../src/providers/instagram/sandbox.ts'
import type { Emulator } from '../../src/providers/instagram/emulator/index.ts'
import type { YoutubeEmulator } from '../../src/providers/youtube/emulator/index.ts'
import { createYoutubeSandbox } from '../../src/providers/youtube/sandbox.ts'
import type { TiktokEmulator } from '../../src/providers/tiktok/emulator/index.ts'
import { createTiktokSandbox } from '../../src/providers/tiktok/sandbox.ts'
import type { XEmulator } from '../../src/providers/x/emulator/index.ts'
import { createXSandbox } from '../../src/providers/x/sandbox.ts'
import type { Fault } from '../../src/providers/instagram/emulator/state.ts'
import type { FetchLike } from '../../src/providers/types.ts'
import { tempDir } from './temp.ts'
import { freshPostgresStore, testPostgresUrl, testStoreOptions } from './postgres.ts'
import { createPostgresStore } from '../../src/store/postgres/postgres-store.ts'

export const ORIGIN = 'http://localhost:8080'

/**
 * The backend the HTTP and job tests run on: SQLite by default; `PSG_TEST_STORE=postgres` runs the
 * same tests on PostgreSQL (the test runner does both).
 */
export const TEST_BACKEND: 'sqlite' | 'postgres' =
  process.env.PSG_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite'

interface TestDatabase {
  readonly store: Store
  readonly pgSchema?: string
  readonly raw: (sql: string, params?: readonly unknown[]) => Promise<Record<string, unknown>[]>
  readonly dispose: () => Promise<void>
}

async function joinPostgresSchema(schema: string): Promise<TestDatabase> {
  const store = await createPostgresStore(testStoreOptions(await testPostgresUrl(), schema))
  return {
    store,
    pgSchema: schema,
    raw: () => Promise.reject(new Error('use the first instance for raw reads')),
    dispose: () => store.close(),
  }
}

async function openTestDatabase(dataDir: string, postgresUrl?: string): Promise<TestDatabase> {
  if (TEST_BACKEND === 'postgres' || postgresUrl !== undefined) {
    const harness = await freshPostgresStore(postgresUrl)
    return { ...harness, pgSchema: harness.schema }
  }
  const path = join(dataDir, 'gallery.db')
  const store = createSqliteStore({ path })
  const reader = new BetterSqlite3(path, { readonly: true })
  return {
    store,
    raw: (sql, params = []) =>
      Promise.resolve(reader.prepare(sql).all(...params) as Record<string, unknown>[]),
    async dispose() {
      reader.close()
      await store.close()
    },
  }
}

/**
 * Runs a statement that writes (the test app's `raw` reads only: on SQLite its connection is
 * read-only), on the test app's database.
 */
export async function writeRaw(
  app: TestApp,
  sqlText: string,
  params: unknown[] = [],
): Promise<void> {
  if (app.backend === 'postgres') {
    await app.raw(sqlText, params)
    return
  }
  const db = new BetterSqlite3(join(app.config.dataDir, 'gallery.db'))
  try {
    db.prepare(sqlText).run(...params)
  } finally {
    db.close()
  }
}

export interface TestApp {
  readonly app: FastifyInstance
  readonly store: Store
  /** The media archive's blob store (`TestAppOptions.blobs`), or `null`. */
  readonly blobs: BlobStore | null
  readonly config: Config
  readonly clock: ManualClock
  readonly emulator: Emulator
  /** The YouTube sandbox emulator (Google's consent page, token endpoint and Data API). */
  readonly youtube: YoutubeEmulator
  /** The TikTok sandbox emulator (Login Kit and the Display API). */
  readonly tiktok: TiktokEmulator
  /** The X sandbox emulator (OAuth 2.0 with PKCE and the API v2 read side). */
  readonly x: XEmulator
  readonly vault: FernetKeyRing
  readonly encryptionKey: string
  /** Every log line written so far. */
  readonly logs: string[]
  /** Every response body and header block seen through `request`. */
  readonly responses: string[]
  /** Pauses the rate governor asked for (they are not waited out in tests). */
  readonly pauses: number[]
  /** Raw SQL (`?` placeholders) against the app's database, bypassing the store. */
  readonly raw: (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>
  /** Which backend this test runs on (`PSG_TEST_STORE`). */
  readonly backend: 'sqlite' | 'postgres'
  /** On PostgreSQL, the schema holding this test's tables (a second instance joins it). */
  readonly pgSchema: string | null
  /** `inject` that also records the response for leak scans. */
  request(options: InjectOptions): Promise<LightMyRequestResponse>
}

export interface TestAppOptions {
  /**
   * Another test app whose database (the same store object), clock, emulator and keys this one
   * shares: a second instance of the service in the same process.
   */
  readonly share?: TestApp
  /** How webhooks are sent (default: real fetch, e.g. to a loopback receiver). */
  readonly webhookFetch?: FetchLike
  /** Run on PostgreSQL at this server (a test's own), whatever `PSG_TEST_STORE` says. */
  readonly postgresUrl?: string
  /** Where the clock starts (default: now). See `testClockStart`. */
  readonly clockStart?: number
  /**
   * The media archive's blob store: `'local'` for a directory in the app's data dir, or a store
   * of the test's own (an S3 one); default: none (no archiving, which costs every job pass time).
   */
  readonly blobs?: 'local' | BlobStore
  /** The archive's picture widths (default 48 and 96: small, so tests stay fast). */
  readonly archiveWidths?: readonly number[]
  /**
   * Archive right after "Sync now", in the background, as the service does (default: off, so
   * that each job pass's report counts what it archived).
   */
  readonly archiveOnSync?: boolean
}

/**
 * Where a test app's clock starts: the latest 00:30 UTC, up to a day in the past. Platform CDNs
 * (and their emulators) sign URLs per UTC day, so a test that moves its clock by minutes or hours
 * would see every URL change when the real time happened to be late in the day (a full sync then
 * rewrote every row: a page-cache test failed in CI at 22:40 UTC). A test that counts writes
 * starts here, away from the day boundary. (Not the default: tokens made outside the app's clock,
 * such as the Firebase emulator's, must look fresh to it.)
 */
export function testClockStart(now = Date.now()): number {
  const day = 86_400_000
  const start = Math.floor(now / day) * day + 30 * 60_000
  return start <= now ? start : start - day
}

export async function buildTestApp(
  t: TestContext,
  env: Record<string, string> = {},
  options: TestAppOptions = {},
): Promise<TestApp> {
  env = { INSTAGRAM_REQUEST_TIMEOUT_MS: '1000', ...env }
  const shared = options.share
  const dir = shared === undefined ? tempDir('psg-app-') : null
  const dataDir = shared?.config.dataDir ?? dir?.path ?? ''
  const encryptionKey = shared?.encryptionKey ?? FernetKey.generate()
  const config = loadConfig({
    NODE_ENV: 'test',
    PUBLIC_URL: ORIGIN,
    DATA_DIR: dataDir,
    DATABASE_URL: `sqlite:${join(dataDir, 'gallery.db')}`,
    SOCIAL_TOKEN_ENCRYPTION_KEY: encryptionKey,
    ...env,
  })
  const logs: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      )
      done()
    },
  })
  const logger = createLogger({ level: 'trace', destination })
  const clock = shared?.clock ?? createManualClock(options.clockStart)
  // a second instance: on SQLite the same store (one file, one process); on PostgreSQL its own
  // pool on the same schema, as another server would have
  const database =
    shared === undefined
      ? await openTestDatabase(dataDir, options.postgresUrl)
      : shared.pgSchema === null
        ? null
        : await joinPostgresSchema(shared.pgSchema)
  const store = database?.store ?? shared?.store
  const raw = shared?.raw ?? database?.raw
  if (store === undefined || raw === undefined) throw new Error('no test database')
  const vault = new FernetKeyRing([encryptionKey], () => Math.floor(clock.now() / 1000))
  const emulator =
    shared?.emulator ??
    createSandbox({
      publicUrl: config.publicUrl,
      redirectUri: config.providers.instagram.settings.redirectUri,
      clock,
    })
  const tiktok =
    shared?.tiktok ??
    createTiktokSandbox({
      publicUrl: config.publicUrl,
      redirectUri: config.providers.tiktok.settings.redirectUri,
      clock,
    })
  const x =
    shared?.x ??
    createXSandbox({
      publicUrl: config.publicUrl,
      redirectUri: config.providers.x.settings.redirectUri,
      clock,
    })
  const youtube =
    shared?.youtube ??
    createYoutubeSandbox({
      publicUrl: config.publicUrl,
      redirectUri: config.providers.youtube.settings.redirectUri,
      clock,
    })
  const pauses: number[] = []
  const blobs =
    options.blobs === 'local'
      ? await openLocalBlobStore({ path: join(dataDir, 'media') })
      : options.blobs
  const app = await buildApp({
    ...(blobs === undefined ? {} : { blobs }),
    // AVIF at 1080 px takes about a second a picture here: tests archive small sizes
    archiveDerive: { widths: options.archiveWidths ?? [48, 96] },
    archiveOnSync: options.archiveOnSync ?? false,
    config,
    store,
    vault,
    logger,
    clock,
    sandboxes: { instagram: emulator, youtube, tiktok, x },
    passwordCost: 10,
    sleep: async (ms) => {
      pauses.push(ms)
    },
    ...(options.webhookFetch === undefined ? {} : { webhookFetch: options.webhookFetch }),
  })
  await app.ready()
  const responses: string[] = []
  t.after(async () => {
    // a browser test's Chromium is closed after its app and may still hold a connection with a
    // request in flight: after 2 s of closing, drop every connection rather than wait for it
    const force = setTimeout(() => app.server.closeAllConnections(), 2_000)
    await app.close().finally(() => clearTimeout(force))
    await database?.dispose()
    if (options.blobs === 'local') await blobs?.close()
    dir?.cleanup()
  })
  return {
    app,
    store,
    blobs: blobs ?? null,
    config,
    clock,
    emulator,
    youtube,
    tiktok,
    x,
    vault,
    encryptionKey,
    logs,
    responses,
    pauses,
    raw,
    backend: options.postgresUrl === undefined ? TEST_BACKEND : 'postgres',
    pgSchema: database?.pgSchema ?? shared?.pgSchema ?? null,
    async request(options: InjectOptions) {
      const response = await app.inject(options)
      responses.push(JSON.stringify(response.headers), response.body)
      return response
    },
  }
}

/** A browser-like client: keeps cookies and sends our Origin on unsafe requests. */
export class Browser {
  readonly cookies = new Map<string, string>()
  readonly #t: TestApp
  constructor(t: TestApp) {
    this.#t = t
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  async fetch(
    method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH',
    url: string,
    options: { body?: unknown; headers?: Record<string, string>; origin?: string | null } = {},
  ): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { ...options.headers }
    if (this.cookies.size > 0) headers.cookie = this.cookieHeader()
    if (method !== 'GET' && options.origin !== null) headers.origin = options.origin ?? ORIGIN
    if (options.body !== undefined) headers['content-type'] = 'application/json'
    const response = await this.#t.request({
      method,
      url,
      headers,
      ...(options.body === undefined ? {} : { payload: JSON.stringify(options.body) }),
    })
    for (const cookie of response.cookies) {
      const expired =
        cookie.maxAge === 0 ||
        (cookie.expires !== undefined && cookie.expires.getTime() < Date.now())
      if (expired || cookie.value === '') this.cookies.delete(cookie.name)
      else this.cookies.set(cookie.name, cookie.value)
    }
    return response
  }

  async register(
    email = `user-${Math.random().toString(36).slice(2)}@example.com`,
    password = 'correct horse battery',
  ): Promise<{ id: string; email: string }> {
    const response = await this.fetch('POST', '/api/auth/register', { body: { email, password } })
    if (response.statusCode !== 201) throw new Error(`register failed: ${response.body}`)
    return response.json<{ user: { id: string; email: string } }>().user
  }
}

/** Every media item of the signed-in person, page after page (`query`: `&platform=…` and such). */
export async function allMedia<T = { account_id: string; platform_media_id: string }>(
  browser: Browser,
  query = '',
): Promise<T[]> {
  const items: T[] = []
  let cursor: string | null = null
  for (let guard = 0; guard < 50; guard++) {
    const answer = await browser.fetch(
      'GET',
      `/api/socials/media?limit=100${query}${cursor === null ? '' : `&cursor=${cursor}`}`,
    )
    if (answer.statusCode !== 200) throw new Error(`media failed: ${answer.body}`)
    const page = answer.json<{ items: T[]; next_cursor: string | null }>()
    items.push(...page.items)
    cursor = page.next_cursor
    if (cursor === null) break
  }
  return items
}

/** Starts a connection and returns the state value and the authorize URL's query. */
export async function startConnect(
  browser: Browser,
  mode: 'popup' | 'redirect' = 'redirect',
  platform = 'instagram',
): Promise<{ url: URL; state: string }> {
  const response = await browser.fetch('POST', `/api/socials/connect/${platform}`, {
    body: { mode },
  })
  if (response.statusCode !== 200) throw new Error(`connect failed: ${response.body}`)
  const url = new URL(response.json<{ authorization_url: string }>().authorization_url)
  return { url, state: url.searchParams.get('state') ?? '' }
}

/** Presses Allow (or Deny) on the emulator's consent page; returns the redirect target path. */
export async function consent(
  t: TestApp,
  authorizeUrl: URL,
  decision: 'allow' | 'deny',
  userIndex = 1,
): Promise<string> {
  const form = new URLSearchParams(authorizeUrl.searchParams)
  form.set('decision', decision)
  form.set('user_index', String(userIndex))
  const response = await t.app.inject({
    method: 'POST',
    url: '/sandbox/instagram/oauth/authorize',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
    payload: form.toString(),
  })
  if (response.statusCode !== 302)
    throw new Error(`consent failed: ${response.statusCode} ${response.body}`)
  const location = new URL(String(response.headers.location))
  return `${location.pathname}${location.search}`
}

/**
 * Answers Google's consent page of the YouTube sandbox as Google account `account` (1: the demo
 * creator's channel; 2: a Google account without a channel), ticking `granted` (default: the
 * scope asked for). Returns the callback's path and query.
 */
export async function consentYoutube(
  t: TestApp,
  authorizeUrl: URL,
  options: { decision?: 'allow' | 'cancel'; account?: number; granted?: readonly string[] } = {},
): Promise<string> {
  return consentAt(t, authorizeUrl, options)
}

/** Connect YouTube → Allow on Google's page as `account` → callback. Returns the account id. */
export async function connectYoutube(t: TestApp, browser: Browser, account = 1): Promise<string> {
  return connectOn(t, browser, 'youtube', account)
}

/**
 * Answers the consent page of a sandbox emulator whose form posts back to its own path (YouTube's,
 * TikTok's and X's) as demo account `account`, ticking `granted` (default: every scope asked).
 * Returns the callback's path and query.
 */
export async function consentAt(
  t: TestApp,
  authorizeUrl: URL,
  options: { decision?: 'allow' | 'cancel'; account?: number; granted?: readonly string[] } = {},
): Promise<string> {
  const form = new URLSearchParams(authorizeUrl.searchParams)
  form.set('decision', options.decision ?? 'allow')
  form.set('account', String(options.account ?? 1))
  const asked = (authorizeUrl.searchParams.get('scope') ?? '').split(/[ ,]/)
  for (const scope of options.granted ?? asked) form.append('granted_scope', scope)
  const response = await t.app.inject({
    method: 'POST',
    url: authorizeUrl.pathname,
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
    payload: form.toString(),
  })
  if (response.statusCode !== 302)
    throw new Error(`consent failed: ${response.statusCode} ${response.body}`)
  const location = new URL(String(response.headers.location))
  return `${location.pathname}${location.search}`
}

/** Connect `platform` → Allow as demo account `account` → callback. Returns the account id. */
export async function connectOn(
  t: TestApp,
  browser: Browser,
  platform: string,
  account = 1,
): Promise<string> {
  const { url } = await startConnect(browser, 'redirect', platform)
  const response = await browser.fetch('GET', await consentAt(t, url, { account }))
  const location = String(response.headers.location)
  const id = new URL(location, ORIGIN).searchParams.get('account')
  if (response.statusCode !== 303 || id === null) throw new Error(`callback failed: ${location}`)
  return id
}

/** Register → connect → Allow → callback. Returns the new account id. */
export async function connectAccount(t: TestApp, browser: Browser, userIndex = 1): Promise<string> {
  const { url } = await startConnect(browser)
  const callback = await consent(t, url, 'allow', userIndex)
  const response = await browser.fetch('GET', callback)
  const location = String(response.headers.location)
  const account = new URL(location, ORIGIN).searchParams.get('account')
  if (response.statusCode !== 303 || account === null)
    throw new Error(`callback failed: ${location}`)
  return account
}

/** A test app with one registered person who connected one demo Instagram account. */
export async function connectedApp(
  t: TestContext,
  env: Record<string, string> = {},
  userIndex = 1,
): Promise<{ app: TestApp; browser: Browser; accountId: string; email: string }> {
  const app = await buildTestApp(t, env)
  const browser = new Browser(app)
  const { email } = await browser.register()
  const accountId = await connectAccount(app, browser, userIndex)
  return { app, browser, accountId, email }
}

export async function count(t: TestApp, table: string): Promise<number> {
  const row = (await t.raw(`SELECT COUNT(*) AS n FROM ${table}`))[0]
  return Number(row?.n ?? 0)
}

/** Instagram's answer when the user changed their password: 190 with subcode 460. */
export function passwordChangedFault(path?: string): Fault {
  return {
    kind: 'graph_error',
    code: 190,
    subcode: 460,
    message: 'Error validating access token',
    count: 1,
    ...(path === undefined ? {} : { path }),
  }
}
