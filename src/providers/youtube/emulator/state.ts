/**
 * @module providers/youtube/emulator/state — the YouTube emulator's in-memory world: Google
 * accounts (with or without a channel), their videos, authorization codes, grants and their
 * revocations, the project's daily quota, injected faults and the call log. Routes live in
 * `oauth-routes.ts`, `data-routes.ts`, `cdn-routes.ts` and `web-routes.ts` (composed by
 * `index.ts`), control operations in `controller.ts`. Signing, the fault queue and the call log
 * are the shared core's (`emulator-core/`); the `ya29.`, `1//0` and `4/0A` shapes are Google's.
 *
 * Access and refresh tokens are signed, not stored, so that tokens kept by the app survive an
 * emulator restart (with a stable signing secret). What must be remembered is bounded: codes
 * (expired ones dropped, then the oldest past `limits.codes`), revoked grants (past
 * `limits.revokedGrants` the oldest go) and the accounts that already consented once.
 */
import { randomBytes } from 'node:crypto'
import type { Clock } from '../../../clock.ts'
import { dayAt } from '../../../socials/budget-windows.ts'
import { QUOTA_TIME_ZONE } from '../parse.ts'
import type { LoggedCall } from '../../emulator-core/call-log.ts'
import { takeFault } from '../../emulator-core/faults.ts'
import { signToken, tokenNonce, verifyToken } from '../../emulator-core/tokens.ts'
import type { YoutubeEmulatorLimits } from './bounds.ts'

export type Privacy = 'public' | 'unlisted' | 'private'
/** `replay`: a past broadcast (`liveBroadcastContent: none` with `liveStreamingDetails`). */
export type LiveKind = 'none' | 'live' | 'upcoming' | 'replay'

export interface EmulatorVideo {
  /** 11 characters of `[A-Za-z0-9_-]`, like YouTube's. */
  id: string
  title: string
  description: string
  publishedAt: number
  durationSeconds: number
  privacy: Privacy
  live: LiveKind
  /** Served 200 by `HEAD /web/shorts/:id` (portrait, at most 60 s in the demo data). */
  short: boolean
  /** HD videos have `standard` and `maxres` thumbnails too. */
  hd: boolean
  /** For broadcasts: when it was scheduled, started, ended (ms). */
  scheduledStart: number | null
  actualStart: number | null
  actualEnd: number | null
  viewCount: number
  hue: number
}

export interface EmulatorChannel {
  /** `UC` + 22 characters. */
  id: string
  title: string
  /** `@handle` */
  customUrl: string
  description: string
  publishedAt: number
  subscriberCount: number
  hiddenSubscriberCount: boolean
  hue: number
  /** Newest first. */
  videos: EmulatorVideo[]
}

export interface GoogleAccount {
  index: number
  email: string
  name: string
  channel: EmulatorChannel | null
}

export interface IssuedCode {
  accountIndex: number
  grantId: string
  clientId: string
  redirectUri: string
  scopes: string[]
  challenge: { value: string; method: 'S256' | 'plain' } | null
  /** Whether the answer carries a refresh token (offline access, first or forced consent). */
  offline: boolean
  expiresAt: number
  used: boolean
}

/** The claims of both token kinds. */
export interface TokenClaims {
  /** account index */
  a: number
  /** grant id: revoking the grant revokes every token carrying it */
  g: string
  /** client id the token was issued to */
  c: string
  /** kind: access or refresh */
  k: 'a' | 'r'
  /** issued at, ms */
  i: number
  /** expires at, ms */
  e: number
  /** granted scopes */
  p: string[]
  /** nonce */
  n: string
}

/** Google's per-project reasons an injected fault can answer with. */
export type Fault =
  | { kind: 'http_5xx'; status?: number; count: number; path?: string }
  | {
      kind: 'rate_limit'
      reason: 'rateLimitExceeded' | 'userRateLimitExceeded'
      count: number
      path?: string
    }
  | { kind: 'quota_exceeded'; count: number; path?: string }
  | { kind: 'auth_error'; count: number; path?: string }
  /** A 400 `badRequest` (`INVALID_ARGUMENT`): a request Google refuses as malformed. */
  | { kind: 'bad_request'; count: number; path?: string }
  | { kind: 'latency'; ms: number; count: number; path?: string }
  | { kind: 'drop'; count: number; path?: string }

export interface CallRecord extends LoggedCall {
  /** Quota units the call cost. */
  cost: number
  clientId: string | null
  accountIndex: number | null
}

export type PublishingStatus = 'testing' | 'production'

export interface YoutubeEmulatorSettings {
  readonly clientId: string
  readonly clientSecret: string
  /** Registered OAuth redirect URIs (exact match). */
  readonly redirectUris: readonly string[]
  /** Signs tokens; keep it stable to keep tokens valid across restarts. */
  readonly signingSecret: string
  readonly dailyQuotaUnits: number
  /** `testing`: refresh tokens expire 7 days after issue (External apps in Testing). */
  readonly publishingStatus: PublishingStatus
}

export const ACCESS_TOKEN_TTL_MS = 3_600_000
/** Google answers `expires_in: 3599` for a fresh hour-long token. */
export const ACCESS_TOKEN_EXPIRES_IN = 3599
/** Google's codes are short-lived (minutes); ten minutes here. */
export const CODE_TTL_MS = 10 * 60_000
export const TESTING_REFRESH_TTL_MS = 7 * 86_400_000
/** A production refresh token has no fixed expiry; the claim needs one (about ten years). */
const PRODUCTION_REFRESH_TTL_MS = 10 * 365 * 86_400_000

/** Midnight to midnight in this zone (Google's Pacific day); the app's parser names it too. */
export { QUOTA_TIME_ZONE }

const ACCESS_PREFIX = 'ya29.a0'
const REFRESH_PREFIX = '1//0'

export class YoutubeEmulatorState {
  settings: YoutubeEmulatorSettings
  readonly clock: Clock
  readonly limits: YoutubeEmulatorLimits
  accounts: GoogleAccount[]
  /** Issued codes, oldest first (a `Map` keeps insertion order). */
  readonly codes = new Map<string, IssuedCode>()
  /** Revoked grant ids → when (oldest first, bounded). */
  readonly revokedGrants = new Map<string, number>()
  /** account index → tokens issued before this time are revoked (revoke all grants). */
  readonly accountRevokedBefore = new Map<number, number>()
  /** Access tokens issued before this time answer as expired (`control.expireAccessTokens`). */
  accessExpiredBefore = 0
  /**
   * Accounts that consented to this client, with the scopes granted so far: a later consent gets
   * no refresh token unless forced, and `include_granted_scopes=true` adds these scopes.
   */
  readonly consented = new Map<number, readonly string[]>()
  /** Units used in the Pacific day starting at `quotaDayStart`. */
  quotaDayStart = 0
  quotaUsed = 0
  faults: Fault[] = []
  calls: CallRecord[] = []
  /** Numbers videos added through the control interface; only grows so an id never repeats. */
  addedVideos = 0

  constructor(
    settings: YoutubeEmulatorSettings,
    clock: Clock,
    accounts: GoogleAccount[],
    limits: YoutubeEmulatorLimits,
  ) {
    this.settings = settings
    this.clock = clock
    this.accounts = accounts
    this.limits = limits
  }

  accountByIndex(index: number): GoogleAccount | undefined {
    return this.accounts.find((a) => a.index === index)
  }

  /** A new single-use code. Expired codes are dropped first, then the oldest beyond the cap. */
  issueCode(issued: Omit<IssuedCode, 'expiresAt' | 'used' | 'grantId'>): string {
    const now = this.clock.now()
    for (const [key, c] of this.codes) if (c.expiresAt <= now) this.codes.delete(key)
    for (const key of this.codes.keys()) {
      if (this.codes.size < this.limits.codes) break
      this.codes.delete(key)
    }
    const code = `4/0A${randomBytes(48).toString('base64url')}`
    this.codes.set(code, {
      ...issued,
      grantId: randomBytes(12).toString('base64url'),
      expiresAt: now + CODE_TTL_MS,
      used: false,
    })
    return code
  }

  issueToken(kind: 'a' | 'r', accountIndex: number, grantId: string, scopes: string[]): string {
    const now = this.clock.now()
    const ttl =
      kind === 'a'
        ? ACCESS_TOKEN_TTL_MS
        : this.settings.publishingStatus === 'testing'
          ? TESTING_REFRESH_TTL_MS
          : PRODUCTION_REFRESH_TTL_MS
    const claims: TokenClaims = {
      a: accountIndex,
      g: grantId,
      c: this.settings.clientId,
      k: kind,
      i: now,
      e: now + ttl,
      p: scopes,
      n: tokenNonce(),
    }
    return signToken(
      this.settings.signingSecret,
      kind === 'a' ? ACCESS_PREFIX : REFRESH_PREFIX,
      claims,
    )
  }

  /** The claims of a well-formed, correctly signed token of either kind, else `null`. */
  parseToken(token: string): TokenClaims | null {
    if (token.length > 4096) return null
    const prefix = token.startsWith(ACCESS_PREFIX)
      ? ACCESS_PREFIX
      : token.startsWith(REFRESH_PREFIX)
        ? REFRESH_PREFIX
        : null
    if (prefix === null) return null
    const value = verifyToken(this.settings.signingSecret, prefix, token)
    if (value === null) return null
    const c = value as Partial<TokenClaims>
    const kind = prefix === ACCESS_PREFIX ? 'a' : 'r'
    if (
      typeof c.a !== 'number' ||
      typeof c.g !== 'string' ||
      typeof c.c !== 'string' ||
      c.k !== kind ||
      typeof c.i !== 'number' ||
      typeof c.e !== 'number' ||
      !Array.isArray(c.p)
    )
      return null
    return {
      a: c.a,
      g: c.g,
      c: c.c,
      k: kind,
      i: c.i,
      e: c.e,
      p: c.p.filter((s): s is string => typeof s === 'string'),
      n: String(c.n),
    }
  }

  /** Whether the grant behind these claims was revoked (by grant or for the whole account). */
  isRevoked(claims: TokenClaims): boolean {
    if (this.revokedGrants.has(claims.g)) return true
    const before = this.accountRevokedBefore.get(claims.a)
    return before !== undefined && claims.i < before
  }

  revokeGrant(grantId: string, accountIndex: number): void {
    this.revokedGrants.delete(grantId)
    this.revokedGrants.set(grantId, this.clock.now())
    for (const key of this.revokedGrants.keys()) {
      if (this.revokedGrants.size <= this.limits.revokedGrants) break
      this.revokedGrants.delete(key)
    }
    this.consented.delete(accountIndex)
  }

  revokeAccount(accountIndex: number): void {
    this.accountRevokedBefore.set(accountIndex, this.clock.now() + 1)
    this.consented.delete(accountIndex)
    for (const [key, c] of this.codes) if (c.accountIndex === accountIndex) this.codes.delete(key)
  }

  /** Units used in the current Pacific day (a new day starts at 0). */
  quotaUsedToday(): number {
    const day = dayAt(QUOTA_TIME_ZONE, this.clock.now())
    if (day.start !== this.quotaDayStart) {
      this.quotaDayStart = day.start
      this.quotaUsed = 0
    }
    return this.quotaUsed
  }

  setQuotaUsed(units: number): void {
    this.quotaUsedToday()
    this.quotaUsed = units
  }

  spendQuota(units: number): void {
    this.quotaUsed = this.quotaUsedToday() + units
  }

  findVideo(id: string): { video: EmulatorVideo; account: GoogleAccount } | null {
    for (const account of this.accounts) {
      const video = account.channel?.videos.find((v) => v.id === id)
      if (video !== undefined) return { video, account }
    }
    return null
  }

  channelById(id: string): GoogleAccount | undefined {
    return this.accounts.find((a) => a.channel?.id === id)
  }

  totalVideos(): number {
    return this.accounts.reduce((n, a) => n + (a.channel?.videos.length ?? 0), 0)
  }

  takeFault(path: string): Fault | null {
    return takeFault(this.faults, path)
  }
}
