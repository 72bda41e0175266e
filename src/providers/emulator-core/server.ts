/**
 * @module providers/emulator-core/server — the standalone runner behind `npm run emulator`: one
 * emulator plugin on its own port, so the app (or anything else) can be pointed at it as if it
 * were the platform's servers. It prints what the platform's banner says once listening (the base
 * URL is only known then: port 0 picks a free one), and closes on SIGINT/SIGTERM.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { createLogger } from '../../log/logger.ts'

/** Writes `message` to stderr and exits with status 1 (bad environment). */
export function fail(message: string): never {
  process.stderr.write(`${message}\n`)
  process.exit(1)
}

export interface EmulatorServerOptions {
  readonly port: number
  readonly host: string
  readonly logLevel: string
  /** The standalone emulator: its platform-facing routes and its gated control API. */
  readonly plugin: (app: FastifyInstance) => Promise<void>
  /** Told the base URL once listening (`[::1]` shown as `localhost`); returns the banner lines. */
  readonly onListening: (base: string) => readonly string[]
}

/** Serves `plugin`, prints the banner, and closes the server on SIGINT/SIGTERM. */
export async function runEmulatorServer(options: EmulatorServerOptions): Promise<void> {
  const app = Fastify({ loggerInstance: createLogger({ level: options.logLevel }) })
  await app.register(options.plugin)
  const address = await app.listen({ port: options.port, host: options.host })
  const base = address.replace('[::1]', 'localhost')
  process.stdout.write(options.onListening(base).join('\n'))
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      void app.close().then(() => process.exit(0))
    })
  }
}
