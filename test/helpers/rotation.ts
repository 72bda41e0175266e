/**
 * Helpers for the rotating refresh-token tests (TikTok and X): what the app stores for an account
 * (its credentials opened with the app's keys) and what the emulator thinks of a refresh token
 * (the current one of its grant, or spent).
 */
import { parseSealed } from '../../src/socials/credentials.ts'
import type { FernetKeyRing } from '../../src/crypto/fernet.ts'
import type { Credentials } from '../../src/providers/types.ts'
import type { TiktokEmulatorState } from '../../src/providers/tiktok/emulator/index.ts'
import type { XEmulatorState } from '../../src/providers/x/emulator/state.ts'

export interface StoredAccount {
  readonly id: string
  readonly platform: string
  readonly status: string
  readonly message: string | null
  readonly version: number
  readonly credentials: Credentials | null
}

/** A row of `user_social_accounts` (with `encrypted_credentials`) opened with `vault`. */
export function storedAccount(vault: FernetKeyRing, row: Record<string, unknown>): StoredAccount {
  const sealed = row.encrypted_credentials
  return {
    id: String(row.id),
    platform: String(row.platform),
    status: String(row.status),
    message: typeof row.status_message === 'string' ? row.status_message : null,
    version: Number(row.credentials_version),
    credentials: typeof sealed === 'string' ? parseSealed(vault.decrypt(sealed)) : null,
  }
}

export const ACCOUNT_COLUMNS =
  'id, platform, status, status_message, credentials_version, encrypted_credentials'

export type TokenVerdict = 'current' | 'spent' | 'unknown'

/** Whether TikTok's emulator takes this refresh token (its grant's current generation). */
export function tiktokVerdict(state: TiktokEmulatorState, refreshToken: string): TokenVerdict {
  const claims = state.parseToken(refreshToken)
  if (claims === null || claims.k !== 'r') return 'unknown'
  const grant = state.grants.get(claims.g)
  if (grant === undefined) return 'unknown'
  return claims.r === grant.generation ? 'current' : 'spent'
}

/** The generation of the grant behind a TikTok refresh token (how many refreshes + 1). */
export function tiktokGeneration(state: TiktokEmulatorState, refreshToken: string): number | null {
  const claims = state.parseToken(refreshToken)
  return claims === null ? null : (state.grants.get(claims.g)?.generation ?? null)
}

/** Whether X's emulator takes this refresh token (its grant's newest). */
export function xVerdict(state: XEmulatorState, refreshToken: string): TokenVerdict {
  const claims = state.parseToken(refreshToken)
  if (claims === null || claims.k !== 'r') return 'unknown'
  if (!state.currentRefresh.has(claims.g)) return 'unknown'
  return state.isCurrentRefresh(claims) ? 'current' : 'spent'
}
