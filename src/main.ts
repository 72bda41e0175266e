/**
 * @module main — the process: read config once, open the store, build the app, listen, and
 * close everything cleanly on SIGINT/SIGTERM.
 */
import { loadConfig } from './config/load-config.ts'
import { isGalleryError } from './errors.ts'
import { createLogger } from './log/logger.ts'
import { FernetKeyRing } from './crypto/fernet.ts'
import { loadOrCreateDevKey } from './crypto/dev-key.ts'
import { openStore } from './store/open-store.ts'
import { createSandbox } from './emulator/sandbox.ts'
import { systemClock } from './clock.ts'
import { buildApp } from './app.ts'

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
  const sandbox =
    config.instagramMode === 'sandbox'
      ? createSandbox({ config, clock, ...(firstKey === undefined ? {} : { seed: firstKey }) })
      : undefined
  const app = await buildApp({
    config,
    store,
    vault,
    logger,
    clock,
    ...(sandbox === undefined ? {} : { sandbox }),
  })

  let closing = false
  const shutdown = (signal: string): void => {
    if (closing) return
    closing = true
    logger.info({ signal }, 'shutting down')
    app
      .close()
      .then(() => store.close())
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
      app.jobs.runner
        .runDue()
        .then((report) => logger.info({ report }, 'scheduled jobs ran'))
        .catch((error: unknown) => logger.error({ err: error }, 'scheduled jobs failed'))
        .finally(() => {
          const jitter = 0.8 + Math.random() * 0.4
          timer = setTimeout(run, config.jobs.intervalSeconds * 1000 * jitter)
          timer.unref()
        })
    }
    let timer = setTimeout(run, 5_000)
    timer.unref()
  }
  if (config.instagramMode === 'sandbox') {
    logger.warn(
      'Instagram sandbox: INSTAGRAM_CLIENT_ID/INSTAGRAM_CLIENT_SECRET are not set, so the built-in emulator serves Instagram with demo accounts',
    )
  } else if (config.instagramMode === 'unconfigured') {
    logger.error(
      'Instagram OAuth not configured: set INSTAGRAM_CLIENT_ID, INSTAGRAM_CLIENT_SECRET and INSTAGRAM_REDIRECT_URI; connecting answers 503 until then',
    )
  }
  logger.info(
    { url: config.publicUrl, database: config.database.kind, instagram: config.instagramMode },
    'Phoenix Social Gallery is serving',
  )
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  )
  process.exit(1)
})
