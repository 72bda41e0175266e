/**
 * @module emulator/main — `npm run emulator`: the Instagram emulator on its own port, so the app
 * (or anything else) can be pointed at it as if it were Meta's servers. It prints the variables
 * that point the app at it. The clock is movable through `POST /_control/clock`.
 *
 * Environment (all optional): EMULATOR_PORT (8081), EMULATOR_HOST (127.0.0.1),
 * EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET, EMULATOR_REDIRECT_URIS (comma-separated),
 * EMULATOR_TOKEN_SHAPE (flat | wrapped), EMULATOR_LATENCY_MS.
 */
import Fastify from 'fastify'
import { createManualClock } from '../clock.ts'
import { createEmulator } from './emulator.ts'
import { createLogger } from '../log/logger.ts'

function fail(message: string): never {
  process.stderr.write(`${message}\n`)
  process.exit(1)
}

const env = process.env
const port = Number(env.EMULATOR_PORT ?? 8081)
const host = env.EMULATOR_HOST ?? '127.0.0.1'
if (!Number.isInteger(port) || port < 0 || port > 65535) fail('EMULATOR_PORT must be a port number')
const latency = Number(env.EMULATOR_LATENCY_MS ?? 0)
if (!Number.isFinite(latency) || latency < 0)
  fail('EMULATOR_LATENCY_MS must be a number of milliseconds')
const shape = env.EMULATOR_TOKEN_SHAPE ?? 'flat'
if (shape !== 'flat' && shape !== 'wrapped') fail('EMULATOR_TOKEN_SHAPE must be flat or wrapped')

const clientId = env.EMULATOR_CLIENT_ID ?? 'emulator-instagram-app'
// The emulator's default secret is public on purpose: it guards nothing but demo data.
const clientSecret = env.EMULATOR_CLIENT_SECRET ?? 'emulator-client-secret'
const redirectUris = (
  env.EMULATOR_REDIRECT_URIS ?? 'http://localhost:8080/api/socials/oauth/instagram/callback'
)
  .split(',')
  .map((u) => u.trim())
  .filter((u) => u !== '')

const app = Fastify({ loggerInstance: createLogger({ level: env.LOG_LEVEL ?? 'info' }) })
let base = `http://${host}:${port}`
const emulator = createEmulator({
  clock: createManualClock(),
  baseUrl: () => base,
  clientId,
  clientSecret,
  redirectUris,
  tokenResponseShape: shape,
  latencyMs: latency,
})
await app.register(emulator.plugin)
const address = await app.listen({ port, host })
base = address.replace('[::1]', 'localhost')
process.stdout.write(
  [
    `Instagram emulator listening on ${base}`,
    'Point the app at it with:',
    `  INSTAGRAM_CLIENT_ID=${clientId}`,
    env.EMULATOR_CLIENT_SECRET === undefined
      ? `  INSTAGRAM_CLIENT_SECRET=${clientSecret}`
      : '  INSTAGRAM_CLIENT_SECRET=<your EMULATOR_CLIENT_SECRET>',
    `  INSTAGRAM_AUTHORIZE_URL=${base}/oauth/authorize`,
    `  INSTAGRAM_TOKEN_URL=${base}/oauth/access_token`,
    `  INSTAGRAM_GRAPH_URL=${base}/graph`,
    `  (registered redirect URIs: ${redirectUris.join(', ')})`,
    '',
  ].join('\n'),
)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    void app.close().then(() => process.exit(0))
  })
}
