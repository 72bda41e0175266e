import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair, type CryptoKey } from 'jose'
import {
  FIREBASE_TEST_PROJECT,
  localJwks,
  mintIdToken,
  type IdTokenClaims,
} from '../helpers/firebase.ts'
import { ORIGIN, buildTestApp, consent, type TestApp } from '../helpers/build-app.ts'

const PROJECT = FIREBASE_TEST_PROJECT

const mint = (app: TestApp, key: CryptoKey, claims: IdTokenClaims = {}, kid?: string) =>
  mintIdToken(key, app.clock.now(), claims, kid)

async function firebaseApp(t: TestContext) {
  const jwks = await localJwks(t)
  const app = await buildTestApp(t, {
    AUTH_MODE: 'firebase',
    FIREBASE_PROJECT_ID: PROJECT,
    FIREBASE_JWKS_URL: jwks.url,
  })
  return { app, jwks }
}

const me = (app: TestApp, token: string | null) =>
  app.request({
    method: 'GET',
    url: '/api/auth/me',
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  })

test('Firebase mode: a valid ID token is the user (its sub); the user record appears on first use', async (t) => {
  const { app, jwks } = await firebaseApp(t)
  const token = await mint(app, jwks.privateKey)
  const response = await me(app, token)
  assert.equal(response.statusCode, 200, response.body)
  assert.equal(response.json<{ user: { id: string } }>().user.id, 'firebase-uid-alice')
  assert.equal((await me(app, token)).statusCode, 200)
  assert.equal(jwks.fetches(), 1, 'the key set is cached')
  const users = await app.raw('SELECT id, password_hash FROM users')
  assert.deepEqual(
    users.map((u) => u.id),
    ['firebase-uid-alice'],
  )
  assert.ok(!String(users[0]?.password_hash).startsWith('scrypt$'), 'no password')
  const accounts = await app.request({
    method: 'GET',
    url: '/api/socials/accounts',
    headers: { authorization: `Bearer ${token}` },
  })
  assert.equal(accounts.statusCode, 200)
})

test('Firebase mode: missing, expired, tampered, foreign and malformed tokens get 401 with the envelope', async (t) => {
  const { app, jwks } = await firebaseApp(t)
  const now = Math.floor(app.clock.now() / 1000)
  const other = await generateKeyPair('RS256')
  const good = await mint(app, jwks.privateKey)
  const [header = '', payload = '', signature = ''] = good.split('.')
  const tamperedPayload = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'mallory' }),
  ).toString('base64url')
  const cases: Record<string, string | null> = {
    missing: null,
    expired: await mint(app, jwks.privateKey, { iat: now - 7200, exp: now - 3600 }),
    'tampered payload': `${header}.${tamperedPayload}.${signature}`,
    'signed by another key': await mint(app, other.privateKey),
    'unknown key id': await mint(app, other.privateKey, {}, 'test-key-2'),
    'another project (audience)': await mint(app, jwks.privateKey, { aud: 'other-project' }),
    'another issuer': await mint(app, jwks.privateKey, {
      iss: 'https://securetoken.google.com/other-project',
    }),
    'empty subject': await mint(app, jwks.privateKey, { sub: '' }),
    'signed in in the future': await mint(app, jwks.privateKey, { auth_time: now + 3600 }),
    'issued in the future': await mint(app, jwks.privateKey, { iat: now + 3600 }),
    'not a JWT': 'not-a-jwt',
    'alg none': `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`,
  }
  for (const [name, token] of Object.entries(cases)) {
    const response = await app.request({
      method: 'GET',
      url: '/api/socials/accounts',
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    })
    assert.equal(response.statusCode, 401, name)
    assert.equal(
      response.json<{ error: { code: string } }>().error.code,
      'ERR_UNAUTHENTICATED',
      name,
    )
  }
  assert.equal(
    (await app.raw('SELECT id FROM users')).length,
    0,
    'no user created by a refused token',
  )
  for (const line of app.logs)
    assert.equal(line.includes(signature), false, 'tokens are not logged')
})

test('Firebase mode: local sign-up and sign-in are refused; connecting works with the bearer token and the callback finds its user through the state', async (t) => {
  const { app, jwks } = await firebaseApp(t)
  const register = await app.request({
    method: 'POST',
    url: '/api/auth/register',
    headers: { origin: ORIGIN, 'content-type': 'application/json' },
    payload: JSON.stringify({ email: 'a@example.com', password: 'correct horse battery' }),
  })
  assert.equal(register.statusCode, 403)
  assert.match(register.json<{ error: { message: string } }>().error.message, /Firebase/)

  const token = await mint(app, jwks.privateKey)
  const connect = await app.request({
    method: 'POST',
    url: '/api/socials/connect/instagram',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ mode: 'redirect' }),
  })
  assert.equal(connect.statusCode, 200, connect.body)
  const binding = connect.cookies.find((c) => c.name === 'psg_oauth')?.value ?? ''
  const url = new URL(connect.json<{ authorization_url: string }>().authorization_url)
  const callback = await consent(app, url, 'allow')
  // the browser comes back from Instagram with the binding cookie, without the ID token
  const landed = await app.request({
    method: 'GET',
    url: callback,
    headers: { cookie: `psg_oauth=${binding}` },
  })
  assert.match(String(landed.headers.location), /connect=success/)
  const accounts = await app.raw('SELECT user_id, username FROM user_social_accounts')
  assert.deepEqual(accounts, [{ user_id: 'firebase-uid-alice', username: 'sandbox_creator' }])
})

test('AUTH_MODE=firebase needs a project id', async (t) => {
  await assert.rejects(buildTestApp(t, { AUTH_MODE: 'firebase' }), /FIREBASE_PROJECT_ID/)
  await assert.rejects(
    buildTestApp(t, { AUTH_MODE: 'ldap' }),
    /AUTH_MODE must be local or firebase/,
  )
})

test('Firebase mode: the page carries the SDK settings and a CSP that lets only Firebase’s endpoints in', async (t) => {
  const { app } = await firebaseApp(t)
  const page = await app.request({ method: 'GET', url: '/gallery' })
  const csp = String(page.headers['content-security-policy'])
  assert.match(
    csp,
    /connect-src 'self' https:\/\/identitytoolkit\.googleapis\.com https:\/\/securetoken\.googleapis\.com(;|$)/,
  )
  assert.match(csp, /frame-src https:\/\/phoenix-test\.firebaseapp\.com(;|$)/)
  const meta = /<meta name="psg-auth" content="([^"]*)"/.exec(page.body)?.[1]
  assert.ok(meta !== undefined)
  assert.deepEqual(JSON.parse(meta.replaceAll('&#34;', '"')), {
    mode: 'firebase',
    projectId: PROJECT,
    apiKey: null,
    authDomain: 'phoenix-test.firebaseapp.com',
    emulatorUrl: null,
  })
  const local = await buildTestApp(t)
  const localPage = await local.request({ method: 'GET', url: '/gallery' })
  assert.doesNotMatch(String(localPage.headers['content-security-policy']), /googleapis|frame-src/)
  assert.match(localPage.body, /<meta name="psg-auth" content="\{&#34;mode&#34;:&#34;local&#34;\}"/)
})
