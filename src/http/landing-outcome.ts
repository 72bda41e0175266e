/**
 * @module http/landing-outcome — what an OAuth callback tells the page it lands on, carried from
 * the callback to that page in a short-lived, signed, HttpOnly cookie of the browser that made the
 * connection.
 *
 * The landing URL carries only codes (`connect`, `platform`, `reason`, `account`), and a page shows
 * only our own texts for them: anyone can write a link. What a link cannot carry is the provider's
 * own description of a failure, nor the proof that a connection really just succeeded here (which
 * lets the page start the first sync): those travel in this cookie, which no link can set, and the
 * landing page consumes it (server-side) once.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { landingOutcomeOf, type LandingOutcome } from '../socials/messages.ts'

export type { LandingOutcome }

/** How long the outcome waits for its landing page. */
export const OUTCOME_TTL_MS = 2 * 60_000

export interface OutcomeSeal {
  /** The cookie value for `outcome`, valid until `now + OUTCOME_TTL_MS`. */
  seal(outcome: LandingOutcome, now: number): string
  /** The outcome in a cookie value, if it is ours, intact and not expired; else null. */
  open(value: string | undefined, now: number): LandingOutcome | null
}

export function createOutcomeSeal(key: Buffer): OutcomeSeal {
  const mac = (payload: string): Buffer =>
    createHmac('sha256', key).update(payload).digest().subarray(0, 16)
  return {
    seal(outcome, now) {
      const payload = Buffer.from(
        JSON.stringify({ ...outcome, exp: now + OUTCOME_TTL_MS }),
      ).toString('base64url')
      return `${payload}.${mac(payload).toString('base64url')}`
    },
    open(value, now) {
      if (value === undefined || value.length > 2048) return null
      const [payload = '', signature = '', ...rest] = value.split('.')
      if (rest.length > 0 || !/^[A-Za-z0-9_-]+$/.test(payload)) return null
      const given = Buffer.from(signature, 'base64url')
      const expected = mac(payload)
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null
      let parsed: unknown
      try {
        parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
      } catch {
        return null
      }
      return validOutcome(parsed, now)
    },
  }
}

function validOutcome(value: unknown, now: number): LandingOutcome | null {
  if (typeof value !== 'object' || value === null) return null
  const exp = (value as { exp?: unknown }).exp
  if (typeof exp !== 'number' || exp <= now) return null
  return landingOutcomeOf(value)
}
