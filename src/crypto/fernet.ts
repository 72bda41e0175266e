/**
 * @module crypto/fernet — a Fernet cipher (AES-128-CBC + HMAC-SHA256) on node:crypto, and a key
 * ring with Python `cryptography`'s MultiFernet semantics.
 *
 * Tokens written by the original Python service stay readable, and tokens written here are
 * readable by Python. Every rejection is the same `ERR_INVALID_TOKEN` error, revealing nothing
 * about which check failed.
 *
 * @see https://github.com/fernet/spec/blob/master/Spec.md
 * @see https://cryptography.io/en/latest/fernet/
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  randomBytes,
  randomFillSync,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto'
import { GalleryError } from '../errors.ts'

const VERSION = 0x80
const HEADER_LENGTH = 1 + 8 + 16 // version, timestamp, IV
const HMAC_LENGTH = 32
const MIN_TOKEN_LENGTH = HEADER_LENGTH + 16 + HMAC_LENGTH
/** Python `cryptography` rejects tokens stamped more than this many seconds in the future. */
export const MAX_CLOCK_SKEW_SECONDS = 60
const BASE64URL_PADDED = /^[A-Za-z0-9_-]+={0,2}$/

function invalidToken(): GalleryError {
  return new GalleryError('ERR_INVALID_TOKEN', 'Invalid token')
}

/** Strict base64url decoding: Node's own decoder silently skips foreign characters. */
export function decodeBase64UrlStrict(text: string): Buffer | null {
  if (!BASE64URL_PADDED.test(text)) return null
  const unpadded = text.replace(/=+$/, '')
  if (unpadded.length % 4 === 1) return null
  const padding = text.length - unpadded.length
  if (padding > 0 && (unpadded.length + padding) % 4 !== 0) return null
  return Buffer.from(unpadded, 'base64url')
}

/** Padded base64url, as Python's `urlsafe_b64encode` writes it. */
export function encodeBase64UrlPadded(bytes: Buffer): string {
  const text = bytes.toString('base64url')
  return text.length % 4 === 0 ? text : text + '='.repeat(4 - (text.length % 4))
}

/** IVs come from a pool refilled from the CSPRNG: one system call per 256 tokens, not per token. */
const ivPool = Buffer.alloc(16 * 256)
let ivOffset = ivPool.length
function freshIv(): Buffer {
  if (ivOffset === ivPool.length) {
    randomFillSync(ivPool)
    ivOffset = 0
  }
  ivOffset += 16
  return Buffer.from(ivPool.subarray(ivOffset - 16, ivOffset))
}

/** One Fernet key: 32 bytes, the first half signs and the second half encrypts. */
export class FernetKey {
  readonly #signingKey: KeyObject
  readonly #encryptionKey: KeyObject

  constructor(key: string) {
    const bytes = decodeBase64UrlStrict(key.trim())
    if (bytes === null || bytes.length !== 32) {
      throw new GalleryError(
        'ERR_CONFIG_INVALID',
        'A Fernet key must be 32 bytes encoded as url-safe base64 (44 characters)',
      )
    }
    this.#signingKey = createSecretKey(bytes.subarray(0, 16))
    this.#encryptionKey = createSecretKey(bytes.subarray(16, 32))
  }

  /**
   * A 32-byte key for another purpose, derived from this key's signing half with HMAC-SHA256 over
   * `label` (one label per purpose, so no two purposes share a key; rotating the Fernet key rotates
   * it too).
   */
  deriveKey(label: string): Buffer {
    return createHmac('sha256', this.#signingKey).update(`psg-derived-key:${label}`).digest()
  }

  /** A fresh random key, as `Fernet.generate_key()` makes one. */
  static generate(): string {
    return encodeBase64UrlPadded(randomBytes(32))
  }

  /** Encrypts with explicit parts; `encrypt` is the everyday entry point. */
  encryptFromParts(plaintext: Buffer, timestampSeconds: number, iv: Buffer): string {
    const cipher = createCipheriv('aes-128-cbc', this.#encryptionKey, iv)
    const body = cipher.update(plaintext)
    const tail = cipher.final()
    // one buffer: version, timestamp, IV, ciphertext, then the HMAC of all that
    const signedLength = HEADER_LENGTH + body.length + tail.length
    const token = Buffer.allocUnsafe(signedLength + HMAC_LENGTH)
    token[0] = VERSION
    const seconds = Math.floor(timestampSeconds)
    token.writeUInt32BE(Math.floor(seconds / 2 ** 32), 1)
    token.writeUInt32BE(seconds % 2 ** 32, 5)
    iv.copy(token, 9)
    body.copy(token, HEADER_LENGTH)
    tail.copy(token, HEADER_LENGTH + body.length)
    const signed = token.subarray(0, signedLength)
    createHmac('sha256', this.#signingKey).update(signed).digest().copy(token, signedLength)
    return encodeBase64UrlPadded(token)
  }

  encrypt(plaintext: string, nowSeconds: number): string {
    return this.encryptFromParts(Buffer.from(plaintext, 'utf8'), nowSeconds, freshIv())
  }

  /**
   * Verifies and decrypts. With a `ttlSeconds`, too old and too far-future tokens are rejected
   * first (as the spec and Python do); without one there is no age check, as for stored tokens.
   */
  decrypt(
    token: string,
    options: { nowSeconds: number; ttlSeconds?: number },
  ): { plaintext: Buffer; timestamp: number } {
    const data = decodeBase64UrlStrict(token)
    if (data === null || data.length < MIN_TOKEN_LENGTH || data[0] !== VERSION) throw invalidToken()
    const ciphertextLength = data.length - HEADER_LENGTH - HMAC_LENGTH
    if (ciphertextLength % 16 !== 0) throw invalidToken()
    const timestamp = Number(data.readBigUInt64BE(1))
    if (options.ttlSeconds !== undefined) {
      if (timestamp + options.ttlSeconds < options.nowSeconds) throw invalidToken()
      if (options.nowSeconds + MAX_CLOCK_SKEW_SECONDS < timestamp) throw invalidToken()
    }
    const signed = data.subarray(0, data.length - HMAC_LENGTH)
    const mac = data.subarray(data.length - HMAC_LENGTH)
    const expected = createHmac('sha256', this.#signingKey).update(signed).digest()
    if (!timingSafeEqual(mac, expected)) throw invalidToken()
    const iv = data.subarray(9, HEADER_LENGTH)
    try {
      const decipher = createDecipheriv('aes-128-cbc', this.#encryptionKey, iv)
      const plaintext = Buffer.concat([
        decipher.update(data.subarray(HEADER_LENGTH, signed.length)),
        decipher.final(),
      ])
      return { plaintext, timestamp }
    } catch {
      throw invalidToken()
    }
  }
}

/**
 * A key ring with MultiFernet semantics: the first key encrypts, every key decrypts, and
 * `rotate` re-encrypts under the first key while keeping the token's original timestamp.
 */
export class FernetKeyRing {
  readonly #keys: readonly FernetKey[]
  readonly #now: () => number

  constructor(
    keys: readonly string[],
    nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    if (keys.length === 0)
      throw new GalleryError('ERR_CONFIG_INVALID', 'At least one Fernet key is required')
    this.#keys = keys.map((key) => new FernetKey(key))
    this.#now = nowSeconds
  }

  encrypt(plaintext: string): string {
    return this.#primary().encrypt(plaintext, this.#now())
  }

  decrypt(token: string, ttlSeconds?: number): string {
    return this.#decryptWithAny(token, ttlSeconds).plaintext.toString('utf8')
  }

  /** A key for another purpose derived from the first (encrypting) key (`FernetKey.deriveKey`). */
  deriveKey(label: string): Buffer {
    return this.#primary().deriveKey(label)
  }

  /** Whether the first (encrypting) key reads this token: a rotation would not change it. */
  isUnderPrimaryKey(token: string): boolean {
    try {
      this.#primary().decrypt(token, { nowSeconds: this.#now() })
      return true
    } catch {
      return false
    }
  }

  /** Re-encrypts under the first key, keeping the timestamp; no TTL check, like Python. */
  rotate(token: string): string {
    const { plaintext, timestamp } = this.#decryptWithAny(token, undefined)
    return this.#primary().encryptFromParts(plaintext, timestamp, randomBytes(16))
  }

  #primary(): FernetKey {
    const key = this.#keys[0]
    if (key === undefined) throw invalidToken()
    return key
  }

  #decryptWithAny(
    token: string,
    ttlSeconds: number | undefined,
  ): { plaintext: Buffer; timestamp: number } {
    const nowSeconds = this.#now()
    for (const key of this.#keys) {
      try {
        return key.decrypt(
          token,
          ttlSeconds === undefined ? { nowSeconds } : { nowSeconds, ttlSeconds },
        )
      } catch {
        // try the next key; the error is the same whichever check failed
      }
    }
    throw invalidToken()
  }
}
