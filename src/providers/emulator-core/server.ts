/**
 * @module providers/emulator-core/server — the standalone runner behind `npm run emulator`: one
 * emulator plugin on its own port, so the app (or anything else) can be pointed at it as if it
 * were the platform's servers. It prints what the platform's banner says once listening (the base
 * URL is only known then: port 0 picks a free one), and closes on SIGINT/SIGTERM.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { createLogger } from '../../log/logger.ts'
import { CONTROL_PREFIX, MIN_CONTROL_TOKEN_LENGTH, createControlToken } from './control-plugin.ts'

/** Writes `message` to stderr and exits with status 1 (bad environment). */
export function fail(message: string): never {
  process.stderr.write(`${message}\n`)
  process.exit(1)
}

/** What every standalone emulator reads from its environment. */
export interface StandaloneSettings {
  readonly port: number
  readonly host: string
  readonly clientId: string
  readonly clientSecret: string
  /** Whether the secret is the emulator's public default (the banner then shows it). */
  readonly defaultSecret: boolean
  readonly redirectUris: string[]
  readonly controlToken: string
}

/**
 * `EMULATOR_PORT`, `EMULATOR_HOST` (127.0.0.1), `EMULATOR_CLIENT_ID`, `EMULATOR_CLIENT_SECRET`,
 * `EMULATOR_REDIRECT_URIS` (comma-separated) and `EMULATOR_CONTROL_TOKEN` (at least 32
 * characters; random per process when unset), with the platform's defaults; a bad value exits.
 */
export function standaloneSettings(
  env: NodeJS.ProcessEnv,
  defaults: {
    readonly port: number
    readonly clientId: string
    readonly clientSecret: string
    readonly redirectUri: string
  },
): StandaloneSettings {
  const port = Number(env.EMULATOR_PORT ?? defaults.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail('EMULATOR_PORT must be a port number')
  const controlToken = env.EMULATOR_CONTROL_TOKEN ?? createControlToken()
  if (controlToken.length < MIN_CONTROL_TOKEN_LENGTH || /\s/.test(controlToken))
    fail(
      `EMULATOR_CONTROL_TOKEN must be at least ${MIN_CONTROL_TOKEN_LENGTH} characters, no spaces`,
    )
  return {
    port,
    host: env.EMULATOR_HOST ?? '127.0.0.1',
    clientId: env.EMULATOR_CLIENT_ID ?? defaults.clientId,
    // the emulator's default secret is public on purpose: it guards nothing but demo data
    clientSecret: env.EMULATOR_CLIENT_SECRET ?? defaults.clientSecret,
    defaultSecret: env.EMULATOR_CLIENT_SECRET === undefined,
    redirectUris: (env.EMULATOR_REDIRECT_URIS ?? defaults.redirectUri)
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== ''),
    controlToken,
  }
}

/** The banner's last lines: the control API, and its token unless the environment chose it. */
export function controlBanner(base: string, settings: StandaloneSettings): string[] {
  return [
    `Control API at ${base}${CONTROL_PREFIX} (loopback Host only, JSON only), with Authorization: Bearer <token>:`,
    process.env.EMULATOR_CONTROL_TOKEN === undefined
      ? `  EMULATOR_CONTROL_TOKEN=${settings.controlToken}`
      : '  EMULATOR_CONTROL_TOKEN=<your EMULATOR_CONTROL_TOKEN>',
    '',
  ]
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
