/**
 * TikTok's webhook signature (`TikTok-Signature: t=…,s=…`), checked over the raw body before
 * anything is read: the right secret and bytes pass; another body, secret or timestamp, a stale
 * or far-future timestamp, and malformed headers are refused with a fixed reason.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_WEBHOOK_AGE_MS, verifyTiktokSignature } from '../../src/providers/tiktok/inbound.ts'
import { tiktokSignature } from '../../src/providers/tiktok/emulator/webhook.ts'
import { isGalleryError } from '../../src/errors.ts'

const SECRET = 'tiktok-client-secret-0123456789'
const NOW = Date.UTC(2026, 11, 2, 12)
const BODY = JSON.stringify({ event: 'authorization.removed', user_openid: '-000abc' })

function refusedWith(reason: RegExp) {
  return (error: unknown) => {
    assert.ok(isGalleryError(error))
    assert.equal(error.code, 'ERR_UNAUTHENTICATED')
    assert.match(error.message, reason)
    assert.ok(!error.message.includes(SECRET))
    return true
  }
}

test('a delivery signed as TikTok signs it passes', () => {
  const header = tiktokSignature(SECRET, Math.floor(NOW / 1000), BODY)
  assert.doesNotThrow(() => verifyTiktokSignature(header, BODY, SECRET, NOW))
  // TikTok's own order may differ; spaces after commas are tolerated
  const [t, s] = header.split(',')
  assert.doesNotThrow(() => verifyTiktokSignature(`${s}, ${t}`, BODY, SECRET, NOW))
})

test('another body, secret or timestamp is a bad signature', () => {
  const seconds = Math.floor(NOW / 1000)
  const header = tiktokSignature(SECRET, seconds, BODY)
  assert.throws(
    () => verifyTiktokSignature(header, `${BODY} `, SECRET, NOW),
    refusedWith(/bad signature/),
  )
  assert.throws(
    () => verifyTiktokSignature(header, BODY, `${SECRET}x`, NOW),
    refusedWith(/bad signature/),
  )
  const moved = header.replace(`t=${seconds}`, `t=${seconds - 1}`)
  assert.throws(() => verifyTiktokSignature(moved, BODY, SECRET, NOW), refusedWith(/bad signature/))
})

test('stale and far-future timestamps are refused, even correctly signed (no replays)', () => {
  const old = Math.floor((NOW - MAX_WEBHOOK_AGE_MS - 1000) / 1000)
  assert.throws(
    () => verifyTiktokSignature(tiktokSignature(SECRET, old, BODY), BODY, SECRET, NOW),
    refusedWith(/stale/),
  )
  const ahead = Math.floor((NOW + 5 * 60_000) / 1000)
  assert.throws(
    () => verifyTiktokSignature(tiktokSignature(SECRET, ahead, BODY), BODY, SECRET, NOW),
    refusedWith(/stale/),
  )
})

test('missing and malformed headers are refused', () => {
  for (const header of [
    undefined,
    '',
    't=1',
    's=00',
    't=abc,s=' + '0'.repeat(64),
    `t=${Math.floor(NOW / 1000)},s=${'g'.repeat(64)}`,
    `t=${Math.floor(NOW / 1000)},s=${'0'.repeat(63)}`,
    'x'.repeat(300),
    ['t=1', 's=2'],
  ])
    assert.throws(() => verifyTiktokSignature(header, BODY, SECRET, NOW), refusedWith(/signature/))
})
