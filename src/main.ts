/**
 * @module main — the process: read config once, open the store, build the app, listen, and
 * close everything cleanly on SIGINT/SIGTERM.
 *
 * Graceful stop (Cloud Run sends SIGTERM on every deploy and scale-in, and kills 10 s later): the
 * scheduler stops (no re-arm), the work in flight gets `STOP_DEADLINE_MS`, then every lease this
 * instance owns is released (so "Sync now" works at once on the next instance, rather than after
 * the lease expires), then the app and the store close. A jobs request arriving meanwhile gets 503.
 */
import { loadConfig } from './config/load-config.ts'
import { isGalleryError } from './errors.ts'
import { createLogger } from './log/logger.ts'
import { FernetKeyRing } from './crypto/fernet.ts'
import { loadOrCreateDevKey } from './crypto/dev-key.ts'
import { openStore } from './store/open-store.ts'
import { systemClock } from './clock.ts'
import { buildApp } from './app.ts'
import { openBlobStore } from './archive/blobs/open-blob-store.ts'
import { CONNECTABLE } from './providers/registry.ts'

/** How long in-flight jobs may go on after SIGTERM (Cloud Run allows 10 s in all). */
const STOP_DEADLINE_MS = 7_000

async function main(): Promise<void> {
  let config
  try {
    config = loadConfig(process.env)
  } catch (error) {
    process.stderr.write(`${isGalleryError(error) ? error.message : String(error)}\n`)
    process.exit(1)
  }
  const logger = createLogger({ level: config.logLevel })
  let keys = config.encryptionKeys
  if (keys === null) {
    const dev = loadOrCreateDevKey(config.dataDir)
    logger.warn(
      { path: dev.path, created: dev.created },
      dev.created
        ? 'SOCIAL_TOKEN_ENCRYPTION_KEY is not set: generated a development key and saved it (mode 0600); keep this file, tokens are unreadable without it'
        : 'SOCIAL_TOKEN_ENCRYPTION_KEY is not set: using the development key file',
    )
    keys = [dev.key]
  }
  const vault = new FernetKeyRing(keys)
  const store = await openStore(config.database)
  const clock = systemClock
  const firstKey = keys[0]
  // the media archive: a directory by default, S3-compatible storage with MEDIA_STORE_URL=s3://…
  const blobs = await openBlobStore(
    config.archive.store,
    config.archive.s3PathStyle ? { forcePathStyle: true } : {},
  )
  const app = await buildApp({
    config,
    store,
    blobs,
    vault,
    logger,
    clock,
    // the sandboxes' tokens outlive restarts: their secrets derive from the first key
    ...(firstKey === undefined ? {} : { sandboxSeed: firstKey }),
  })

  let closing = false
  let timer: NodeJS.Timeout | undefined
  const shutdown = (signal: string): void => {
    if (closing) return
    closing = true
    clearTimeout(timer)
    logger.info({ signal }, 'shutting down')
    app.jobs
      .stop(STOP_DEADLINE_MS)
      .then(({ finishedInTime, released }) =>
        logger.info({ finishedInTime, released }, 'jobs stopped and leases released'),
      )
      .then(() => app.close())
      .then(() => store.close())
      .then(() => blobs.close())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed')
        process.exit(1)
      })
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))

  await app.listen({ port: config.port, host: config.host })
  if (config.jobs.intervalSeconds > 0) {
    // In-process scheduler: run what is due (renewals, syncs, webhooks, purge) every interval,
    // with jitter so that many instances spread out; database leases keep them from doing the
    // same work twice.
    const run = (): void => {
      if (closing) return
      app.jobs.runner
        .runDue()
        .then((report) => logger.info({ report }, 'scheduled jobs ran'))
        .catch((error: unknown) => {
          if (!closing) logger.error({ err: error }, 'scheduled jobs failed')
        })
        .finally(() => {
          // stopping: the timer is not armed again
          if (closing) return
          const jitter = 0.8 + Math.random() * 0.4
          timer = setTimeout(run, config.jobs.intervalSeconds * 1000 * jitter)
          timer.unref()
        })
    }
    timer = setTimeout(run, 5_000)
    timer.unref()
  }
  // each connectable platform says how it is reached (the registry lists them)
  const modes: Record<string, string> = {}
  for (const platform of CONNECTABLE) {
    const { id, label } = platform.info
    const mode = (config.providers as Readonly<Record<string, { mode: string } | undefined>>)[id]
      ?.mode
    if (mode === undefined) continue
    modes[id] = mode
    if (mode === 'sandbox')
      logger.warn(
        `${label} sandbox: its OAuth credentials are not set, so the built-in emulator serves ${label} with demo accounts`,
      )
    else if (mode === 'unconfigured')
      logger.error(`${platform.notConfiguredMessage}; connecting answers 503 until then`)
  }
  logger.info(
    { url: config.publicUrl, database: config.database.kind, ...modes },
    'Phoenix Social Gallery is serving',
  )
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  )
  process.exit(1)
})
