import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import { FernetKey, FernetKeyRing } from '../../src/crypto/fernet.ts'
import { fixturesDir } from '../helpers/paths.ts'

const dir = resolve(fixturesDir, 'fernet')
function load(name: string): unknown {
  return JSON.parse(readFileSync(resolve(dir, name), 'utf8'))
}
const toSeconds = (rfc3339: string): number => Math.floor(Date.parse(rfc3339) / 1000)

interface Vector {
  token: string
  now: string
  secret: string
  src?: string
  iv?: number[]
  ttl_sec?: number
  desc?: string
}
function vectors(name: string): Vector[] {
  const value = load(name)
  assert.ok(Array.isArray(value))
  return value as Vector[]
}

test('vector files are the upstream copies (sha256 from shared/vectors/fernet/README.md)', () => {
  const expected: Record<string, string> = {
    'generate.json': 'b4b18aec84cb721e72229c147c169eb8f76e47827a58914b7b3ffae644889844',
    'verify.json': '489184ab9c6965e15aca47993ec5b156f488e70ca780c5634239d5498ec5cf65',
    'invalid.json': '90909d69cfdc0703c688242652c8edf02830e81ec40adb91875c44109f689fa6',
  }
  for (const [name, sha] of Object.entries(expected)) {
    const digest = createHash('sha256')
      .update(readFileSync(resolve(dir, name)))
      .digest('hex')
    assert.equal(digest, sha, name)
  }
})

test('generate.json: byte-exact tokens', () => {
  const cases = vectors('generate.json')
  assert.ok(cases.length > 0)
  for (const v of cases) {
    const key = new FernetKey(v.secret)
    const token = key.encryptFromParts(
      Buffer.from(v.src ?? '', 'utf8'),
      toSeconds(v.now),
      Buffer.from(v.iv ?? []),
    )
    assert.equal(token, v.token)
  }
})

test('verify.json: decrypts with TTL at the given time', () => {
  const cases = vectors('verify.json')
  assert.ok(cases.length > 0)
  for (const v of cases) {
    const key = new FernetKey(v.secret)
    const out = key.decrypt(v.token, { nowSeconds: toSeconds(v.now), ttlSeconds: v.ttl_sec ?? 0 })
    assert.equal(out.plaintext.toString('utf8'), v.src)
  }
})

test('invalid.json: every case rejected with one generic error', () => {
  const cases = vectors('invalid.json')
  assert.equal(cases.length, 8)
  for (const v of cases) {
    const key = new FernetKey(v.secret)
    assert.throws(
      () => key.decrypt(v.token, { nowSeconds: toSeconds(v.now), ttlSeconds: v.ttl_sec ?? 0 }),
      (error: unknown) =>
        error instanceof Error &&
        'code' in error &&
        error.code === 'ERR_INVALID_TOKEN' &&
        error.message === 'Invalid token',
      v.desc,
    )
  }
})

test('round trip, unicode, empty and long plaintexts', () => {
  const ring = new FernetKeyRing([FernetKey.generate()])
  for (const text of ['', 'x', 'IGAA-token-ünïcødé-🙂', 'a'.repeat(10_000)]) {
    assert.equal(ring.decrypt(ring.encrypt(text)), text)
  }
})

test('every single-byte flip is rejected', () => {
  const ring = new FernetKeyRing([FernetKey.generate()])
  const token = ring.encrypt('secret-token')
  const bytes = Buffer.from(token, 'base64url')
  for (let i = 0; i < bytes.length; i++) {
    const copy = Buffer.from(bytes)
    copy[i] = (copy[i] ?? 0) ^ 0x01
    assert.throws(() => ring.decrypt(copy.toString('base64url')), /Invalid token/)
  }
})

test('malformed keys are refused with a clear message', () => {
  for (const bad of ['', 'short', 'A'.repeat(44), '%%%%', FernetKey.generate().slice(0, 40)]) {
    assert.throws(() => new FernetKey(bad), /32 bytes/)
  }
})

test('key ring: first key encrypts, all decrypt, rotate keeps the timestamp', () => {
  const oldKey = FernetKey.generate()
  const newKey = FernetKey.generate()
  let now = 1_700_000_000
  const oldRing = new FernetKeyRing([oldKey], () => now)
  const token = oldRing.encrypt('long-lived')
  now += 5000
  const ring = new FernetKeyRing([newKey, oldKey], () => now)
  assert.equal(ring.decrypt(token), 'long-lived')
  const rotated = ring.rotate(token)
  assert.throws(() => oldRing.decrypt(rotated), /Invalid token/)
  assert.equal(new FernetKeyRing([newKey]).decrypt(rotated), 'long-lived')
  assert.equal(Buffer.from(rotated, 'base64url').readBigUInt64BE(1), BigInt(1_700_000_000))
  assert.throws(() => new FernetKeyRing([FernetKey.generate()]).decrypt(token), /Invalid token/)
  assert.deepEqual(
    [ring.isUnderPrimaryKey(token), ring.isUnderPrimaryKey(rotated), ring.isUnderPrimaryKey('x')],
    [false, true, false],
  )
})

const PYTHON = `
import sys, json
from cryptography.fernet import Fernet, MultiFernet
req = json.load(sys.stdin)
f = MultiFernet([Fernet(k) for k in req["keys"]])
out = {"decrypted": [f.decrypt(t.encode()).decode() for t in req["tokens"]],
       "encrypted": [f.encrypt(p.encode()).decode() for p in req["plaintexts"]]}
print(json.dumps(out))
`

test('interoperates with Python cryptography Fernet, both ways', () => {
  const key = FernetKey.generate()
  const ring = new FernetKeyRing([key])
  const plaintexts = ['IGAAshort', 'ünïcødé 🙂', 'x'.repeat(300)]
  const stdout = execFileSync('python3', ['-c', PYTHON], {
    input: JSON.stringify({
      keys: [key],
      tokens: plaintexts.map((p) => ring.encrypt(p)),
      plaintexts,
    }),
    encoding: 'utf8',
  })
  const result = JSON.parse(stdout) as { decrypted: string[]; encrypted: string[] }
  assert.deepEqual(result.decrypted, plaintexts)
  assert.deepEqual(
    result.encrypted.map((t) => ring.decrypt(t)),
    plaintexts,
  )
})
