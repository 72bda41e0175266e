/**
 * @module identity/password — scrypt password hashing (node:crypto) with a per-user salt.
 * Stored as `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` so the cost can rise later.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

const KEY_LENGTH = 32

function derive(
  password: string,
  salt: Buffer,
  logN: number,
  r: number,
  p: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFKC'),
      salt,
      KEY_LENGTH,
      { N: 2 ** logN, r, p, maxmem: 256 * 1024 * 1024 },
      (error, key) => {
        if (error) reject(error)
        else resolve(key)
      },
    )
  })
}

export async function hashPassword(password: string, logN = 15): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, logN, 8, 1)
  return `scrypt$${logN}$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`
}

/**
 * Whether `stored` is a password hash of ours. Users who sign in elsewhere (Firebase, imported
 * from the original app) store a marker such as `!external` instead: no password opens them.
 */
export function isPasswordHash(stored: string): boolean {
  const parts = stored.split('$')
  return parts.length === 6 && parts[0] === 'scrypt'
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (!isPasswordHash(stored)) return false
  const [, logN, r, p, salt, hash] = parts
  const expected = Buffer.from(hash ?? '', 'base64url')
  const key = await derive(
    password,
    Buffer.from(salt ?? '', 'base64url'),
    Number(logN),
    Number(r),
    Number(p),
  )
  return key.length === expected.length && timingSafeEqual(key, expected)
}
