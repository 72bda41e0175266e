/**
 * @module providers/tiktok/emulator/state — the TikTok emulator's in-memory world: TikTok
 * accounts and their videos, authorization codes, grants (with the current generation of their
 * rotating refresh token), revocations, the per-endpoint rate windows, pending webhook
 * deliveries, injected faults and the call log. Routes live in `oauth-routes.ts`,
 * `data-routes.ts` and `cdn-routes.ts` (composed by `index.ts`), control operations in
 * `controller.ts`. Signing, the fault queue and the call log are the shared core's
 * (`emulator-core/`); the `act.`, `rft.` and code shapes are TikTok's.
 *
 * Access and refresh tokens are signed, not stored. Rotation needs one fact per grant: which
 * refresh token is the current one (its generation `r`). A grant the emulator does not know (it
 * restarted with the same signing secret) adopts the generation first presented, so tokens the
 * app kept survive a restart and rotation holds from then on.
 */
import { randomBytes } from 'node:crypto'
import type { Clock } from '../../../clock.ts'
import type { LoggedCall } from '../../emulator-core/call-log.ts'
import { takeFault } from '../../emulator-core/faults.ts'
import { signToken, tokenNonce, verifyToken } from '../../emulator-core/tokens.ts'
import type { TiktokEmulatorLimits } from './bounds.ts'

/** `public` videos are listed; `private` (SELF_ONLY) ones never are. */
export type Privacy = 'public' | 'private'

export interface EmulatorVideo {
  /** 19 decimal digits, like TikTok's item ids. */
  id: string
  /** Epoch seconds (TikTok's `create_time`); unique within an account. */
  createTime: number
  title: string
  description: string
  durationSeconds: number
  width: number
  height: number
  privacy: Privacy
  hue: number
}

export interface TiktokAccount {
  index: number
  /** The account's id for this app (`open_id`). */
  openId: string
  /** The account's id across the developer's apps (`union_id`). */
  unionId: string
  /** Without `@`. */
  username: string
  displayName: string
  bio: string
  verified: boolean
  followerCount: number
  followingCount: number
  likesCount: number
  hue: number
  /** Newest first. */
  videos: EmulatorVideo[]
}

export interface IssuedCode {
  accountIndex: number
  grantId: string
  clientKey: string
  redirectUri: string
  scopes: string[]
  /** The S256 challenge; `null` only when the emulator does not require PKCE. */
  challenge: string | null
  expiresAt: number
  used: boolean
}

/** One consent: the account, its scopes, and the refresh token's fixed end and generation. */
export interface Grant {
  accountIndex: number
  scopes: string[]
  /** `refresh_expires_in` counts down to this: rotation does not extend it. */
  refreshExpiresAt: number
  /** The generation of the one refresh token that works; each refresh increments it. */
  generation: number
}

/** The claims of both token kinds. */
export interface TokenClaims {
  /** account index */
  a: number
  /** grant id */
  g: string
  /** client key the token was issued to */
  c: string
  k: 'a' | 'r'
  /** issued at, ms */
  i: number
  /** expires at, ms */
  e: number
  /** granted scopes */
  p: string[]
  /** refresh token generation (refresh tokens only; 0 on access tokens) */
  r: number
  n: string
}

/** Faults, answered in TikTok's shapes. */
export type Fault =
  /** 5xx `internal_error` (status 500 unless given). */
  | { kind: 'http_5xx'; status?: number; count: number; path?: string }
  /** 429 `rate_limit_exceeded`. */
  | { kind: 'rate_limit'; count: number; path?: string }
  /** 401 `access_token_invalid`. */
  | { kind: 'invalid_token'; count: number; path?: string }
  /** 400 `invalid_params`: a permanent refusal of the request. */
  | { kind: 'invalid_params'; count: number; path?: string }
  | { kind: 'latency'; ms: number; count: number; path?: string }
  | { kind: 'drop'; count: number; path?: string }

export interface CallRecord extends LoggedCall {
  clientKey: string | null
  accountIndex: number | null
}

/**
 * `current`: access 2 h, refresh 180 d (TikTok's newest docs, T1/T2); `legacy`: 24 h / 365 d
 * (older docs, T5).
 */
export type Lifetimes = 'current' | 'legacy'

/** A webhook event waiting for a 200 (TikTok retries for up to 72 hours). */
export interface PendingWebhook {
  /** The raw JSON body, signed anew at each attempt. */
  readonly body: string
  readonly createdAt: number
  attempts: number
  lastStatus: number | null
}

export interface TiktokEmulatorSettings {
  readonly clientKey: string
  readonly clientSecret: string
  /** Registered redirect URIs (exact match). */
  readonly redirectUris: readonly string[]
  readonly signingSecret: string
  readonly lifetimes: Lifetimes
  /** The HTTP status OAuth errors come with: 400, or 200 as TikTok has been seen to send. */
  readonly oauthErrorStatus: 200 | 400
  /** Requests per endpoint per sliding minute (TikTok: 600). */
  readonly ratePerMinute: number
  /** Whether the authorize step requires an S256 `code_challenge` (default true). */
  readonly requirePkce: boolean
  /** Where `authorization.removed` events are POSTed; `null`: no webhook configured. */
  readonly webhookUrl: string | null
}

export const LIFETIMES: Readonly<Record<Lifetimes, { accessMs: number; refreshMs: number }>> = {
  current: { accessMs: 2 * 3_600_000, refreshMs: 180 * 86_400_000 },
  legacy: { accessMs: 24 * 3_600_000, refreshMs: 365 * 86_400_000 },
}

/** TikTok documents no code lifetime; ten minutes here (UNCONFIRMED). */
export const CODE_TTL_MS = 10 * 60_000
/** How long a cover (and avatar) URL is signed for: about 6 hours (T10). */
export const COVER_TTL_MS = 6 * 3_600_000
export const RATE_WINDOW_MS = 60_000
/** TikTok retries a webhook delivery for up to 72 hours (T12). */
export const WEBHOOK_RETRY_MS = 72 * 3_600_000

const ACCESS_PREFIX = 'act.'
const REFRESH_PREFIX = 'rft.'
/** TikTok's tokens end in `!<digits>` (a data-centre tag, T3/T5 examples). */
const TOKEN_SUFFIX = '!6393'
const REFRESH_SUFFIX = '!6418'

export class TiktokEmulatorState {
  settings: TiktokEmulatorSettings
  readonly clock: Clock
  readonly limits: TiktokEmulatorLimits
  accounts: TiktokAccount[]
  /** Issued codes, oldest first. */
  readonly codes = new Map<string, IssuedCode>()
  /** Grants by id (oldest first, bounded by `limits.grants`). */
  readonly grants = new Map<string, Grant>()
  /** Revoked grant ids → when (oldest first, bounded). */
  readonly revokedGrants = new Map<string, number>()
  /** account index → tokens issued before this time are revoked. */
  readonly accountRevokedBefore = new Map<number, number>()
  /** Access tokens issued before this time answer `access_token_invalid`. */
  accessExpiredBefore = 0
  /** Refresh tokens issued before this time answer `invalid_grant`. */
  refreshExpiredBefore = 0
  /** Per endpoint path: the times of the calls admitted in the last minute, oldest first. */
  readonly rateWindows = new Map<string, number[]>()
  pendingWebhooks: PendingWebhook[] = []
  faults: Fault[] = []
  calls: CallRecord[] = []
  /** Numbers videos added through the control interface; only grows so an id never repeats. */
  addedVideos = 0

  constructor(
    settings: TiktokEmulatorSettings,
    clock: Clock,
    accounts: TiktokAccount[],
    limits: TiktokEmulatorLimits,
  ) {
    this.settings = settings
    this.clock = clock
    this.accounts = accounts
    this.limits = limits
  }

  accountByIndex(index: number): TiktokAccount | undefined {
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
    // TikTok's codes: a long base64url run ending in `*0!<digits>`
    const code = `${randomBytes(60).toString('base64url')}*0!6410`
    this.codes.set(code, {
      ...issued,
      grantId: randomBytes(12).toString('base64url'),
      expiresAt: now + CODE_TTL_MS,
      used: false,
    })
    return code
  }

  /** Records a new grant (a code exchange), bounded: past the cap the oldest are forgotten. */
  addGrant(grantId: string, grant: Grant): void {
    this.grants.set(grantId, grant)
    for (const key of this.grants.keys()) {
      if (this.grants.size <= this.limits.grants) break
      this.grants.delete(key)
    }
  }

  issueToken(kind: 'a' | 'r', grantId: string, grant: Grant): string {
    const now = this.clock.now()
    // the expiry and revocation marks are "issued before now + 1 ms": a token issued in the
    // same millisecond, after a mark was set, is dated at the mark so that it is not caught by it
    // (a mark further ahead, after the clock moved back, leaves the date alone)
    const marks = [
      kind === 'a' ? this.accessExpiredBefore : this.refreshExpiredBefore,
      this.accountRevokedBefore.get(grant.accountIndex) ?? 0,
    ]
    const issuedAt = marks.some((mark) => mark === now + 1) ? now + 1 : now
    const claims: TokenClaims = {
      a: grant.accountIndex,
      g: grantId,
      c: this.settings.clientKey,
      k: kind,
      i: issuedAt,
      e: kind === 'a' ? now + LIFETIMES[this.settings.lifetimes].accessMs : grant.refreshExpiresAt,
      p: grant.scopes,
      r: kind === 'r' ? grant.generation : 0,
      n: tokenNonce(),
    }
    const prefix = kind === 'a' ? ACCESS_PREFIX : REFRESH_PREFIX
    const suffix = kind === 'a' ? TOKEN_SUFFIX : REFRESH_SUFFIX
    return `${signToken(this.settings.signingSecret, prefix, claims)}${suffix}`
  }

  /** The claims of a well-formed, correctly signed token of either kind, else `null`. */
  parseToken(token: string): TokenClaims | null {
    if (token.length > 4096) return null
    const bare = token.replace(/![0-9]{1,8}$/, '')
    const prefix = bare.startsWith(ACCESS_PREFIX)
      ? ACCESS_PREFIX
      : bare.startsWith(REFRESH_PREFIX)
        ? REFRESH_PREFIX
        : null
    if (prefix === null) return null
    const value = verifyToken(this.settings.signingSecret, prefix, bare)
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
      typeof c.r !== 'number' ||
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
      r: c.r,
      n: String(c.n),
    }
  }

  /** Whether the grant behind these claims was revoked (by grant or for the whole account). */
  isRevoked(claims: TokenClaims): boolean {
    if (this.revokedGrants.has(claims.g)) return true
    const before = this.accountRevokedBefore.get(claims.a)
    return before !== undefined && claims.i < before
  }

  revokeGrant(grantId: string): void {
    this.revokedGrants.delete(grantId)
    this.revokedGrants.set(grantId, this.clock.now())
    this.grants.delete(grantId)
    for (const key of this.revokedGrants.keys()) {
      if (this.revokedGrants.size <= this.limits.revokedGrants) break
      this.revokedGrants.delete(key)
    }
  }

  /** Revokes every grant of the account issued until now; returns how many grants were known. */
  revokeAccount(accountIndex: number): number {
    this.accountRevokedBefore.set(accountIndex, this.clock.now() + 1)
    let n = 0
    for (const [id, g] of this.grants) {
      if (g.accountIndex !== accountIndex) continue
      this.grants.delete(id)
      n++
    }
    for (const [key, c] of this.codes) if (c.accountIndex === accountIndex) this.codes.delete(key)
    return n
  }

  /**
   * Admits one call to `endpoint` in its sliding minute, or refuses it (`false`) when the
   * minute already holds `ratePerMinute` calls. Refused calls are not counted.
   */
  admit(endpoint: string): boolean {
    const now = this.clock.now()
    const window = this.rateWindows.get(endpoint) ?? []
    while (window.length > 0 && (window[0] ?? 0) <= now - RATE_WINDOW_MS) window.shift()
    // a clock moved backwards: calls "in the future" count until the clock passes them
    if (window.length >= this.settings.ratePerMinute) {
      this.rateWindows.set(endpoint, window)
      return false
    }
    window.push(now)
    this.rateWindows.set(endpoint, window)
    return true
  }

  findVideo(id: string): { video: EmulatorVideo; account: TiktokAccount } | null {
    for (const account of this.accounts) {
      const video = account.videos.find((v) => v.id === id)
      if (video !== undefined) return { video, account }
    }
    return null
  }

  accountByOpenId(openId: string): TiktokAccount | undefined {
    return this.accounts.find((a) => a.openId === openId)
  }

  totalVideos(): number {
    return this.accounts.reduce((n, a) => n + a.videos.length, 0)
  }

  takeFault(path: string): Fault | null {
    return takeFault(this.faults, path)
  }

  /** TikTok's `log_id`: the UTC time (yyyymmddhhmmss) and 20 upper-case hex characters. */
  logId(): string {
    const stamp = new Date(this.clock.now()).toISOString().replace(/\D/g, '').slice(0, 14)
    return `${stamp}${randomBytes(10).toString('hex').toUpperCase()}`
  }
}
