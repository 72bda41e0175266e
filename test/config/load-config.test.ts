import { test } from 'node:test'
import assert from 'node:assert/strict'
import { statSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/load-config.ts'
import { FernetKey } from '../../src/crypto/fernet.ts'
import { loadOrCreateDevKey } from '../../src/crypto/dev-key.ts'
import { tempDir } from '../helpers/temp.ts'

test('defaults: port 8080, sqlite in ./data, sandbox in development, Meta endpoints, frozen', () => {
  const config = loadConfig({}, '/srv/app')
  assert.equal(config.port, 8080)
  assert.equal(config.publicUrl, 'http://localhost:8080')
  assert.deepEqual(config.database, { kind: 'sqlite', path: '/srv/app/data/gallery.db' })
  assert.equal(config.providers.instagram.mode, 'sandbox')
  assert.equal(config.encryptionKeys, null)
  assert.equal(
    config.providers.instagram.settings.authorizeUrl,
    'https://www.instagram.com/oauth/authorize',
  )
  assert.equal(
    config.providers.instagram.settings.tokenUrl,
    'https://api.instagram.com/oauth/access_token',
  )
  assert.equal(config.providers.instagram.settings.graphUrl, 'https://graph.instagram.com')
  assert.match(config.providers.instagram.settings.graphVersion, /^v\d+\.0$/)
  assert.equal(
    config.providers.instagram.settings.redirectUri,
    'http://localhost:8080/api/socials/oauth/instagram/callback',
  )
  assert.deepEqual(config.providers.instagram.settings.scopes, ['instagram_business_basic'])
  assert.deepEqual(config.jobs, {
    secret: null,
    renewMarginDays: 30,
    intervalSeconds: 300,
    syncIntervalMinutes: 60,
    fullSyncIntervalHours: 24,
    mediaUrlRefreshMarginHours: 24,
    syncConcurrency: 4,
    renewalConcurrency: 4,
    revokedRetentionDays: 30,
  })
  assert.deepEqual(config.providers.instagram.pacing, {
    limits: { account_hourly: 200 },
    slowDownPercent: 80,
    maxPauseMs: 5000,
  })
  assert.equal(config.webhook, null)
  assert.equal(config.trustProxy, false)
  assert.ok(Object.isFrozen(config))
  assert.ok(Object.isFrozen(config.providers.instagram.settings))
  assert.ok(Object.isFrozen(config.providers.instagram.pacing.limits))
  assert.throws(() => {
    ;(config as { port: number }).port = 1
  })
})

test('every problem is reported at once', () => {
  assert.throws(
    () =>
      loadConfig({
        NODE_ENV: 'production',
        PORT: 'eighty',
        PUBLIC_URL: 'http://gallery.example',
        DATABASE_URL: 'mysql://x',
        INSTAGRAM_CLIENT_ID: 'id',
        INSTAGRAM_GRAPH_URL: 'http://graph.example',
        INSTAGRAM_SCOPES: 'user_profile',
        JOBS_SECRET: 'short',
        TOKEN_RENEW_MARGIN_DAYS: '3',
        SYNC_INTERVAL_MINUTES: '2',
        SYNC_CONCURRENCY: '0',
        INSTAGRAM_CALLS_PER_HOUR_PER_ACCOUNT: 'lots',
        WEBHOOK_URL: 'https://hooks.example/phoenix',
        WEBHOOK_SECRET: 'short',
      }),
    (error: Error) => {
      for (const part of [
        'PORT must be a whole number',
        'PUBLIC_URL must use https',
        'DATABASE_URL must be sqlite:',
        'SOCIAL_TOKEN_ENCRYPTION_KEY is required when NODE_ENV=production',
        'INSTAGRAM_CLIENT_ID and INSTAGRAM_CLIENT_SECRET must be set together',
        'INSTAGRAM_GRAPH_URL must use https',
        '"user_profile" is not an allowed scope',
        'JOBS_SECRET must be at least 32 characters',
        'TOKEN_RENEW_MARGIN_DAYS must be a whole number from 7 to 59',
        'SYNC_INTERVAL_MINUTES must be 0 (off) or at least 5',
        'SYNC_CONCURRENCY must be a whole number from 1 to 64',
        'INSTAGRAM_CALLS_PER_HOUR_PER_ACCOUNT must be a whole number',
        'WEBHOOK_SECRET (at least 32 characters) is required when WEBHOOK_URL is set',
      ]) {
        assert.ok(error.message.includes(part), part)
      }
      return true
    },
  )
})

test('DATABASE_URL: sqlite paths, PostgreSQL URLs (host or Cloud SQL socket) with pool settings', () => {
  const pg = loadConfig({
    DATABASE_URL: 'postgres://gallery:secret@db.internal:5432/gallery',
    DATABASE_POOL_SIZE: '20',
  }).database
  assert.deepEqual(pg, {
    kind: 'postgres',
    url: 'postgres://gallery:secret@db.internal:5432/gallery',
    poolSize: 20,
    connectTimeoutMs: 5000,
    statementTimeoutMs: 30000,
  })
  const socket = loadConfig({
    DATABASE_URL: 'postgresql://gallery:secret@/gallery?host=/cloudsql/project:region:instance',
  }).database
  assert.equal(socket.kind, 'postgres')
  for (const bad of ['postgres://', 'postgres:///gallery', 'mysql://x/y'])
    assert.throws(() => loadConfig({ DATABASE_URL: bad }), /DATABASE_URL must be/, bad)
  assert.throws(() => loadConfig({ DATABASE_POOL_SIZE: '0' }), /DATABASE_POOL_SIZE/)
})

test('plain http only for loopback hosts', () => {
  assert.equal(
    loadConfig({ INSTAGRAM_GRAPH_URL: 'http://127.0.0.1:9000/graph' }).providers.instagram.settings
      .graphUrl,
    'http://127.0.0.1:9000/graph',
  )
  assert.throws(
    () => loadConfig({ INSTAGRAM_TOKEN_URL: 'http://10.0.0.1/token' }),
    /plain http is accepted only for loopback/,
  )
})

test('production: credentials select real mode; without them, unconfigured (never the sandbox)', () => {
  const key = FernetKey.generate()
  assert.equal(
    loadConfig({
      NODE_ENV: 'production',
      SOCIAL_TOKEN_ENCRYPTION_KEY: key,
      PUBLIC_URL: 'https://g.example',
    }).providers.instagram.mode,
    'unconfigured',
  )
  const real = loadConfig({
    NODE_ENV: 'production',
    SOCIAL_TOKEN_ENCRYPTION_KEY: key,
    PUBLIC_URL: 'https://g.example',
    INSTAGRAM_CLIENT_ID: 'i',
    INSTAGRAM_CLIENT_SECRET: 's',
  })
  assert.equal(real.providers.instagram.mode, 'real')
  assert.equal(real.host, '0.0.0.0')
})

test('encryption keys: comma-separated ring, each validated', () => {
  const a = FernetKey.generate()
  const b = FernetKey.generate()
  assert.deepEqual(loadConfig({ SOCIAL_TOKEN_ENCRYPTION_KEY: ` ${a} , ${b} ` }).encryptionKeys, [
    a,
    b,
  ])
  assert.throws(
    () => loadConfig({ SOCIAL_TOKEN_ENCRYPTION_KEY: `${a},nope` }),
    /key #2 is not a Fernet key/,
  )
})

test('development key: generated once with mode 0600, then reused', () => {
  const dir = tempDir('psg-key-')
  try {
    const first = loadOrCreateDevKey(join(dir.path, 'data'))
    assert.equal(first.created, true)
    assert.equal(statSync(first.path).mode & 0o777, 0o600)
    const second = loadOrCreateDevKey(join(dir.path, 'data'))
    assert.equal(second.created, false)
    assert.equal(second.key, first.key)
    assert.equal(readFileSync(first.path, 'utf8').trim(), first.key)
  } finally {
    dir.cleanup()
  }
})

test('AUTH_MODE=firebase: project id required; the page settings (Web API key, auth domain, emulator) validated', () => {
  assert.deepEqual(loadConfig({}, '/srv/app').auth, { mode: 'local' })
  assert.throws(() => loadConfig({ AUTH_MODE: 'firebase' }, '/srv/app'), /FIREBASE_PROJECT_ID/)
  assert.throws(() => loadConfig({ AUTH_MODE: 'ldap' }, '/srv/app'), /AUTH_MODE must be/)
  assert.deepEqual(
    loadConfig({ AUTH_MODE: 'firebase', FIREBASE_PROJECT_ID: 'my-project' }, '/srv/app').auth,
    {
      mode: 'firebase',
      projectId: 'my-project',
      jwksUrl:
        'https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com',
      web: { apiKey: null, authDomain: 'my-project.firebaseapp.com', emulatorUrl: null },
    },
  )
  const full = loadConfig(
    {
      AUTH_MODE: 'firebase',
      FIREBASE_PROJECT_ID: 'my-project',
      FIREBASE_WEB_API_KEY: 'AIzaSyA-valid_key_0123456789',
      FIREBASE_AUTH_DOMAIN: 'login.example.com',
      FIREBASE_AUTH_EMULATOR_URL: 'http://127.0.0.1:9099/',
    },
    '/srv/app',
  ).auth
  assert.deepEqual(full.mode === 'firebase' && full.web, {
    apiKey: 'AIzaSyA-valid_key_0123456789',
    authDomain: 'login.example.com',
    emulatorUrl: 'http://127.0.0.1:9099',
  })
  assert.throws(
    () =>
      loadConfig(
        {
          AUTH_MODE: 'firebase',
          FIREBASE_PROJECT_ID: 'my-project',
          FIREBASE_WEB_API_KEY: 'key with spaces"<',
          FIREBASE_AUTH_DOMAIN: 'evil.example/"; script-src *',
          FIREBASE_AUTH_EMULATOR_URL: 'http://auth.example.com:9099',
        },
        '/srv/app',
      ),
    (error: Error) =>
      /FIREBASE_WEB_API_KEY/.test(error.message) &&
      /FIREBASE_AUTH_DOMAIN/.test(error.message) &&
      /FIREBASE_AUTH_EMULATOR_URL must use https/.test(error.message),
  )
})

test('TRUST_PROXY: false, a hop count or proxy addresses; "true" is refused with the reason', () => {
  const key = FernetKey.generate()
  const base = { SOCIAL_TOKEN_ENCRYPTION_KEY: key }
  assert.equal(loadConfig({ ...base, TRUST_PROXY: '1' }).trustProxy, 1)
  assert.equal(loadConfig({ ...base, TRUST_PROXY: '2' }).trustProxy, 2)
  assert.equal(loadConfig({ ...base, TRUST_PROXY: '10.0.0.0/8' }).trustProxy, '10.0.0.0/8')
  assert.throws(
    () => loadConfig({ ...base, TRUST_PROXY: 'true' }),
    (error: Error) =>
      /TRUST_PROXY=true would believe the left-most X-Forwarded-For entry, which any client can write: give the number of proxies/.test(
        error.message,
      ),
  )
  for (const bad of ['0', '11', 'yes', '10.0.0.1, nope'])
    assert.throws(() => loadConfig({ ...base, TRUST_PROXY: bad }), /TRUST_PROXY/, bad)
})

test('ALLOWED_HOSTS: the Host check is on outside production, and in production once names are given', () => {
  const dev = loadConfig({ PUBLIC_URL: 'http://localhost:8080' })
  assert.deepEqual(dev.allowedHosts, ['localhost', '127.0.0.1', '[::1]'])
  const extra = loadConfig({
    PUBLIC_URL: 'http://localhost:8080',
    ALLOWED_HOSTS: 'Dev.Example.test, 192.168.1.5',
  })
  assert.deepEqual(extra.allowedHosts, [
    'localhost',
    '127.0.0.1',
    '[::1]',
    'dev.example.test',
    '192.168.1.5',
  ])
  const production = {
    NODE_ENV: 'production',
    PUBLIC_URL: 'https://gallery.example.com',
    SOCIAL_TOKEN_ENCRYPTION_KEY: FernetKey.generate(),
  }
  assert.equal(loadConfig(production).allowedHosts, null)
  assert.deepEqual(
    loadConfig({ ...production, ALLOWED_HOSTS: 'www.gallery.example.com' }).allowedHosts,
    ['gallery.example.com', 'localhost', '127.0.0.1', '[::1]', 'www.gallery.example.com'],
  )
  assert.throws(
    () => loadConfig({ ALLOWED_HOSTS: 'https://gallery.example.com' }),
    /ALLOWED_HOSTS: "https:\/\/gallery.example.com" is not a host name/,
  )
})

test('WEBHOOK_SECRET: whsec_<base64> (24 to 64 bytes) or plain (≥ 32 characters), several separated by spaces', () => {
  const whsec = (bytes: number, fill = 1) => `whsec_${Buffer.alloc(bytes, fill).toString('base64')}`
  const plain = 'a-plain-secret-of-at-least-32-characters'
  const secrets = (value: string) =>
    loadConfig({ WEBHOOK_URL: 'https://hooks.example/phoenix', WEBHOOK_SECRET: value }).webhook
  assert.deepEqual(secrets(whsec(32)), {
    url: 'https://hooks.example/phoenix',
    secrets: [whsec(32)],
  })
  assert.deepEqual(secrets(plain)?.secrets, [plain])
  assert.deepEqual(secrets(` ${whsec(24)}   ${whsec(64, 2)}  ${plain} `)?.secrets, [
    whsec(24),
    whsec(64, 2),
    plain,
  ])
  assert.deepEqual(secrets('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')?.secrets, [
    'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  ])
})

test('WEBHOOK_SECRET: bad base64, a key size outside 24–64 bytes, a short or repeated secret: named, never shown', () => {
  const whsec = (bytes: number, fill = 1) => `whsec_${Buffer.alloc(bytes, fill).toString('base64')}`
  const refused = (value: string, message: RegExp) =>
    assert.throws(
      () => loadConfig({ WEBHOOK_URL: 'https://hooks.example/phoenix', WEBHOOK_SECRET: value }),
      (error: Error) => {
        assert.match(error.message, message, value)
        for (const secret of value.split(' '))
          if (secret.length > 12) assert.equal(error.message.includes(secret), false, 'no secret')
        return true
      },
    )
  const notBase64 = /WEBHOOK_SECRET starts with whsec_ but the rest is not valid base64/
  refused('whsec_this*is!not~base64-at-all-0123456789', notBase64)
  refused(`whsec_${Buffer.alloc(32, 0xfb).toString('base64url')}`, notBase64) // -/_ alphabet
  refused(whsec(32).replace(/=+$/, ''), notBase64) // padding left off
  refused(whsec(25).replace(/=+$/, ''), notBase64)
  refused('whsec_', /WEBHOOK_SECRET is a whsec_ secret of 0 bytes; it must decode to 24 to 64/)
  refused(whsec(23), /WEBHOOK_SECRET is a whsec_ secret of 23 bytes; it must decode to 24 to 64/)
  refused(whsec(65), /WEBHOOK_SECRET is a whsec_ secret of 65 bytes; it must decode to 24 to 64/)
  refused(
    `${whsec(32)} whsec_!!!`,
    /WEBHOOK_SECRET \(secret #2\) starts with whsec_ but the rest is not valid base64/,
  )
  refused(
    `${whsec(32)} too-short`,
    /WEBHOOK_SECRET \(at least 32 characters\) is required when WEBHOOK_URL is set: secret #2 is a plain secret shorter/,
  )
  refused(`${whsec(32)} ${whsec(32)}`, /WEBHOOK_SECRET \(secret #2\) repeats secret #1/)
  refused('   ', /WEBHOOK_SECRET \(at least 32 characters\) is required when WEBHOOK_URL is set/)
  assert.throws(
    () => loadConfig({ WEBHOOK_SECRET: whsec(32) }),
    /WEBHOOK_SECRET is set but WEBHOOK_URL is not/,
  )
})
