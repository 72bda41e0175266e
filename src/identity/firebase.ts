/**
 * @module identity/firebase — `AUTH_MODE=firebase`: people sign in with Firebase Authentication
 * (as in the original app) and call the API with `Authorization: Bearer <Firebase ID token>`.
 *
 * The token must be an RS256 JWT signed by one of Google's published keys (JWKS, cached and
 * refreshed by `jose`; `FIREBASE_JWKS_URL` points tests at a local one), with issuer
 * `https://securetoken.google.com/<project>`, audience `<project>`, unexpired `exp`, `iat` and
 * `auth_time` not in the future, and a non-empty `sub` (≤ 128 characters): the user id, the same
 * id the original app stored in `user_social_accounts.user_id`.
 *
 * @see https://firebase.google.com/docs/auth/admin/verify-id-tokens#verify_id_tokens_using_a_third-party_jwt_library
 */
import { createRemoteJWKSet, jwtVerify } from 'jose'
import type { FastifyRequest } from 'fastify'
import type { Clock } from '../clock.ts'
import type { Store } from '../store/types.ts'
import type { IdentityProvider } from '../http/session.ts'

export const GOOGLE_SECURETOKEN_JWKS =
  'https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com'

export interface FirebaseIdentityOptions {
  readonly projectId: string
  readonly jwksUrl: string
  readonly clock: Clock
  readonly store: Store
}

/** A bearer token from the Authorization header, or null (malformed headers count as none). */
function bearer(request: FastifyRequest): string | null {
  const header = request.headers.authorization
  if (header === undefined) return null
  const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(header)
  return match?.[1] !== undefined && match[1].length <= 8192 ? match[1] : null
}

export function createFirebaseIdentity(options: FirebaseIdentityOptions): IdentityProvider {
  const keys = createRemoteJWKSet(new URL(options.jwksUrl), {
    cacheMaxAge: 6 * 3_600_000,
    cooldownDuration: 30_000,
    timeoutDuration: 5_000,
  })
  const issuer = `https://securetoken.google.com/${options.projectId}`
  /** Users already known to exist: a verified token costs no database write. */
  const known = new Set<string>()
  return {
    async authenticate(request) {
      const token = bearer(request)
      if (token === null) return null
      const now = options.clock.now()
      let sub: string
      try {
        const { payload } = await jwtVerify(token, keys, {
          algorithms: ['RS256'],
          issuer,
          audience: options.projectId,
          currentDate: new Date(now),
          requiredClaims: ['exp', 'iat', 'sub', 'auth_time'],
          clockTolerance: 5,
        })
        const authTime = payload.auth_time
        if (typeof authTime !== 'number' || authTime * 1000 > now + 5_000) return null
        if (typeof payload.iat !== 'number' || payload.iat * 1000 > now + 5_000) return null
        if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > 128)
          return null
        sub = payload.sub
      } catch (error) {
        request.log.info(
          { reason: error instanceof Error ? error.name : 'unknown' },
          'firebase token refused',
        )
        return null
      }
      if (!known.has(sub)) {
        await options.store.ensureExternalUser(sub, now)
        if (known.size >= 10_000) known.clear()
        known.add(sub)
      }
      return { userId: sub, via: 'bearer' }
    },
  }
}
