/**
 * @module maintenance/archive — `npm run archive -- <status | verify | backfill | gc> [options]`:
 * looks after the media archive from the command line, reading DATABASE_URL, MEDIA_STORE_URL and
 * the ARCHIVE_* limits exactly as the service does (`loadConfig`).
 *
 * - `status [--json] [--top N]`: items and bytes per platform and state, videos per state, the
 *   blob table's totals, and the users holding the most bytes against ARCHIVE_MAX_MB_PER_USER.
 * - `verify [--json] [--requeue]`: reads every stored blob's original again (streamed) and checks
 *   its SHA-256 and size, and that every recorded size exists with its length; lists each corrupt
 *   or missing one. `--requeue` deletes a corrupt original and sends the items using these blobs
 *   back to `pending`, so that `backfill` (or the service) downloads them again. Exit code 1 when
 *   anything is wrong.
 * - `backfill [--max-minutes N]`: gives every media item without an archive row one (media synced
 *   before the archive existed), then runs the archiver here until nothing due is left (or the
 *   time is up). Safe beside a running service: both take leases on the rows they work on.
 * - `gc [--json] [--now]`: removes the blobs no item references, and temporary keys a crash left.
 *   A blob is kept for an hour after it was last written (`BLOB_GRACE_MS`: the service may be
 *   about to link it); `--now` drops that grace and is safe only while the service is stopped.
 *
 * Exit codes: 0 done, 1 failed (or `verify` found problems), 2 bad usage.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import { loadConfig, type Config } from '../config/load-config.ts'
import { DEV_KEY_FILE, loadOrCreateDevKey } from '../crypto/dev-key.ts'
import { createLogger } from '../log/logger.ts'
import { openStore } from '../store/open-store.ts'
import { newInstanceId } from '../store/leases.ts'
import type { BlobRecord, Store } from '../store/types.ts'
import { systemClock } from '../clock.ts'
import type { BlobStore } from '../archive/blobs/types.ts'
import { openBlobStore } from '../archive/blobs/open-blob-store.ts'
import { BLOB_GRACE_MS, collectGarbage, type Archiver } from '../archive/archiver.ts'
import { assembleArchiver, wireArchiveSources } from '../archive/assemble.ts'
import { originalKey, variantKey } from '../archive/keys.ts'
import { exitWith } from './command.ts'
import {
  createProgress,
  formatBytes,
  formatCount,
  formatDuration,
  type ProgressStream,
} from './progress.ts'

export const USAGE = `usage: npm run archive -- <command> [options]
  status   [--json] [--top N]       items, bytes and blobs; the largest archives
  verify   [--json] [--requeue]     re-hash every stored blob; --requeue sends bad ones back to pending
  backfill [--max-minutes N]        archive everything not archived yet, here and now
  gc       [--json] [--now]         remove unreferenced blobs (--now: without the 1-hour grace)`

export type ArchiveCommand =
  | { readonly command: 'status'; readonly json: boolean; readonly top: number }
  | { readonly command: 'verify'; readonly json: boolean; readonly requeue: boolean }
  | { readonly command: 'backfill'; readonly json: boolean; readonly maxMinutes: number | null }
  | { readonly command: 'gc'; readonly json: boolean; readonly now: boolean }

/** The command line read, or what is wrong with it (said before the usage). */
export function parseArchiveArgs(args: readonly string[]): ArchiveCommand | { error: string } {
  const [command, ...rest] = args
  const flags = new Map<string, string | true>()
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? ''
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg)
    if (match === null) return { error: `unexpected argument "${arg}"` }
    const [, name = '', value] = match
    const needsValue = name === 'top' || name === 'max-minutes'
    if (needsValue && value === undefined) {
      const next = rest[i + 1]
      if (next === undefined || next.startsWith('--')) return { error: `--${name} needs a number` }
      flags.set(name, next)
      i++
    } else flags.set(name, value ?? true)
  }
  const allowed: Record<string, readonly string[]> = {
    status: ['json', 'top'],
    verify: ['json', 'requeue'],
    backfill: ['json', 'max-minutes'],
    gc: ['json', 'now'],
  }
  if (command === undefined) return { error: 'no command given' }
  const known = allowed[command]
  if (known === undefined) return { error: `unknown command "${command}"` }
  for (const [name, value] of flags) {
    if (!known.includes(name)) return { error: `${command} does not take --${name}` }
    const numeric = name === 'top' || name === 'max-minutes'
    if (!numeric && value !== true) return { error: `--${name} takes no value` }
  }
  const number = (name: string, fallback: number | null): number | null | { error: string } => {
    const value = flags.get(name)
    if (value === undefined) return fallback
    const n = Number(value)
    if (typeof value !== 'string' || !/^\d+(\.\d+)?$/.test(value) || !(n > 0))
      return { error: `--${name} must be a positive number` }
    return n
  }
  const json = flags.has('json')
  switch (command) {
    case 'status': {
      const top = number('top', 10)
      if (top !== null && typeof top === 'object') return top
      return { command, json, top: Math.floor(top ?? 10) }
    }
    case 'verify':
      return { command, json, requeue: flags.has('requeue') }
    case 'backfill': {
      const maxMinutes = number('max-minutes', null)
      if (maxMinutes !== null && typeof maxMinutes === 'object') return maxMinutes
      return { command, json, maxMinutes }
    }
    default:
      return { command: 'gc', json, now: flags.has('now') }
  }
}

/** What a command runs against; `main` opens the real ones, tests may give their own. */
export interface ArchiveCommandEnv {
  readonly store: Store
  readonly blobs: BlobStore
  readonly config: Config
  readonly now: () => number
  /** Reports and progress (progress goes to `err` with `--json`). */
  readonly out: ProgressStream
  readonly err: ProgressStream
  /** The archiver `backfill` runs, made when it is needed. */
  readonly archiver: () => Promise<Archiver>
}

/** Runs `command`; resolves to its exit code. */
export async function runArchiveCommand(
  command: ArchiveCommand,
  env: ArchiveCommandEnv,
): Promise<number> {
  switch (command.command) {
    case 'status':
      return status(env, command.json, command.top)
    case 'verify':
      return verify(env, command.json, command.requeue)
    case 'backfill':
      return backfill(env, command.json, command.maxMinutes)
    case 'gc':
      return gc(env, command.json, command.now)
  }
}

/** Plain columns, left-aligned, two spaces apart. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

async function status(env: ArchiveCommandEnv, json: boolean, top: number): Promise<number> {
  const { store } = env
  const [items, videos, blobs, users] = await Promise.all([
    store.archiveStatus(),
    store.archiveVideoStatus(),
    store.blobTotals(),
    store.topArchiveUsers(top),
  ])
  const limit = env.config.archive.maxBytesPerUser
  const totalBlobs = blobs.reduce((n, b) => n + b.blobs, 0)
  const totalBytes = blobs.reduce((n, b) => n + b.bytes, 0)
  const share = (bytes: number) => Math.round((bytes / limit) * 1000) / 10
  if (json) {
    env.out.write(
      `${JSON.stringify({
        items,
        videos,
        blobs: { total_blobs: totalBlobs, total_bytes: totalBytes, by_kind: blobs },
        max_bytes_per_user: limit,
        users: users.map((u) => ({ ...u, percent_of_limit: share(u.bytes) })),
      })}\n`,
    )
    return 0
  }
  const sections = [
    'Archived items',
    items.length === 0
      ? '  (none yet)'
      : table(
          ['platform', 'state', 'items', 'bytes'],
          items.map((r) => [r.platform, r.state, formatCount(r.items), formatBytes(r.bytes)]),
        ),
    '',
    'Videos',
    videos.length === 0
      ? '  (none)'
      : table(
          ['platform', 'video', 'items'],
          videos.map((r) => [r.platform, r.video_state, formatCount(r.items)]),
        ),
    '',
    `Blobs: ${formatCount(totalBlobs)} holding ${formatBytes(totalBytes)}`,
    ...(blobs.length === 0
      ? []
      : [
          table(
            ['kind', 'state', 'blobs', 'bytes'],
            blobs.map((b) => [b.kind, b.state, formatCount(b.blobs), formatBytes(b.bytes)]),
          ),
        ]),
    '',
    `Largest archives (limit ${formatBytes(limit)} per user, ARCHIVE_MAX_MB_PER_USER)`,
    users.length === 0
      ? '  (none yet)'
      : table(
          ['user', 'items', 'bytes', 'of limit'],
          users.map((u) => [
            u.email,
            formatCount(u.items),
            formatBytes(u.bytes),
            `${share(u.bytes)}%`,
          ]),
        ),
  ]
  env.out.write(`${sections.join('\n')}\n`)
  return 0
}

/** One thing wrong with a blob. */
export interface BlobProblem {
  readonly sha256: string
  readonly kind: BlobRecord['kind']
  readonly key: string
  readonly problem: 'missing' | 'corrupt' | 'wrong_size'
  /** In plain words. */
  readonly detail: string
}

/** The original's SHA-256 and size, read as a stream; `null` when it is missing. */
async function hashObject(
  blobs: BlobStore,
  key: string,
): Promise<{ sha256: string; size: number } | null> {
  const got = await blobs.read(key)
  if (got === null) return null
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of got.body as AsyncIterable<Buffer>) {
    hash.update(chunk)
    size += chunk.length
  }
  return { sha256: hash.digest('hex'), size }
}

/** What is wrong with one stored blob's objects (empty: nothing). */
async function checkBlob(env: ArchiveCommandEnv, blob: BlobRecord): Promise<BlobProblem[]> {
  const problems: BlobProblem[] = []
  const say = (key: string, problem: BlobProblem['problem'], detail: string) =>
    problems.push({ sha256: blob.sha256, kind: blob.kind, key, problem, detail })
  const key = originalKey(blob.sha256)
  const original = await hashObject(env.blobs, key)
  let variantBytes = 0
  if (blob.kind === 'picture') {
    const row = await env.store.getArchiveByBlob(blob.sha256)
    for (const variant of row?.variants ?? []) {
      variantBytes += variant.bytes
      const vkey = variantKey(blob.sha256, variant.width, variant.format)
      const head = await env.blobs.head(vkey)
      if (head === null) say(vkey, 'missing', `the ${variant.width}px ${variant.format} is missing`)
      else if (head.size !== variant.bytes)
        say(
          vkey,
          'wrong_size',
          `the ${variant.width}px ${variant.format} has ${head.size} bytes, not ${variant.bytes}`,
        )
    }
  }
  if (original === null) say(key, 'missing', `the original ${blob.kind} is missing`)
  else if (original.sha256 !== blob.sha256)
    say(key, 'corrupt', `the original's content does not match its hash (${original.size} bytes)`)
  else if (blob.kind === 'video' && original.size !== blob.bytes)
    say(key, 'wrong_size', `the video has ${original.size} bytes, not ${blob.bytes}`)
  else if (
    blob.kind === 'picture' &&
    variantBytes > 0 &&
    original.size !== blob.bytes - variantBytes
  )
    say(
      key,
      'wrong_size',
      `the original has ${original.size} bytes, not ${blob.bytes - variantBytes}`,
    )
  return problems.sort((x, y) => (x.key < y.key ? -1 : 1))
}

async function verify(env: ArchiveCommandEnv, json: boolean, requeue: boolean): Promise<number> {
  const totals = await env.store.blobTotals()
  const stored = totals.filter((b) => b.state === 'stored').reduce((n, b) => n + b.blobs, 0)
  const progress = createProgress({
    label: 'verify',
    total: stored,
    stream: json ? env.err : env.out,
    now: env.now,
  })
  const problems: BlobProblem[] = []
  let checked = 0
  let skipped = 0
  let after: string | null = null
  for (;;) {
    const page = await env.store.listBlobs(after, 200)
    for (const blob of page) {
      // reserved, its objects still being written (or never were): nothing to check yet
      if (blob.bytes === 0) skipped++
      else {
        problems.push(...(await checkBlob(env, blob)))
        checked++
      }
      progress.tick()
    }
    const last = page.at(-1)
    if (last === undefined || page.length < 200) break
    after = last.sha256
  }
  progress.done()
  const bad = [...new Set(problems.map((p) => p.sha256))]
  let requeued = 0
  if (requeue && bad.length > 0) {
    // a corrupt original would be kept as it is (a video found stored is not written again)
    for (const p of problems)
      if (p.problem !== 'missing' && p.key === originalKey(p.sha256)) await env.blobs.delete(p.key)
    requeued = await env.store.requeueArchives(bad, env.now())
  }
  if (json) {
    env.out.write(
      `${JSON.stringify({ checked, skipped, bad_blobs: bad.length, problems, ...(requeue ? { requeued } : {}) })}\n`,
    )
  } else {
    const lines = problems.map((p) => `${p.sha256}  ${p.kind}  ${p.key}: ${p.detail}`)
    lines.push(
      bad.length === 0
        ? `verify: ${formatCount(checked)} blobs checked, all intact${skipped > 0 ? ` (${skipped} still being written, skipped)` : ''}`
        : `verify: ${formatCount(checked)} blobs checked, ${bad.length} corrupt or missing`,
    )
    if (bad.length > 0)
      lines.push(
        requeue
          ? `${requeued} items using them are pending again: run \`npm run archive -- backfill\` (or let the service's archiver run) to download them again`
          : 'To repair: run `npm run archive -- verify --requeue` (deletes the corrupt originals and sends the items using these blobs back to pending), then `npm run archive -- backfill`',
      )
    env.out.write(`${lines.join('\n')}\n`)
  }
  return bad.length === 0 ? 0 : 1
}

async function backfill(
  env: ArchiveCommandEnv,
  json: boolean,
  maxMinutes: number | null,
): Promise<number> {
  const say = (text: string) => {
    if (!json) env.out.write(`${text}\n`)
  }
  const started = env.now()
  let queued = 0
  for (;;) {
    const n = await env.store.enqueueArchiving(env.now(), 1000)
    if (n === 0) break
    queued += n
  }
  const pendingNow = async () =>
    (await env.store.archiveStatus())
      .filter((r) => r.state === 'pending')
      .reduce((n, r) => n + r.items, 0)
  const pending = await pendingNow()
  say(`backfill: ${formatCount(queued)} items queued; ${formatCount(pending)} pending in all`)
  const archiver = await env.archiver()
  const progress = createProgress({
    label: 'backfill',
    total: pending,
    stream: json ? env.err : env.out,
    now: env.now,
  })
  const deadline = maxMinutes === null ? Infinity : started + maxMinutes * 60_000
  const sum = { stored: 0, failed: 0, retried: 0 }
  let timedOut = false
  for (;;) {
    if (env.now() >= deadline) {
      timedOut = true
      break
    }
    const report = await archiver.runDue()
    sum.stored += report.stored
    sum.failed += report.failed
    sum.retried += report.retried
    progress.tick(report.stored + report.failed)
    // nothing was due (what is left waits for a retry, or is another instance's right now)
    if (report.queued + report.stored + report.failed + report.retried === 0) break
  }
  progress.done()
  const left = await pendingNow()
  if (json)
    env.out.write(`${JSON.stringify({ queued, ...sum, pending: left, timed_out: timedOut })}\n`)
  else
    say(
      `backfill: ${formatCount(sum.stored)} archived, ${formatCount(sum.failed)} failed for good, ${formatCount(sum.retried)} attempts to retry later; ${formatCount(left)} still pending${
        timedOut
          ? ` (stopped after ${formatDuration(maxMinutes === null ? 0 : maxMinutes * 60_000)}: run it again to go on)`
          : left > 0
            ? ' (waiting for a retry or for another instance; the service archives them in time)'
            : ''
      }`,
    )
  return 0
}

async function gc(env: ArchiveCommandEnv, json: boolean, now: boolean): Promise<number> {
  const graceMs = now ? 0 : BLOB_GRACE_MS
  let removed = 0
  let freed = 0
  let tempKeys = 0
  for (;;) {
    const report = await collectGarbage(env.store, env.blobs, env.now(), graceMs, 100)
    removed += report.blobs.length
    freed += report.blobs.reduce((n, b) => n + b.bytes, 0)
    tempKeys += report.tempKeys
    if (report.blobs.length < 100) break
  }
  if (json)
    env.out.write(
      `${JSON.stringify({ removed_blobs: removed, freed_bytes: freed, temp_keys: tempKeys, grace_ms: graceMs })}\n`,
    )
  else
    env.out.write(
      `gc: ${formatCount(removed)} unreferenced blobs removed (${formatBytes(freed)} freed), ${formatCount(tempKeys)} stale temporary keys dropped\n${
        now
          ? 'gc: --now removed blobs however recently written: if the service was running, run `npm run archive -- verify`\n'
          : `gc: blobs written less than ${formatDuration(BLOB_GRACE_MS)} ago are kept (the service may be about to use them); --now removes them too, while the service is stopped\n`
      }`,
    )
  return 0
}

/**
 * Why the configured media store cannot be used here, or `null`: a folder that does not exist
 * means nothing was ever archived with this configuration (the service creates it).
 */
function missingStore(config: Config, env: NodeJS.ProcessEnv): string | null {
  const location = config.archive.store
  if (location.kind !== 'local' || existsSync(location.path)) return null
  return env.MEDIA_STORE_URL === undefined || env.MEDIA_STORE_URL === ''
    ? `No media archive here: MEDIA_STORE_URL is not set and the default folder ${location.path} does not exist. Set MEDIA_STORE_URL (and DATA_DIR, DATABASE_URL) as the service has them.`
    : `The media store folder ${location.path} (MEDIA_STORE_URL) does not exist. Check MEDIA_STORE_URL, or start the service once to create it.`
}

/** The sandbox emulators' seed, as main.ts derives it (without creating a development key). */
function sandboxSeed(config: Config): string | undefined {
  const first = config.encryptionKeys?.[0]
  if (first !== undefined) return first
  if (existsSync(resolve(config.dataDir, DEV_KEY_FILE)))
    return loadOrCreateDevKey(config.dataDir).key
  return undefined
}

async function main(): Promise<number> {
  const parsed = parseArchiveArgs(process.argv.slice(2))
  if ('error' in parsed) {
    process.stderr.write(`archive: ${parsed.error}\n${USAGE}\n`)
    return 2
  }
  const config = loadConfig(process.env)
  const missing = missingStore(config, process.env)
  if (missing !== null) {
    process.stderr.write(`${missing}\n`)
    return 1
  }
  const store = await openStore(config.database)
  let closeWiring = async (): Promise<void> => {}
  try {
    const blobs = await openBlobStore(
      config.archive.store,
      config.archive.s3PathStyle ? { forcePathStyle: true } : {},
    )
    try {
      return await runArchiveCommand(parsed, {
        store,
        blobs,
        config,
        now: () => systemClock.now(),
        out: process.stdout,
        err: process.stderr,
        async archiver() {
          // a Fastify instance that never listens: sandbox emulators are mounted on it
          const host = Fastify({ logger: false })
          closeWiring = () => host.close()
          const seed = sandboxSeed(config)
          const sources = await wireArchiveSources({
            app: host,
            config,
            clock: systemClock,
            ...(seed === undefined ? {} : { sandboxSeed: seed }),
          })
          return assembleArchiver({
            config,
            store,
            blobs,
            clock: systemClock,
            logger: createLogger({ level: 'warn', destination: process.stderr }),
            sources,
            instanceId: newInstanceId(),
          })
        },
      })
    } finally {
      await closeWiring()
      await blobs.close()
    }
  } finally {
    await store.close()
  }
}

// run as a command (`npm run archive`), not when a test imports it
if (resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url))
  exitWith('The archive command failed', main)
