import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import {
  SIGNED_REQUEST_MAX_AGE_SECONDS,
  SIGNED_REQUEST_MAX_FUTURE_SECONDS,
  signRequest,
  verifySignedRequest,
} from '../../src/providers/instagram/signed-request.ts'

const SECRET = 'app-secret'
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0)
const NOW_S = NOW / 1000
const sign = (payload: Record<string, unknown>) => signRequest(payload, SECRET)
const request = (issuedAt: unknown) =>
  sign({ algorithm: 'HMAC-SHA256', user_id: '17841457215396812', issued_at: issuedAt })

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
/** The other spellings of a base64url segment: same bytes, non-zero unused low bits at the end. */
function otherSpellings(segment: string): string[] {
  const unusedBits = (6 * segment.length) % 8
  const last = ALPHABET.indexOf(segment.at(-1) ?? '')
  const spellings: string[] = []
  for (let low = 1; low < 1 << unusedBits; low++)
    spellings.push(segment.slice(0, -1) + (ALPHABET[last ^ low] ?? ''))
  return spellings
}

test('signed_request freshness: 5 minutes back, 60 s ahead, by the clock given (F6)', () => {
  assert.equal(SIGNED_REQUEST_MAX_AGE_SECONDS, 300)
  assert.equal(SIGNED_REQUEST_MAX_FUTURE_SECONDS, 60)
  assert.deepEqual(verifySignedRequest(request(NOW_S), SECRET, NOW), {
    userId: '17841457215396812',
    issuedAt: NOW_S,
  })
  // the edges hold; one second beyond them does not
  assert.equal(verifySignedRequest(request(NOW_S - 300), SECRET, NOW).issuedAt, NOW_S - 300)
  assert.equal(verifySignedRequest(request(NOW_S + 60), SECRET, NOW).issuedAt, NOW_S + 60)
  assert.throws(
    () => verifySignedRequest(request(NOW_S - 301), SECRET, NOW),
    /^GalleryError: signed_request is too old \(issued more than 5 minutes ago\)$/,
  )
  assert.throws(
    () => verifySignedRequest(request(1262304000), SECRET, NOW),
    /too old/,
    'the red team’s request dated 2010-01-01',
  )
  assert.throws(
    () => verifySignedRequest(request(NOW_S + 120), SECRET, NOW),
    /signed_request is dated in the future \(more than 60 seconds ahead/,
  )
  // the same request is fine at the time it was made: the clock is the caller's
  assert.equal(
    verifySignedRequest(request(1262304000), SECRET, 1262304000_000).issuedAt,
    1262304000,
  )
})

test('signed_request without a whole-number issued_at is refused, saying so (F6)', () => {
  const noTime = sign({ algorithm: 'HMAC-SHA256', user_id: '1' })
  for (const value of [
    noTime,
    request(String(NOW_S)),
    request(NOW_S + 0.5),
    request(null),
    request(1e300),
  ]) {
    assert.throws(
      () => verifySignedRequest(value, SECRET, NOW),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ERR_VALIDATION')
        assert.equal(
          error.message,
          'signed_request has no issued_at time (a whole number of seconds)',
        )
        return true
      },
    )
  }
})

test('freshness is only judged on a genuine request: forgeries stay one generic error', () => {
  const forged = signRequest(
    { algorithm: 'HMAC-SHA256', user_id: '1', issued_at: 1 },
    'not-the-secret',
  )
  assert.throws(
    () => verifySignedRequest(forged, SECRET, NOW),
    /^GalleryError: Invalid signed_request$/,
  )
})

test('one spelling per signature: flipped unused low bits are refused (F10)', () => {
  const good = request(NOW_S)
  const [signature = '', payload = ''] = good.split('.')
  assert.equal(signature.length, 43, 'a 32-byte signature: 2 unused bits in its last character')
  const spellings = otherSpellings(signature)
  assert.equal(spellings.length, 3)
  for (const spelling of spellings) {
    // Node's own decoder reads them as the same bytes: that was the malleability
    assert.deepEqual(Buffer.from(spelling, 'base64url'), Buffer.from(signature, 'base64url'))
    assert.throws(
      () => verifySignedRequest(`${spelling}.${payload}`, SECRET, NOW),
      /^GalleryError: Invalid signed_request$/,
      spelling,
    )
  }
  // a payload segment too (signed as written, so only a secret holder could produce one)
  const body = Buffer.from(
    JSON.stringify({ algorithm: 'HMAC-SHA256', user_id: '1', issued_at: NOW_S, x: 'ab' }),
  ).toString('base64url')
  assert.notEqual((6 * body.length) % 8, 0, 'this payload has unused bits')
  for (const spelling of otherSpellings(body)) {
    const sig = createHmac('sha256', SECRET).update(spelling).digest('base64url')
    assert.throws(() => verifySignedRequest(`${sig}.${spelling}`, SECRET, NOW), /Invalid/)
  }
  const sig = createHmac('sha256', SECRET).update(body).digest('base64url')
  assert.equal(verifySignedRequest(`${sig}.${body}`, SECRET, NOW).userId, '1')
})

test('padding: exact padding is accepted (the PHP SDK writes it); anything else is refused', () => {
  const good = request(NOW_S)
  const [signature = '', payload = ''] = good.split('.')
  assert.equal(verifySignedRequest(`${signature}=.${payload}`, SECRET, NOW).issuedAt, NOW_S)
  for (const wrong of [
    `${signature}==.${payload}`, // too much padding
    `${signature}===.${payload}`,
    `+${signature.slice(1)}.${payload}`, // the standard alphabet
    `${signature.slice(0, -1)}/.${payload}`,
    `${signature.slice(0, 20)}=${signature.slice(20)}.${payload}`, // padding inside
    ` ${signature}.${payload}`,
    `${signature}.${payload}\n`,
  ]) {
    assert.throws(
      () => verifySignedRequest(wrong, SECRET, NOW),
      /^GalleryError: Invalid signed_request$/,
      wrong,
    )
  }
})
