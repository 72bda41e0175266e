/**
 * Sealed credentials: what `sealCredentials` writes opens to the same values; a bare access token
 * as the original Python app stored it (format 1) stays readable; anything else is a connection
 * to redo with a clear message, never a crash or a leaked value.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FernetKey, FernetKeyRing } from '../../src/crypto/fernet.ts'
import {
  connectionExpiresAt,
  needsRefreshBeforeCall,
  openCredentials,
  parseSealed,
  sealCredentials,
} from '../../src/socials/credentials.ts'
import type { Credentials } from '../../src/providers/types.ts'
import type { SocialAccountRecord } from '../../src/store/types.ts'
import { GalleryError } from '../../src/errors.ts'

const NOW = Date.UTC(2026, 11, 1)
const vault = new FernetKeyRing([FernetKey.generate()])

const rotating: Credentials = {
  accessToken: 'act.1',
  accessTokenExpiresAt: NOW + 7_200_000,
  refreshToken: 'rft.1',
  refreshTokenExpiresAt: NOW + 180 * 86_400_000,
  scopes: ['user.info.basic', 'video.list'],
  refreshTokenIssuedAt: null,
  issuedAt: NOW,
}

/** An account record around stored credential columns. */
function accountWith(columns: Partial<SocialAccountRecord>): SocialAccountRecord {
  return {
    encrypted_credentials: null,
    credentials_format: 2,
    credentials_version: 3,
    token_expires_at: null,
    token_issued_at: null,
    refresh_token_expires_at: null,
    credentials_expire_at: null,
    ...columns,
  } as SocialAccountRecord
}

const reauth = (pattern: RegExp) => (error: unknown) => {
  assert.ok(error instanceof GalleryError)
  assert.equal(error.code, 'ERR_REAUTH_REQUIRED')
  assert.match(error.message, pattern)
  return true
}

test('sealed credentials open to what was sealed; the plain columns say when the connection ends', () => {
  const columns = sealCredentials(vault, rotating)
  assert.equal(columns.credentials_format, 2)
  assert.equal(columns.token_expires_at, rotating.accessTokenExpiresAt)
  assert.equal(columns.refresh_token_expires_at, rotating.refreshTokenExpiresAt)
  assert.equal(columns.credentials_expire_at, rotating.refreshTokenExpiresAt, 'the refresh token’s')
  assert.ok(!columns.encrypted_credentials.includes('act.1'))
  const opened = openCredentials(vault, accountWith(columns), NOW, 'TikTok')
  assert.deepEqual(opened.credentials, rotating)
  assert.equal(opened.version, 3)

  const extended: Credentials = { ...rotating, refreshToken: null, refreshTokenExpiresAt: null }
  assert.equal(connectionExpiresAt(extended), extended.accessTokenExpiresAt, 'the access token’s')
  const noEnd: Credentials = { ...rotating, refreshTokenExpiresAt: null }
  assert.equal(connectionExpiresAt(noEnd), null, 'a refresh token without an end (Google’s)')
})

test('a bare access token (format 1, the original app’s) reads with the lifetime of its columns', () => {
  const account = accountWith({
    encrypted_credentials: vault.encrypt('IGAAoriginal'),
    credentials_format: 1,
    token_expires_at: NOW + 86_400_000,
    token_issued_at: NOW - 86_400_000,
    credentials_expire_at: NOW + 86_400_000,
  })
  assert.deepEqual(openCredentials(vault, account, NOW, 'Instagram').credentials, {
    accessToken: 'IGAAoriginal',
    accessTokenExpiresAt: NOW + 86_400_000,
    refreshToken: null,
    refreshTokenExpiresAt: null,
    scopes: null,
    issuedAt: NOW - 86_400_000,
    refreshTokenIssuedAt: null,
  })
})

test('the refresh token’s issue time round-trips; sealed JSON written before it reads as null', () => {
  const google = { ...rotating, refreshTokenIssuedAt: NOW - 3 * 86_400_000 }
  const opened = openCredentials(vault, accountWith(sealCredentials(vault, google)), NOW, 'YouTube')
  assert.equal(opened.credentials.refreshTokenIssuedAt, NOW - 3 * 86_400_000)
  const older = JSON.stringify({
    v: 2,
    access_token: 'act.1',
    access_token_expires_at: NOW + 1000,
    refresh_token: 'rft.1',
    refresh_token_expires_at: null,
    scopes: null,
    issued_at: NOW,
  })
  assert.equal(parseSealed(older)?.refreshTokenIssuedAt, null)
  assert.equal(parseSealed(older.replace('"v":2,', '"v":2,"refresh_token_issued_at":"x",')), null)
})

test('an expired access token with a live refresh token opens; a dead connection does not', () => {
  const columns = sealCredentials(vault, rotating)
  const later = NOW + 3 * 3_600_000
  const opened = openCredentials(vault, accountWith(columns), later, 'TikTok')
  assert.equal(opened.credentials.accessToken, 'act.1')
  const policy = { kind: 'refresh_token', rotating: true, marginMs: 300_000 } as const
  assert.equal(needsRefreshBeforeCall(policy, opened.credentials, later), true)
  assert.equal(needsRefreshBeforeCall(policy, opened.credentials, NOW), false)
  assert.equal(
    needsRefreshBeforeCall({ kind: 'extend_access_token', minAgeMs: 1 }, opened.credentials, later),
    false,
    'an extend policy renews on its schedule, never before a call',
  )
  assert.throws(
    () => openCredentials(vault, accountWith(columns), NOW + 181 * 86_400_000, 'TikTok'),
    reauth(/^The TikTok token has expired; reconnect the account$/),
  )
})

test('missing, undecryptable or malformed credentials: reconnect, with a message that names no value', () => {
  assert.throws(
    () => openCredentials(vault, accountWith({}), NOW, 'Instagram'),
    reauth(/no Instagram token/),
  )
  const other = new FernetKeyRing([FernetKey.generate()])
  assert.throws(
    () =>
      openCredentials(
        vault,
        accountWith({ encrypted_credentials: other.encrypt('{"v":2}') }),
        NOW,
        'X',
      ),
    reauth(/cannot be decrypted with the configured keys/),
  )
  const malformed = [
    'not json',
    '[]',
    '{"v":1,"access_token":"a","access_token_expires_at":null,"refresh_token":null,"refresh_token_expires_at":null,"scopes":null,"issued_at":1}',
    '{"v":2,"access_token":"","access_token_expires_at":null,"refresh_token":null,"refresh_token_expires_at":null,"scopes":null,"issued_at":1}',
    '{"v":2,"access_token":"a","access_token_expires_at":"soon","refresh_token":null,"refresh_token_expires_at":null,"scopes":null,"issued_at":1}',
    '{"v":2,"access_token":"a","access_token_expires_at":null,"refresh_token":null,"refresh_token_expires_at":null,"scopes":[1],"issued_at":1}',
    '{"v":2,"access_token":"a","access_token_expires_at":null,"refresh_token":null,"refresh_token_expires_at":null,"scopes":null,"issued_at":null}',
  ]
  for (const plaintext of malformed) {
    assert.equal(parseSealed(plaintext), null, plaintext)
    assert.throws(
      () =>
        openCredentials(
          vault,
          accountWith({ encrypted_credentials: vault.encrypt(plaintext) }),
          NOW,
          'X',
        ),
      (error: unknown) => {
        reauth(/X credentials are not readable/)(error)
        assert.ok(!String((error as Error).message).includes('"a"'))
        return true
      },
    )
  }
})
