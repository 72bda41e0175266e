/**
 * @module providers/x/emulator/state — the X emulator's in-memory world: accounts and their posts
 * (newest first), authorization codes, grants, the current refresh token of each grant (X's are
 * single-use), revocations, the 15-minute rate windows, the month's post reads and the App's
 * credits, injected faults and the call log. Routes live in `oauth-routes.ts`, `data-routes.ts`
 * and `cdn-routes.ts` (composed by `index.ts`), control operations in `controller.ts`.
 *
 * Access and refresh tokens are signed, not stored (`emulator-core/tokens.ts`). Rotation needs a
 * memory: each grant remembers the nonce of its newest refresh token, and only that one refreshes.
 * A grant the emulator does not remember (after a restart, or forgotten past `limits.grants`)
 * accepts the first refresh token presented, whose successor is then the current one.
 */
import { randomBytes } from 'node:crypto'
import type { Clock } from '../../../clock.ts'
import { monthAt } from '../../../socials/budget-windows.ts'
import type { LoggedCall } from '../../emulator-core/call-log.ts'
import { takeFault } from '../../emulator-core/faults.ts'
import { signToken, tokenNonce, verifyToken } from '../../emulator-core/tokens.ts'
import type { XEmulatorLimits } from './bounds.ts'

export type EmulatorMediaType = 'photo' | 'video' | 'animated_gif'

export interface EmulatorMedia {
  /** `3_<id>` (photo), `7_<id>` (video), `16_<id>` (GIF). */
  key: string
  type: EmulatorMediaType
  width: number
  height: number
  /** Videos only. */
  durationMs: number | null
  altText: string | null
  hue: number
}

export interface EmulatorPost {
  /** A snowflake: ordered like `createdAt`. */
  id: string
  text: string
  createdAt: number
  /** A reply (left out by `exclude=replies`). */
  reply: boolean
  /** A repost (left out by `exclude=retweets`). */
  retweet: boolean
  media: EmulatorMedia[]
}

export interface XAccount {
  index: number
  /** Digits, like X's user ids. */
  id: string
  name: string
  username: string
  followers: number
  hue: number
  /** Newest first. */
  posts: EmulatorPost[]
}

export interface IssuedCode {
  accountIndex: number
  grantId: string
  clientId: string
  redirectUri: string
  scopes: string[]
  challenge: { value: string; method: 'S256' | 'plain' }
  expiresAt: number
  used: boolean
}

/** The claims of both token kinds. */
export interface TokenClaims {
  /** account index */
  a: number
  /** grant id: revoking the grant revokes every token carrying it */
  g: string
  /** client id */
  c: string
  k: 'a' | 'r'
  /** issued at, ms */
  i: number
  /** expires at, ms */
  e: number
  /** granted scopes */
  p: string[]
  /** nonce (the refresh token's identity for rotation) */
  n: string
}

/** What an injected fault answers, in X's own shapes. */
export type Fault =
  | { kind: 'http_5xx'; status?: number; count: number; path?: string }
  /** A 429 with the window's reset, as if the 15-minute window were spent. */
  | { kind: 'rate_limit'; count: number; path?: string }
  /** `429 UsageCapExceeded`: the monthly product cap. */
  | { kind: 'usage_capped'; count: number; path?: string }
  /** `402 credits-depleted`: pay-per-use credits spent. */
  | { kind: 'credits_depleted'; count: number; path?: string }
  /** `403 client-not-enrolled`: the App is not attached to a Project. */
  | { kind: 'client_not_enrolled'; count: number; path?: string }
  /** `401 Unauthorized`, whatever the token. */
  | { kind: 'unauthorized'; count: number; path?: string }
  | { kind: 'latency'; ms: number; count: number; path?: string }
  | { kind: 'drop'; count: number; path?: string }

export interface CallRecord extends LoggedCall {
  clientId: string | null
  accountIndex: number | null
  /** Posts the answer returned (what X bills). */
  postsRead: number
}

export type ClientType = 'confidential' | 'public'

export interface XEmulatorSettings {
  readonly clientId: string
  readonly clientSecret: string
  /** `confidential`: HTTP Basic at the token endpoint; `public`: `client_id` in the body. */
  readonly clientType: ClientType
  /** Registered callback URLs (exact match). */
  readonly redirectUris: readonly string[]
  readonly signingSecret: string
  /** Post reads per calendar month (UTC) before `429 UsageCapExceeded`. */
  readonly monthlyPostCap: number
  /** Requests per 15 minutes per user and endpoint. */
  readonly rateLimits: { readonly me: number; readonly timeline: number }
}

export const ACCESS_TOKEN_TTL_MS = 2 * 3_600_000
export const ACCESS_TOKEN_EXPIRES_IN = 7200
/** X's authorization codes live 30 seconds (X1 glossary). */
export const CODE_TTL_MS = 30_000
/** Refresh tokens have no documented lifetime; the claim needs one (six months, UNCONFIRMED). */
export const REFRESH_TOKEN_TTL_MS = 183 * 86_400_000
export const RATE_WINDOW_MS = 15 * 60_000
/** Newest posts a timeline reaches (X7). */
export const TIMELINE_WINDOW = 3_200
/** Pay-per-use prices in micro-dollars (providers.md §3.4). */
export const POST_READ_MICROS = 5_000
export const USER_READ_MICROS = 10_000
/** X's pay-per-use cap: 3 M post reads a month. */
export const DEFAULT_MONTHLY_POST_CAP = 3_000_000

const ACCESS_PREFIX = 'XAT-'
const REFRESH_PREFIX = 'XRT-'
const CODE_PREFIX = 'XAC-'

export type RateEndpoint = 'me' | 'timeline'

/** One 15-minute window of one user and endpoint: it starts at its first call. */
interface RateWindow {
  start: number
  used: number
}

export class XEmulatorState {
  settings: XEmulatorSettings
  readonly clock: Clock
  readonly limits: XEmulatorLimits
  accounts: XAccount[]
  /** Issued codes, oldest first. */
  readonly codes = new Map<string, IssuedCode>()
  /** grant id → nonce of its current refresh token (oldest grants first, bounded). */
  readonly currentRefresh = new Map<string, string>()
  /** Revoked grant ids → when (oldest first, bounded). */
  readonly revokedGrants = new Map<string, number>()
  /** account index → tokens issued before this time are revoked. */
  readonly accountRevokedBefore = new Map<number, number>()
  /** Access tokens issued before this time answer 401 (`control.expireAccessTokens`). */
  accessExpiredBefore = 0
  /** `<account index>:<endpoint>` → its window. */
  readonly rateWindows = new Map<string, RateWindow>()
  /** Post reads in the UTC month starting at `usageMonthStart`. */
  usageMonthStart = 0
  postsRead = 0
  /** The App's pay-per-use credits (micro-dollars); `null`: not metered (a subscription). */
  creditMicros: number | null = null
  faults: Fault[] = []
  calls: CallRecord[] = []
  /** Numbers posts and media made here; only grows so an id never repeats. */
  sequence = 0

  constructor(
    settings: XEmulatorSettings,
    clock: Clock,
    accounts: XAccount[],
    limits: XEmulatorLimits,
  ) {
    this.settings = settings
    this.clock = clock
    this.accounts = accounts
    this.limits = limits
  }

  accountByIndex(index: number): XAccount | undefined {
    return this.accounts.find((a) => a.index === index)
  }

  accountById(id: string): XAccount | undefined {
    return this.accounts.find((a) => a.id === id)
  }

  /** A new single-use code. Expired codes are dropped first, then the oldest beyond the cap. */
  issueCode(issued: Omit<IssuedCode, 'expiresAt' | 'used' | 'grantId'>): string {
    const now = this.clock.now()
    for (const [key, c] of this.codes) if (c.expiresAt <= now) this.codes.delete(key)
    for (const key of this.codes.keys()) {
      if (this.codes.size < this.limits.codes) break
      this.codes.delete(key)
    }
    const code = `${CODE_PREFIX}${randomBytes(48).toString('base64url')}`
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
    const claims: TokenClaims = {
      a: accountIndex,
      g: grantId,
      c: this.settings.clientId,
      k: kind,
      i: now,
      e: now + (kind === 'a' ? ACCESS_TOKEN_TTL_MS : REFRESH_TOKEN_TTL_MS),
      p: scopes,
      n: tokenNonce(),
    }
    if (kind === 'r') {
      // the newest refresh token of the grant is the only one that works
      this.currentRefresh.delete(grantId)
      this.currentRefresh.set(grantId, claims.n)
      for (const key of this.currentRefresh.keys()) {
        if (this.currentRefresh.size <= this.limits.grants) break
        this.currentRefresh.delete(key)
      }
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
    const kind = token.startsWith(ACCESS_PREFIX)
      ? 'a'
      : token.startsWith(REFRESH_PREFIX)
        ? 'r'
        : null
    if (kind === null) return null
    const value = verifyToken(
      this.settings.signingSecret,
      kind === 'a' ? ACCESS_PREFIX : REFRESH_PREFIX,
      token,
    )
    if (value === null) return null
    const c = value as Partial<TokenClaims>
    if (
      typeof c.a !== 'number' ||
      typeof c.g !== 'string' ||
      typeof c.c !== 'string' ||
      c.k !== kind ||
      typeof c.i !== 'number' ||
      typeof c.e !== 'number' ||
      typeof c.n !== 'string' ||
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
      n: c.n,
    }
  }

  /** Whether this refresh token is its grant's newest (rotation: older ones are spent). */
  isCurrentRefresh(claims: TokenClaims): boolean {
    const current = this.currentRefresh.get(claims.g)
    return current === undefined || current === claims.n
  }

  isRevoked(claims: TokenClaims): boolean {
    if (this.revokedGrants.has(claims.g)) return true
    const before = this.accountRevokedBefore.get(claims.a)
    return before !== undefined && claims.i < before
  }

  revokeGrant(grantId: string): void {
    this.revokedGrants.delete(grantId)
    this.revokedGrants.set(grantId, this.clock.now())
    this.currentRefresh.delete(grantId)
    for (const key of this.revokedGrants.keys()) {
      if (this.revokedGrants.size <= this.limits.revokedGrants) break
      this.revokedGrants.delete(key)
    }
  }

  revokeAccount(accountIndex: number): void {
    this.accountRevokedBefore.set(accountIndex, this.clock.now() + 1)
    for (const [key, c] of this.codes) if (c.accountIndex === accountIndex) this.codes.delete(key)
  }

  /**
   * Counts one request of the account on `endpoint` in its 15-minute window. Returns the window
   * as X reports it; `allowed: false` once the window is spent.
   */
  countRequest(
    accountIndex: number,
    endpoint: RateEndpoint,
  ): { allowed: boolean; limit: number; remaining: number; resetAt: number } {
    const now = this.clock.now()
    const key = `${accountIndex}:${endpoint}`
    const limit = this.settings.rateLimits[endpoint]
    let window = this.rateWindows.get(key)
    if (window === undefined || window.start + RATE_WINDOW_MS <= now) {
      window = { start: now, used: 0 }
      this.rateWindows.set(key, window)
    }
    const resetAt = window.start + RATE_WINDOW_MS
    if (window.used >= limit) return { allowed: false, limit, remaining: 0, resetAt }
    window.used += 1
    return { allowed: true, limit, remaining: limit - window.used, resetAt }
  }

  /** Post reads in the current UTC month (a new month starts at 0). */
  postsReadThisMonth(): number {
    const month = monthAt('UTC', this.clock.now())
    if (month.start !== this.usageMonthStart) {
      this.usageMonthStart = month.start
      this.postsRead = 0
    }
    return this.postsRead
  }

  setPostsRead(n: number): void {
    this.postsReadThisMonth()
    this.postsRead = n
  }

  /** Bills `posts` post reads and `users` user reads. */
  bill(posts: number, users: number): void {
    this.postsRead = this.postsReadThisMonth() + posts
    if (this.creditMicros !== null)
      this.creditMicros -= posts * POST_READ_MICROS + users * USER_READ_MICROS
  }

  findPost(id: string): { post: EmulatorPost; account: XAccount } | null {
    for (const account of this.accounts) {
      const post = account.posts.find((p) => p.id === id)
      if (post !== undefined) return { post, account }
    }
    return null
  }

  findMedia(key: string): EmulatorMedia | null {
    for (const account of this.accounts)
      for (const post of account.posts) {
        const media = post.media.find((m) => m.key === key)
        if (media !== undefined) return media
      }
    return null
  }

  totalPosts(): number {
    return this.accounts.reduce((n, a) => n + a.posts.length, 0)
  }

  takeFault(path: string): Fault | null {
    return takeFault(this.faults, path)
  }
}
