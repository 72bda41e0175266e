/**
 * @module providers/instagram/emulator/state — the Instagram emulator's in-memory world: users,
 * media, codes, token signing, call accounting and injected faults. Routes live in
 * `oauth-routes.ts`, `graph-routes.ts` and `cdn-routes.ts` (composed by `index.ts`), control
 * operations in `controller.ts`. Signing, the fault queue and the call log are the shared core's
 * (`emulator-core/`); the claims, the `IGAA` prefix and the `oe`/`oh` URLs are Instagram's.
 *
 * Tokens are signed, not stored, so that tokens kept by the app survive an emulator restart
 * (the sandbox keeps working after `npm start` is run again). Authorization codes are stored, and
 * bounded: expired ones are dropped, and past `limits.codes` the oldest go first.
 */
import { randomBytes } from 'node:crypto'
import type { Clock } from '../../../clock.ts'
import { countCallsSince, type LoggedCall } from '../../emulator-core/call-log.ts'
import { cdnExpiry, cdnSignature, verifyCdn } from '../../emulator-core/cdn.ts'
import { takeFault } from '../../emulator-core/faults.ts'
import { signToken, tokenNonce, verifyToken } from '../../emulator-core/tokens.ts'
import { DEFAULT_LIMITS, type EmulatorLimits } from './bounds.ts'

export type EmulatorAccountType = 'BUSINESS' | 'MEDIA_CREATOR' | 'PERSONAL'

export interface EmulatorMedia {
  id: string
  owner_index: number
  username: string
  caption: string | null
  media_type: 'IMAGE' | 'VIDEO' | 'CAROUSEL_ALBUM'
  media_product_type: string
  timestamp: number
  shortcode: string
  like_count: number
  comments_count: number
  hue: number
  children: EmulatorMedia[]
}

export interface EmulatorUser {
  index: number
  /** App-scoped id (`/me` `id`, code-exchange `user_id`). */
  id: string
  /** Professional account id (`/me` `user_id`). */
  user_id: string
  username: string
  name: string
  account_type: EmulatorAccountType
  followers_count: number
  follows_count: number
  /** Newest first. */
  media: EmulatorMedia[]
}

export interface IssuedCode {
  userIndex: number
  clientId: string
  redirectUri: string
  scopes: string[]
  expiresAt: number
  used: boolean
}

export interface TokenClaims {
  /** user index */
  u: number
  /** kind: short-lived or long-lived */
  k: 's' | 'l'
  /** issued at, ms */
  i: number
  /** expires at, ms */
  e: number
  /** scopes */
  p: string[]
  /** nonce */
  n: string
}

/** A fault applied to the next matching Graph/token calls. */
export type Fault =
  | { kind: 'http_5xx'; status?: number; count: number; path?: string }
  | { kind: 'timeout'; count: number; path?: string; hang_ms?: number }
  | {
      kind: 'throttle'
      code: 4 | 17 | 32 | 613 | 80002
      count: number
      path?: string
      minutes?: number
    }
  | {
      kind: 'graph_error'
      code: number
      subcode?: number
      message: string
      count: number
      path?: string
      status?: number
    }

export interface CallRecord extends LoggedCall {
  userIndex: number | null
}

export interface EmulatorSettings {
  readonly clientId: string
  readonly clientSecret: string
  /** Registered OAuth redirect URIs (exact match). */
  readonly redirectUris: readonly string[]
  /** Signs tokens and CDN URLs; keep it stable to keep tokens valid across restarts. */
  readonly signingSecret: string
  /** `flat` (observed in practice) or `wrapped` (`{"data":[...]}` as documented). */
  readonly tokenResponseShape: 'flat' | 'wrapped'
  /** Lifetime of signed media URLs. */
  readonly cdnTtlMs: number
  /** Calls per user per rolling hour before 80002 throttling (models the BUC budget). */
  readonly callsPerHourPerUser: number
  readonly latencyMs: number
}

export const SHORT_TOKEN_TTL_MS = 3_600_000
export const LONG_TOKEN_TTL_MS = 60 * 86_400_000
export const CODE_TTL_MS = 3_600_000
export const MIN_REFRESH_AGE_MS = 86_400_000

/** Instagram-shaped tokens: `IGAA`, then the signed claims (see `TokenClaims`). */
const TOKEN_PREFIX = 'IGAA'

export class EmulatorState {
  settings: EmulatorSettings
  readonly clock: Clock
  readonly limits: EmulatorLimits
  users: EmulatorUser[] = []
  /** Issued codes, oldest first (a `Map` keeps insertion order). */
  readonly codes = new Map<string, IssuedCode>()
  /** user index → tokens issued before this time are invalid, with the subcode to report. */
  readonly invalidations = new Map<number, { before: number; subcode: number }>()
  faults: Fault[] = []
  calls: CallRecord[] = []
  /**
   * Numbers the posts published through the control interface. It only grows (a reset keeps
   * it), so a new media id never repeats one the app may still hold.
   */
  publishedMedia = 0

  constructor(
    settings: EmulatorSettings,
    clock: Clock,
    users: EmulatorUser[],
    limits: EmulatorLimits = DEFAULT_LIMITS,
  ) {
    this.settings = settings
    this.clock = clock
    this.users = users
    this.limits = limits
  }

  userByIndex(index: number): EmulatorUser | undefined {
    return this.users.find((u) => u.index === index)
  }

  /** A new single-use code. Expired codes are dropped first, then the oldest beyond the cap. */
  issueCode(userIndex: number, clientId: string, redirectUri: string, scopes: string[]): string {
    const now = this.clock.now()
    for (const [key, issued] of this.codes) if (issued.expiresAt <= now) this.codes.delete(key)
    for (const key of this.codes.keys()) {
      if (this.codes.size < this.limits.codes) break
      this.codes.delete(key)
    }
    const code = `AQB${randomBytes(48).toString('base64url')}`
    this.codes.set(code, {
      userIndex,
      clientId,
      redirectUri,
      scopes,
      expiresAt: now + CODE_TTL_MS,
      used: false,
    })
    return code
  }

  issueToken(
    userIndex: number,
    kind: 's' | 'l',
    scopes: string[],
  ): { token: string; claims: TokenClaims } {
    const now = this.clock.now()
    const claims: TokenClaims = {
      u: userIndex,
      k: kind,
      i: now,
      e: now + (kind === 's' ? SHORT_TOKEN_TTL_MS : LONG_TOKEN_TTL_MS),
      p: scopes,
      n: tokenNonce(),
    }
    return {
      token: signToken(this.settings.signingSecret, TOKEN_PREFIX, claims),
      claims,
    }
  }

  /** The claims of a well-formed, correctly signed token (expiry not checked), else `null`. */
  parseToken(token: string): TokenClaims | null {
    const value = verifyToken(this.settings.signingSecret, TOKEN_PREFIX, token)
    if (value === null) return null
    const c = value as Partial<TokenClaims>
    if (
      typeof c.u !== 'number' ||
      (c.k !== 's' && c.k !== 'l') ||
      typeof c.i !== 'number' ||
      typeof c.e !== 'number' ||
      !Array.isArray(c.p)
    ) {
      return null
    }
    return {
      u: c.u,
      k: c.k,
      i: c.i,
      e: c.e,
      p: c.p.filter((s): s is string => typeof s === 'string'),
      n: String(c.n),
    }
  }

  /** A media URL signed with an `oe` (hex seconds) expiry, stable within a day. */
  /**
   * A signed CDN URL: a picture (`…/{resource}.svg`, served as JPEG) or, with `'mp4'`, a video's
   * MP4 (`…/{resource}.mp4`; the extension is signed too, so a picture's signature does not
   * open the video).
   */
  signCdnUrl(baseUrl: string, mediaIdValue: string, kind: 'svg' | 'mp4' = 'svg'): string {
    const resource = kind === 'mp4' ? `${mediaIdValue}.mp4` : mediaIdValue
    const oe = cdnExpiry(this.clock.now(), this.settings.cdnTtlMs)
    const oh = cdnSignature(this.settings.signingSecret, resource, oe, '00_')
    return `${baseUrl}/cdn/v/${mediaIdValue}.${kind}?oe=${oe}&oh=${oh}`
  }

  verifyCdnUrl(mediaIdValue: string, oe: string, oh: string): 'ok' | 'expired' | 'bad' {
    return verifyCdn(this.settings.signingSecret, mediaIdValue, oe, oh, this.clock.now(), '00_')
  }

  findMedia(
    id: string,
  ): { media: EmulatorMedia; owner: EmulatorUser; parent: EmulatorMedia | null } | null {
    for (const owner of this.users) {
      for (const media of owner.media) {
        if (media.id === id) return { media, owner, parent: null }
        const child = media.children.find((c) => c.id === id)
        if (child !== undefined) return { media: child, owner, parent: media }
      }
    }
    return null
  }

  /** Calls by this user within the last rolling hour. */
  callsInLastHour(userIndex: number): number {
    const since = this.clock.now() - 3_600_000
    return countCallsSince(this.calls, since, (call) => call.userIndex === userIndex)
  }

  /** Takes the first fault matching `path`, decrementing its count. */
  takeFault(path: string): Fault | null {
    return takeFault(this.faults, path)
  }
}
