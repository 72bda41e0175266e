/**
 * Firebase Authentication stand-ins on loopback: a JWKS endpoint with a key we sign with (in
 * place of Google's), ID tokens minted with it, and a small Firebase Auth emulator (the REST
 * endpoints the JS SDK calls after `connectAuthEmulator`) that issues those tokens, so the web
 * page signs in through the real SDK and the server verifies real RS256 signatures.
 */
import type { TestContext } from 'node:test'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomUUID } from 'node:crypto'
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose'

export const FIREBASE_TEST_PROJECT = 'phoenix-test'
export const FIREBASE_TEST_KID = 'test-key-1'

async function listen(
  t: TestContext,
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<string> {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A JWKS endpoint on loopback, standing in for Google's, with a key we can sign with. */
export interface LocalJwks {
  readonly url: string
  readonly privateKey: CryptoKey
  fetches(): number
}

export async function localJwks(t: TestContext): Promise<LocalJwks> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
  const jwk = { ...(await exportJWK(publicKey)), kid: FIREBASE_TEST_KID, alg: 'RS256', use: 'sig' }
  let fetched = 0
  const base = await listen(t, (_request, response) => {
    fetched++
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify({ keys: [jwk] }))
  })
  return { url: `${base}/jwks`, privateKey, fetches: () => fetched }
}

export interface IdTokenClaims {
  sub?: string
  iss?: string
  aud?: string
  iat?: number
  exp?: number
  auth_time?: number
  email?: string
}

/** A Firebase-shaped ID token signed with `key`; times relative to `nowMs`. */
export function mintIdToken(
  key: CryptoKey,
  nowMs: number,
  claims: IdTokenClaims = {},
  kid = FIREBASE_TEST_KID,
): Promise<string> {
  const now = Math.floor(nowMs / 1000)
  const body = {
    iss: `https://securetoken.google.com/${FIREBASE_TEST_PROJECT}`,
    aud: FIREBASE_TEST_PROJECT,
    sub: 'firebase-uid-alice',
    iat: now - 10,
    exp: now + 3600,
    auth_time: now - 60,
    email: 'alice@example.com',
    ...claims,
  }
  return new SignJWT({ auth_time: body.auth_time, email: body.email })
    .setProtectedHeader({ alg: 'RS256', kid })
    .setIssuer(body.iss)
    .setAudience(body.aud)
    .setSubject(body.sub)
    .setIssuedAt(body.iat)
    .setExpirationTime(body.exp)
    .sign(key)
}

interface EmulatedUser {
  readonly uid: string
  readonly email: string
  readonly password: string
}

/**
 * The part of the Firebase Auth emulator's REST API that e-mail/password sign-in uses
 * (`accounts:signUp`, `accounts:signInWithPassword`, `accounts:lookup`, `token`), with CORS,
 * issuing ID tokens signed by `key`.
 */
export interface FakeFirebaseAuth {
  readonly url: string
  /** By e-mail address. */
  readonly users: Map<string, EmulatedUser>
  /** Paths called, in order. */
  readonly calls: string[]
}

export async function fakeFirebaseAuth(
  t: TestContext,
  key: CryptoKey,
  now: () => number,
): Promise<FakeFirebaseAuth> {
  const users = new Map<string, EmulatedUser>()
  const refreshTokens = new Map<string, EmulatedUser>()
  const calls: string[] = []
  const fail = (response: ServerResponse, message: string): void => {
    response.statusCode = 400
    response.end(JSON.stringify({ error: { code: 400, message, errors: [{ message }] } }))
  }
  const issue = async (user: EmulatedUser) => {
    const refreshToken = randomUUID()
    refreshTokens.set(refreshToken, user)
    return {
      idToken: await mintIdToken(key, now(), { sub: user.uid, email: user.email }),
      refreshToken,
      expiresIn: '3600',
    }
  }
  const url = await listen(t, (request, response) => {
    response.setHeader('access-control-allow-origin', request.headers.origin ?? '*')
    response.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS')
    response.setHeader(
      'access-control-allow-headers',
      request.headers['access-control-request-headers'] ?? 'content-type',
    )
    response.setHeader('content-type', 'application/json')
    if (request.method === 'OPTIONS') {
      response.statusCode = 204
      response.end()
      return
    }
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      void (async () => {
        const path = new URL(request.url ?? '/', 'http://x').pathname
        calls.push(path)
        const raw = Buffer.concat(chunks).toString()
        const body: Record<string, string> = raw.startsWith('{')
          ? (JSON.parse(raw) as Record<string, string>)
          : Object.fromEntries(new URLSearchParams(raw))
        if (path.endsWith('/accounts:signUp')) {
          const email = String(body.email).toLowerCase()
          if (users.has(email)) return fail(response, 'EMAIL_EXISTS')
          if (String(body.password).length < 6)
            return fail(response, 'WEAK_PASSWORD : Password should be at least 6 characters')
          const user = { uid: `fb-${randomUUID()}`, email, password: String(body.password) }
          users.set(email, user)
          return response.end(
            JSON.stringify({
              kind: 'identitytoolkit#SignupNewUserResponse',
              localId: user.uid,
              email,
              ...(await issue(user)),
            }),
          )
        }
        if (path.endsWith('/accounts:signInWithPassword')) {
          const user = users.get(String(body.email).toLowerCase())
          if (user === undefined || user.password !== body.password)
            return fail(response, 'INVALID_LOGIN_CREDENTIALS')
          return response.end(
            JSON.stringify({
              kind: 'identitytoolkit#VerifyPasswordResponse',
              localId: user.uid,
              email: user.email,
              displayName: '',
              registered: true,
              ...(await issue(user)),
            }),
          )
        }
        if (path.endsWith('/accounts:lookup')) {
          const payload = JSON.parse(
            Buffer.from(String(body.idToken).split('.')[1] ?? '', 'base64url').toString(),
          ) as { sub: string; email: string }
          return response.end(
            JSON.stringify({
              kind: 'identitytoolkit#GetAccountInfoResponse',
              users: [
                {
                  localId: payload.sub,
                  email: payload.email,
                  emailVerified: false,
                  providerUserInfo: [
                    {
                      providerId: 'password',
                      email: payload.email,
                      federatedId: payload.email,
                      rawId: payload.email,
                    },
                  ],
                  passwordUpdatedAt: now(),
                  validSince: String(Math.floor(now() / 1000) - 3600),
                  lastLoginAt: String(now()),
                  createdAt: String(now()),
                },
              ],
            }),
          )
        }
        if (path.endsWith('/v1/token')) {
          const user = refreshTokens.get(String(body.refresh_token))
          if (user === undefined) return fail(response, 'INVALID_REFRESH_TOKEN')
          const issued = await issue(user)
          return response.end(
            JSON.stringify({
              id_token: issued.idToken,
              refresh_token: issued.refreshToken,
              expires_in: issued.expiresIn,
              token_type: 'Bearer',
              user_id: user.uid,
              project_id: FIREBASE_TEST_PROJECT,
            }),
          )
        }
        response.statusCode = 404
        response.end(JSON.stringify({ error: { code: 404, message: `not emulated: ${path}` } }))
      })()
    })
  })
  return { url, users, calls }
}
