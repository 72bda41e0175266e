/**
 * @module http/throttle — request rate limits for the routes attackers like: sign-up, sign-in,
 * connect, the OAuth and Meta callbacks and "Sync now". Over the limit a request gets 429 with
 * `Retry-After` and the JSON envelope, and nothing else happens.
 *
 * Counters are sliding windows kept in the store (`api_budgets`, scopes `http:<rule>:<key>`), so
 * they hold across restarts and instances. Keys are hashed: no e-mail address or IP is stored. A key
 * part that is an IP address counts as its network (`http/client-address`: an IPv6 /64).
 *
 * Sign-in from a browser the account has not signed in from before is limited per IP, per account
 * and IP, and per account: that last one slows password guessing spread over many addresses. A
 * browser the owner signed in from before (a device cookie, `SessionManager.knownDevice`) skips
 * those and has its own limit, so someone hammering the account cannot lock its owner out of
 * browsers the owner has used; in a browser the owner has not used, the per-account limit can
 * (README, SECURITY.md "Not done").
 */
import { createHash } from 'node:crypto'
import { GalleryError } from '../errors.ts'
import type { Clock } from '../clock.ts'
import type { Store } from '../store/types.ts'
import { addressBucket } from './client-address.ts'

const MINUTE = 60_000

export interface ThrottleRule {
  readonly limit: number
  readonly windowMs: number
  /** Said in the 429 message: what was done too often. */
  readonly what: string
}

export const THROTTLE_RULES = {
  register: { limit: 10, windowMs: 60 * MINUTE, what: 'sign-ups from this address' },
  loginIp: { limit: 30, windowMs: 15 * MINUTE, what: 'sign-in attempts from this address' },
  loginAccount: {
    limit: 10,
    windowMs: 15 * MINUTE,
    what: 'sign-in attempts for this account from this address',
  },
  loginUnknownDevices: {
    limit: 30,
    windowMs: 60 * MINUTE,
    what: 'sign-in attempts for this account from browsers it has not signed in from before; a browser you signed in from before still works',
  },
  loginKnownDevice: {
    limit: 10,
    windowMs: 15 * MINUTE,
    what: 'sign-in attempts from this browser',
  },
  connect: { limit: 20, windowMs: 10 * MINUTE, what: 'connection attempts' },
  oauthCallback: { limit: 60, windowMs: 10 * MINUTE, what: 'OAuth callbacks from this address' },
  metaCallback: { limit: 120, windowMs: MINUTE, what: 'Meta callbacks from this address' },
  tiktokWebhook: { limit: 120, windowMs: MINUTE, what: 'TikTok webhooks from this address' },
  syncNow: { limit: 10, windowMs: 10 * MINUTE, what: '"Sync now" requests for this account' },
  profileLink: { limit: 60, windowMs: 60 * MINUTE, what: 'profile links added' },
} as const satisfies Record<string, ThrottleRule>

export type ThrottleRuleName = keyof typeof THROTTLE_RULES

export interface Throttle {
  /** Counts one request under `rule` for these key parts. @throws ERR_RATE_LIMITED over the limit. */
  hit(rule: ThrottleRuleName, ...keyParts: string[]): Promise<void>
}

export function createThrottle(store: Store, clock: Clock): Throttle {
  return {
    async hit(name, ...keyParts) {
      const rule: ThrottleRule = THROTTLE_RULES[name]
      // a client address counts as its network (IPv6 /64, IPv4-mapped as IPv4): see client-address
      const key = createHash('sha256')
        .update(keyParts.map(addressBucket).join('\n'))
        .digest('base64url')
        .slice(0, 22)
      const now = clock.now()
      const verdict = await store.reserveApiCall({
        parts: [
          {
            scope: `http:${name}:${key}`,
            window: { kind: 'rolling', ms: rule.windowMs },
            cap: rule.limit,
          },
        ],
        blockedBy: [],
        now,
      })
      if (verdict.allowed) return
      const seconds = Math.max(1, Math.ceil((verdict.retryAt - now) / 1000))
      throw new GalleryError(
        'ERR_RATE_LIMITED',
        `Too many ${rule.what}; try again in ${seconds < 120 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`}`,
        { retryAfterSeconds: seconds },
      )
    },
  }
}
