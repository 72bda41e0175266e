import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, connect } from 'node:net'
import { Writable } from 'node:stream'
import pg from 'pg'
import { createLogger, pathOnly, redactText } from '../../src/log/logger.ts'
import { GalleryError } from '../../src/errors.ts'
import { connectedApp, passwordChangedFault } from '../helpers/build-app.ts'

/** A logger writing into an array of parsed lines. */
function collectingLogger(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _e, done) {
      lines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((l) => l !== ''),
      )
      done()
    },
  })
  return { logger: createLogger({ level: 'info', destination }), lines }
}

function parsed(line: string | undefined): Record<string, unknown> {
  assert.ok(line !== undefined, 'a log line')
  return JSON.parse(line) as Record<string, unknown>
}

/** A real ECONNREFUSED: a connection to a port nobody listens on any more. */
async function connectionRefused(): Promise<Error> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  assert.ok(address !== null && typeof address === 'object')
  server.close()
  await once(server, 'close')
  const socket = connect(address.port, '127.0.0.1')
  const [error] = (await once(socket, 'error')) as [Error]
  return error
}

test('redactText scrubs secret-bearing query parameters and token shapes', () => {
  const text =
    'GET https://graph.instagram.com/v24.0/me?fields=id&access_token=IGAAabcdefghijklmnopqrstuvwxyz0123 failed; code=AQBxyz&state=abc client_secret=s3cr3t gAAAAABkAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='
  const out = redactText(text)
  for (const leaked of ['IGAAabcdef', 'AQBxyz', 'state=abc', 's3cr3t', 'gAAAAABk'])
    assert.equal(out.includes(leaked), false, leaked)
  assert.match(out, /fields=id/)
})

test('pathOnly drops query strings', () => {
  assert.equal(
    pathOnly('/api/socials/oauth/instagram/callback?code=x&state=y'),
    '/api/socials/oauth/instagram/callback?[REDACTED]',
  )
  assert.equal(pathOnly('/healthz'), '/healthz')
})

test('the logger redacts known fields and error messages', () => {
  const { logger, lines } = collectingLogger()
  logger.info({ data: { access_token: 'IGAAsecret', password: 'hunter22' } }, 'x')
  logger.error(
    { err: new Error('fetch https://x/?access_token=IGAAzzzzzzzzzzzzzzzzzzzz failed') },
    'y',
  )
  const text = lines.join('')
  for (const leaked of ['IGAAsecret', 'hunter22', 'IGAAzzzz'])
    assert.equal(text.includes(leaked), false, leaked)
  assert.match(text, /\[REDACTED\]/)
})

test('a logged error keeps its code: GalleryError, Node system error, PostgreSQL error', async () => {
  const { logger, lines } = collectingLogger()
  const refused = await connectionRefused()
  assert.equal((refused as NodeJS.ErrnoException).code, 'ECONNREFUSED')
  const duplicate = new pg.DatabaseError(
    'duplicate key value violates unique constraint "users_email_unique"',
    120,
    'error',
  )
  duplicate.code = '23505'
  const errors: [Error, string][] = [
    [
      new GalleryError('ERR_PROVIDER_UNAVAILABLE', 'Instagram is unavailable'),
      'ERR_PROVIDER_UNAVAILABLE',
    ],
    [refused, 'ECONNREFUSED'],
    [duplicate, '23505'],
  ]
  for (const [error, code] of errors) {
    logger.error({ err: error }, 'failed') // the usual form
    logger.error(error) // pino's shorthand: the error is the merging object
    logger.warn({ accountId: 'a', code, err: error }, 'sync failed') // sync-service's form
  }
  assert.equal(lines.length, 9)
  for (const [i, line] of lines.entries()) {
    const entry = parsed(line)
    const expected = errors[Math.floor(i / 3)]?.[1]
    const err = entry.err as { code?: unknown; type?: unknown; message?: unknown } | undefined
    // the shorthand form puts the error's fields at the top level
    const code = err === undefined ? entry.code : err.code
    assert.equal(code, expected, line)
  }
  assert.equal(lines.join('\n').includes('[REDACTED]'), false)
})

test('harmless nested code and state fields survive; tokens and OAuth parameters do not', () => {
  const { logger, lines } = collectingLogger()
  logger.info(
    {
      result: { ok: false, code: 'invalid_state' },
      account: { id: 'a1', state: 'active' },
      report: { purged: { state: 3 } },
    },
    'harmless',
  )
  const harmless = parsed(lines[0])
  assert.deepEqual(harmless.result, { ok: false, code: 'invalid_state' })
  assert.deepEqual(harmless.account, { id: 'a1', state: 'active' })
  assert.deepEqual(harmless.report, { purged: { state: 3 } })

  const code = `AQB${'x1Y2z3'.repeat(12)}`
  const state = 'Zk3mQ0pT9vX2wL8rB5nC1yH6jF4dS7aE0uI3oP9qW2e'
  const token = `IGAA${'t0k3n'.repeat(10)}`
  const secrets = [code, state, token, 's3cr3t-value', 'hunter22']
  // every place an OAuth code, state or token can reach a log line
  logger.info({ req: { method: 'GET', url: `/cb?code=${code}&state=${state}` } }, 'a request')
  logger.info({ query: { code, state } }, 'callback parameters')
  logger.info({ request: { query: { code, state } } }, 'nested callback parameters')
  logger.info(
    {
      access_token: token,
      token,
      secret: 's3cr3t-value',
      password: 'hunter22',
      exchange: { access_token: token, accessToken: token, token, client_secret: 's3cr3t-value' },
      account: { encrypted_access_token: token },
    },
    'token fields',
  )
  logger.error(
    {
      err: new Error(`token exchange failed: POST /oauth/access_token code=${code}&state=${state}`),
    },
    'exchange failed',
  )
  logger.error({ err: new Error(`Graph said no to ${token} (code ${code})`) }, 'graph failed')
  assert.equal(lines.length, 7)
  const text = lines.join('\n')
  for (const secret of secrets)
    assert.equal(text.includes(secret), false, `leaked: ${secret.slice(0, 6)}…`)
  const fields = parsed(lines[4])
  assert.equal(fields.token, '[REDACTED]')
  assert.deepEqual(parsed(lines[3]).request, {
    query: { code: '[REDACTED]', state: '[REDACTED]' },
  })
})

test('the app logs the code of a failed sync', async (t) => {
  const { app, browser, accountId } = await connectedApp(t)
  app.emulator.state.faults.push(passwordChangedFault())
  const response = await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
  assert.equal(response.statusCode >= 400, true)
  const failed = app.logs.map(parsed).find((entry) => entry.msg === 'sync failed')
  assert.ok(failed !== undefined, 'a "sync failed" line')
  const err = failed.err as { code?: unknown; type?: unknown }
  assert.equal(err.type, 'GalleryError')
  assert.equal(err.code, failed.code)
  assert.match(String(err.code), /^ERR_[A-Z_]+$/)
})

test('the credential fields of every platform are redacted by name, at the top and one level down', () => {
  const { logger, lines } = collectingLogger()
  // values of no known token shape: only the field names can catch them
  const values = {
    encrypted_credentials: 'sealed-credentials-value-1',
    refresh_token: 'refresh-value-2',
    refreshToken: 'refresh-value-3',
    code_verifier: 'verifier-value-4',
    codeVerifier: 'verifier-value-5',
    encrypted_code_verifier: 'sealed-verifier-value-6',
  }
  logger.info({ ...values, account: { ...values }, credentials: { ...values } }, 'credentials')
  const text = lines.join('\n')
  for (const value of Object.values(values))
    assert.equal(text.includes(value), false, `leaked: ${value}`)
})
