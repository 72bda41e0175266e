import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { createLogger, pathOnly, redactText } from '../../src/log/logger.ts'

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
  const lines: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _e, done) {
      lines.push(chunk.toString())
      done()
    },
  })
  const logger = createLogger({ level: 'info', destination })
  logger.info({ data: { access_token: 'IGAAsecret', code: 'AQBcode', password: 'hunter22' } }, 'x')
  logger.error(
    { err: new Error('fetch https://x/?access_token=IGAAzzzzzzzzzzzzzzzzzzzz failed') },
    'y',
  )
  const text = lines.join('')
  for (const leaked of ['IGAAsecret', 'AQBcode', 'hunter22', 'IGAAzzzz'])
    assert.equal(text.includes(leaked), false, leaked)
  assert.match(text, /\[REDACTED\]/)
})
