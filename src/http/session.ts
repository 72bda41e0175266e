/**
 * @module http/session — local sign-in sessions (the embedded default identity) and the
 * same-origin check for state-changing requests.
 *
 * Sessions live server-side: the cookie holds 32 random bytes, the store holds their SHA-256.
 * Cookies are HttpOnly, SameSite=Lax (the OAuth return is a cross-site top-level GET), and Secure
 * when PUBLIC_URL is https, with the prefix browsers enforce (RFC 6265bis §4.1.3): `__Host-` (no
 * Domain, `Path=/`) for the session and device cookies, `__Secure-` for the OAuth binding, whose
 * path stays `/api/socials/oauth/` so that it travels to the callbacks only.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { GalleryError } from '../errors.ts'
import type { Clock } from '../clock.ts'
import { randomToken, sha256 } from '../crypto/random.ts'
import type { Store } from '../store/types.ts'
import { OUTCOME_TTL_MS, createOutcomeSeal, type LandingOutcome } from './landing-outcome.ts'

export const SESSION_ABSOLUTE_MS = 30 * 86_400_000
export const SESSION_IDLE_MS = 7 * 86_400_000
/** A browser not used to sign in for this long is no longer a known device. */
export const KNOWN_DEVICE_LIFETIME_MS = 365 * 86_400_000

/** What `randomToken(32)` gives: cookies of any other shape are ignored without a lookup. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/

/** Who made a request: resolved by an identity provider (local sessions now, Firebase later). */
export interface Principal {
  readonly userId: string
  readonly via: 'session-cookie' | 'bearer'
}

export interface IdentityProvider {
  authenticate(request: FastifyRequest): Promise<Principal | null>
}

export interface CookieNames {
  readonly session: string
  readonly oauthBinding: string
  /** Marks a browser its user signed in from before (see `SessionManager.knownDevice`). */
  readonly device: string
  /** Carries an OAuth callback's outcome to its landing page (`http/landing-outcome`). */
  readonly outcome: string
}

export function cookieNames(secure: boolean): CookieNames {
  return secure
    ? {
        session: '__Host-psg_session',
        // `__Host-` demands Path=/; `__Secure-` lets the binding reach the OAuth callbacks only
        oauthBinding: '__Secure-psg_oauth',
        device: '__Host-psg_device',
        outcome: '__Host-psg_outcome',
      }
    : {
        session: 'psg_session',
        oauthBinding: 'psg_oauth',
        device: 'psg_device',
        outcome: 'psg_outcome',
      }
}

export interface SessionManager {
  readonly names: CookieNames
  readonly identity: IdentityProvider
  /** Starts a new session (a new id at every login), replacing the request's old one. */
  start(request: FastifyRequest, reply: FastifyReply, userId: string): Promise<void>
  /** Revokes the request's session server-side and clears the cookie. */
  end(request: FastifyRequest, reply: FastifyReply): Promise<void>
  setBinding(reply: FastifyReply, value: string, maxAgeSeconds: number): void
  clearBinding(reply: FastifyReply): void
  /** At the callback: what the landing page may tell this browser (and only this browser). */
  setOutcome(reply: FastifyReply, outcome: LandingOutcome): void
  /** On a landing page: the outcome the callback left for this browser, consumed; else null. */
  takeOutcome(request: FastifyRequest, reply: FastifyReply): LandingOutcome | null
  /**
   * The digest of the request's device cookie when this browser signed in as `userId` before,
   * else null. Known devices skip the per-account sign-in limit, so someone guessing passwords
   * from elsewhere cannot lock the owner out.
   */
  knownDevice(request: FastifyRequest, userId: string): Promise<string | null>
  /**
   * After a successful sign-in: marks this browser as one `userId` uses (a year, renewed).
   * `known` is what `knownDevice` said for this request (null: a new device cookie is issued).
   */
  rememberDevice(
    request: FastifyRequest,
    reply: FastifyReply,
    userId: string,
    known: string | null,
  ): Promise<void>
}

export function createSessionManager(options: {
  store: Store
  clock: Clock
  secure: boolean
  /** Signs the landing-outcome cookie (derived from the encryption key, shared by instances). */
  outcomeKey: Buffer
}): SessionManager {
  const { store, clock, secure } = options
  const outcomes = createOutcomeSeal(options.outcomeKey)
  const names = cookieNames(secure)
  const baseCookie = { httpOnly: true, sameSite: 'lax' as const, secure, path: '/' }

  const identity: IdentityProvider = {
    async authenticate(request) {
      const raw = request.cookies[names.session]
      if (raw === undefined || !TOKEN_SHAPE.test(raw)) return null
      const idHash = sha256(raw)
      const now = clock.now()
      const session = await store.findSession(idHash, now)
      if (session === null) return null
      // Push the idle expiry forward at most once an hour, not on every request.
      if (session.idle_expires_at - now < SESSION_IDLE_MS - 3_600_000)
        await store.touchSession(idHash, now + SESSION_IDLE_MS)
      return { userId: session.user_id, via: 'session-cookie' }
    },
  }

  return {
    names,
    identity,
    /** Starts a new session (a new id at every login), replacing the request's old one. */
    async start(request: FastifyRequest, reply: FastifyReply, userId: string): Promise<void> {
      await this.end(request, reply)
      const raw = randomToken(32)
      const now = clock.now()
      // expired sessions are removed by the hourly purge (job-runner), not at every sign-in
      await store.createSession({
        id_hash: sha256(raw),
        user_id: userId,
        created_at: now,
        expires_at: now + SESSION_ABSOLUTE_MS,
        idle_expires_at: now + SESSION_IDLE_MS,
      })
      void reply.setCookie(names.session, raw, {
        ...baseCookie,
        maxAge: SESSION_ABSOLUTE_MS / 1000,
      })
    },
    async end(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const raw = request.cookies[names.session]
      if (raw !== undefined && raw.length < 200) await store.deleteSession(sha256(raw))
      void reply.clearCookie(names.session, baseCookie)
    },
    async knownDevice(request, userId) {
      const raw = request.cookies[names.device]
      if (raw === undefined || !TOKEN_SHAPE.test(raw)) return null
      const digest = sha256(raw)
      return (await store.isKnownDevice(digest, userId)) ? digest : null
    },
    async rememberDevice(request, reply, userId, known) {
      const raw = known === null ? randomToken(32) : (request.cookies[names.device] ?? '')
      await store.rememberDevice({ digest: sha256(raw), user_id: userId, now: clock.now() })
      void reply.setCookie(names.device, raw, {
        ...baseCookie,
        maxAge: KNOWN_DEVICE_LIFETIME_MS / 1000,
      })
    },
    setBinding(reply: FastifyReply, value: string, maxAgeSeconds: number): void {
      void reply.setCookie(names.oauthBinding, value, {
        ...baseCookie,
        path: '/api/socials/oauth/',
        maxAge: maxAgeSeconds,
      })
    },
    clearBinding(reply: FastifyReply): void {
      void reply.clearCookie(names.oauthBinding, { ...baseCookie, path: '/api/socials/oauth/' })
    },
    setOutcome(reply, outcome) {
      void reply.setCookie(names.outcome, outcomes.seal(outcome, clock.now()), {
        ...baseCookie,
        maxAge: OUTCOME_TTL_MS / 1000,
      })
    },
    takeOutcome(request, reply) {
      const raw = request.cookies[names.outcome]
      if (raw === undefined) return null
      void reply.clearCookie(names.outcome, baseCookie)
      return outcomes.open(raw, clock.now())
    },
  }
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * CSRF defence for cookie-authenticated state changes: the `Origin` must be PUBLIC_URL's, or the
 * browser must say `Sec-Fetch-Site: same-origin`. Sign-in and registration get the same check
 * whenever a browser sends an Origin (login CSRF); clients without one (curl) may sign in.
 */
export function checkSameOrigin(
  request: FastifyRequest,
  publicOrigin: string,
  hasSessionCookie: boolean,
  isSignIn: boolean,
): void {
  if (!UNSAFE_METHODS.has(request.method)) return
  const origin = request.headers.origin
  const fetchSite = request.headers['sec-fetch-site']
  if (origin !== undefined) {
    if (origin === publicOrigin) return
    throw new GalleryError('ERR_FORBIDDEN', 'Cross-origin request refused')
  }
  if (fetchSite === 'same-origin') return
  if (fetchSite !== undefined && fetchSite !== 'none')
    throw new GalleryError('ERR_FORBIDDEN', 'Cross-origin request refused')
  if (hasSessionCookie && !isSignIn) {
    throw new GalleryError(
      'ERR_FORBIDDEN',
      `State-changing requests need an Origin header matching ${publicOrigin}`,
    )
  }
}
