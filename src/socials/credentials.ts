/**
 * @module socials/credentials — a connection's credentials at rest: sealed as one Fernet token,
 * opened only for the call about to be made, and the one place that decides when a connection
 * can no longer be kept alive and what the person is told to do about it.
 *
 * Two formats (the `credentials_format` column, migration 0010):
 * - 1: the Fernet plaintext is a bare access token, as the original Python app stored it (and
 *   every row before 0010). Its expiry and issue time are the plain columns beside it.
 * - 2: the plaintext is JSON, `{"v":2,"access_token":…,"access_token_expires_at":…,
 *   "refresh_token":…,"refresh_token_expires_at":…,"scopes":[…],"issued_at":…,
 *   "refresh_token_issued_at":…}`, validated when opened (a malformed one is a connection to
 *   redo, never a crash). `refresh_token_issued_at` came with YouTube; sealed JSON without it
 *   reads as `null`.
 *
 * The plain columns written with them (`token_expires_at`, `refresh_token_expires_at`,
 * `credentials_expire_at`) let the scheduler decide without decrypting anything.
 */
import { GalleryError } from '../errors.ts'
import type { FernetKeyRing } from '../crypto/fernet.ts'
import type { Credentials, ProviderCapabilities } from '../providers/types.ts'
import type { CredentialColumns, SocialAccountRecord } from '../store/types.ts'

export type { CredentialColumns }

/** Opened credentials and the version they were read at (the compare-and-swap key). */
export interface OpenedCredentials {
  readonly credentials: Credentials
  readonly version: number
}

/**
 * Credentials that are one access token (a platform that extends the token itself, such as
 * Instagram, or the original app's rows): no refresh token, no scopes reported.
 */
export function accessTokenCredentials(
  accessToken: string,
  accessTokenExpiresAt: number | null,
  issuedAt: number,
): Credentials {
  return {
    accessToken,
    accessTokenExpiresAt,
    refreshToken: null,
    refreshTokenExpiresAt: null,
    scopes: null,
    issuedAt,
    refreshTokenIssuedAt: null,
  }
}

/** When credentials stop being renewable without the person (see `CredentialColumns`). */
export function connectionExpiresAt(credentials: Credentials): number | null {
  return credentials.refreshToken === null
    ? credentials.accessTokenExpiresAt
    : credentials.refreshTokenExpiresAt
}

/** Seals credentials as one Fernet token (format 2), with the plain columns stored beside it. */
export function sealCredentials(vault: FernetKeyRing, credentials: Credentials): CredentialColumns {
  const plaintext = JSON.stringify({
    v: 2,
    access_token: credentials.accessToken,
    access_token_expires_at: credentials.accessTokenExpiresAt,
    refresh_token: credentials.refreshToken,
    refresh_token_expires_at: credentials.refreshTokenExpiresAt,
    scopes: credentials.scopes,
    issued_at: credentials.issuedAt,
    refresh_token_issued_at: credentials.refreshTokenIssuedAt,
  })
  return {
    encrypted_credentials: vault.encrypt(plaintext),
    credentials_format: 2,
    token_expires_at: credentials.accessTokenExpiresAt,
    token_issued_at: credentials.issuedAt,
    refresh_token_expires_at: credentials.refreshTokenExpiresAt,
    credentials_expire_at: connectionExpiresAt(credentials),
  }
}

const isTime = (value: unknown): value is number | null =>
  value === null || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)

/** Format 2's plaintext, validated; `null` when it is not what `sealCredentials` writes. */
export function parseSealed(plaintext: string): Credentials | null {
  let value: unknown
  try {
    value = JSON.parse(plaintext)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const v = value as Record<string, unknown>
  const scopes = v.scopes
  if (
    v.v !== 2 ||
    typeof v.access_token !== 'string' ||
    v.access_token === '' ||
    !isTime(v.access_token_expires_at) ||
    !(
      v.refresh_token === null ||
      (typeof v.refresh_token === 'string' && v.refresh_token !== '')
    ) ||
    !isTime(v.refresh_token_expires_at) ||
    !(scopes === null || (Array.isArray(scopes) && scopes.every((s) => typeof s === 'string'))) ||
    !isTime(v.issued_at) ||
    v.issued_at === null ||
    !(v.refresh_token_issued_at === undefined || isTime(v.refresh_token_issued_at))
  )
    return null
  return {
    accessToken: v.access_token,
    accessTokenExpiresAt: v.access_token_expires_at,
    refreshToken: v.refresh_token,
    refreshTokenExpiresAt: v.refresh_token_expires_at,
    scopes: scopes === null ? null : [...scopes],
    issuedAt: v.issued_at,
    refreshTokenIssuedAt: v.refresh_token_issued_at ?? null,
  }
}

/** The person-facing sentence for a connection that has run out. */
export function expiredMessage(label: string): string {
  return `The ${label} token has expired; reconnect the account`
}

/**
 * The account's credentials, decrypted only for the call about to be made, with the version
 * they were read at. An expired access token with a live refresh token is a working connection
 * (the caller refreshes it first).
 * @throws ERR_REAUTH_REQUIRED when there are none, the connection has run out at `now`, or no
 *   configured key opens them (or they are not well formed).
 */
export function openCredentials(
  vault: FernetKeyRing,
  account: SocialAccountRecord,
  now: number,
  label: string,
  /** What to say when the connection has run out (the platform's words, if it has its own). */
  expired: string = expiredMessage(label),
): OpenedCredentials {
  const encrypted = account.encrypted_credentials
  if (encrypted === null)
    throw new GalleryError(
      'ERR_REAUTH_REQUIRED',
      `This account has no ${label} token; reconnect it`,
    )
  if (account.credentials_expire_at !== null && account.credentials_expire_at <= now)
    throw new GalleryError('ERR_REAUTH_REQUIRED', expired)
  let plaintext: string
  try {
    plaintext = vault.decrypt(encrypted)
  } catch {
    throw new GalleryError(
      'ERR_REAUTH_REQUIRED',
      `The stored ${label} token cannot be decrypted with the configured keys; reconnect the account`,
    )
  }
  if (account.credentials_format === 1) {
    // the original app's bare token: its lifetime is in the plain columns
    const credentials = accessTokenCredentials(
      plaintext,
      account.token_expires_at,
      account.token_issued_at ?? 0,
    )
    return { credentials, version: account.credentials_version }
  }
  const credentials = parseSealed(plaintext)
  if (credentials === null)
    throw new GalleryError(
      'ERR_REAUTH_REQUIRED',
      `The stored ${label} credentials are not readable; reconnect the account`,
    )
  return { credentials, version: account.credentials_version }
}

/**
 * Whether credentials should be renewed before a call made at `now`: the access token expires
 * within the policy's margin (a refresh-token policy), or never for policies that renew on a
 * schedule only.
 */
export function needsRefreshBeforeCall(
  renewal: ProviderCapabilities['renewal'],
  credentials: Credentials,
  now: number,
): boolean {
  if (renewal.kind !== 'refresh_token' || credentials.refreshToken === null) return false
  const expiresAt = credentials.accessTokenExpiresAt
  return expiresAt !== null && expiresAt <= now + renewal.marginMs
}
