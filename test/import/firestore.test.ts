import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildTestApp, type TestApp } from '../helpers/build-app.ts'
import { DAY, runDue } from '../helpers/jobs.ts'
import { tempDir } from '../helpers/temp.ts'
import { repoRoot } from '../helpers/paths.ts'
import { FernetKey, FernetKeyRing } from '../../src/crypto/fernet.ts'
import { importFirestoreExport, parseFirestoreTimestamp } from '../../src/import/firestore.ts'
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { instagramUserId } from '../../src/providers/instagram/emulator/demo-data.ts'

const AT = Date.UTC(2026, 10, 1, 12, 0, 0, 123)

test('Firestore timestamps in every export shape', () => {
  const seconds = Math.floor(AT / 1000)
  for (const value of [
    { _seconds: seconds, _nanoseconds: 123_000_000 },
    { seconds, nanoseconds: 123_456_789 },
    { seconds: String(seconds), nanos: 123_000_000 },
    { timestampValue: '2026-11-01T12:00:00.123456Z' },
    { __datatype__: 'timestamp', value: { _seconds: seconds, _nanoseconds: 123_000_000 } },
    '2026-11-01T12:00:00.123Z',
    '2026-11-01 12:00:00.123456+00:00',
    AT,
  ])
    assert.equal(parseFirestoreTimestamp(value, 'x'), AT, JSON.stringify(value))
  assert.equal(parseFirestoreTimestamp(seconds, 'x'), seconds * 1000, 'epoch seconds')
  assert.equal(parseFirestoreTimestamp(null, 'x'), null)
  for (const bad of ['yesterday', { seconds: 'x' }, true, -5])
    assert.throws(() => parseFirestoreTimestamp(bad, 'token_expires_at'), /token_expires_at/)
})

/** A sample export in the original app's shape, with tokens the emulator accepts. */
function sampleExport(app: TestApp): string[] {
  const state = app.emulator.state
  const now = app.clock.now()
  const token = (user: number) =>
    app.vault.encrypt(state.issueToken(user, 'l', ['instagram_business_basic']).token)
  const expires = Math.floor((now + 40 * DAY) / 1000)
  return [
    // the Admin SDK's JSON form, fields at the top
    JSON.stringify({
      id: 'doc-creator',
      user_id: 'firebase-uid-alice',
      platform: 'instagram',
      account_type: 'oauth',
      username: 'sandbox_creator',
      display_name: '@sandbox_creator',
      instagram_user_id: instagramUserId(1),
      encrypted_access_token: token(1),
      token_expires_at: { _seconds: expires, _nanoseconds: 0 },
      is_active: true,
      connected_at: { _seconds: Math.floor(now / 1000) - 86_400 * 20, _nanoseconds: 5 },
      last_sync: null,
      posts_count: 48,
      status: 'active',
      profile_url: 'https://instagram.com/sandbox_creator',
    }),
    // the REST/typed form
    JSON.stringify({
      name: 'projects/p/databases/(default)/documents/user_social_accounts/doc-shop',
      fields: {
        user_id: { stringValue: 'firebase-uid-bob' },
        platform: { stringValue: 'instagram' },
        account_type: { stringValue: 'oauth' },
        username: { stringValue: 'sandbox_shop' },
        instagram_user_id: { stringValue: instagramUserId(2) },
        encrypted_access_token: { stringValue: token(2) },
        token_expires_at: { timestampValue: new Date((expires + 60) * 1000).toISOString() },
        is_active: { booleanValue: true },
        connected_at: { timestampValue: new Date(now - 5 * DAY).toISOString() },
        posts_count: { integerValue: '12' },
        status: { stringValue: 'active' },
      },
    }),
    // a manual public profile, {id, data} form
    JSON.stringify({
      id: 'doc-public',
      data: {
        user_id: 'firebase-uid-alice',
        platform: 'instagram',
        account_type: 'public',
        username: 'natgeo',
        connected_at: '2025-06-01T10:00:00Z',
        is_active: true,
        status: 'active',
        profile_url: 'https://instagram.com/natgeo',
      },
    }),
    '',
    // bad records: each reported, none stops the rest
    '{"id": "doc-broken", ',
    JSON.stringify({
      id: 'doc-no-user',
      username: 'x_y',
      instagram_user_id: '1',
      encrypted_access_token: token(1),
      token_expires_at: expires,
    }),
    JSON.stringify({
      id: 'doc-foreign-key',
      user_id: 'firebase-uid-carol',
      username: 'carol',
      instagram_user_id: '17841400000000999',
      encrypted_access_token: new FernetKeyRing([FernetKey.generate()]).encrypt('IGAAsomething'),
      token_expires_at: expires,
    }),
    JSON.stringify({
      id: 'doc-bad-time',
      user_id: 'firebase-uid-dave',
      username: 'dave',
      instagram_user_id: '17841400000000998',
      encrypted_access_token: token(1),
      token_expires_at: 'next tuesday',
    }),
    // an id written as a JSON number above 2^53 (its last digits are already lost)
    JSON.stringify({
      id: 'doc-big-id',
      user_id: 'u',
      username: 'big',
      instagram_user_id: 'BIG',
      encrypted_access_token: token(1),
      token_expires_at: expires,
    }).replace('"BIG"', '17841400000000999'),
  ]
}

test('import of a Firestore export: created, skipped on repeat, invalid records reported; the tokens work', async (t) => {
  const app = await buildTestApp(t)
  const lines = sampleExport(app)
  const deps = { store: app.store, vault: app.vault, now: app.clock.now() }

  const dry = await importFirestoreExport(lines, { ...deps, dryRun: true })
  assert.deepEqual([dry.created, dry.updated, dry.skipped, dry.invalid], [3, 0, 0, 5])
  assert.equal(
    await app.raw('SELECT id FROM user_social_accounts').then((r) => r.length),
    0,
    'dry run writes nothing',
  )
  assert.equal(await app.raw('SELECT id FROM users').then((r) => r.length), 0)

  const report = await importFirestoreExport(lines, { ...deps, dryRun: false })
  assert.deepEqual([report.created, report.updated, report.skipped, report.invalid], [3, 0, 0, 5])
  assert.deepEqual(
    report.errors.map((e) => [e.line, e.id, e.message]),
    [
      [5, null, 'the line is not valid JSON'],
      [6, 'doc-no-user', 'user_id is missing'],
      [
        7,
        'doc-foreign-key',
        'encrypted_access_token does not decrypt with SOCIAL_TOKEN_ENCRYPTION_KEY (wrong key, or not a Fernet token)',
      ],
      [8, 'doc-bad-time', 'token_expires_at is not a date ("next tuesday")'],
      [
        9,
        'doc-big-id',
        'instagram_user_id is a number too large to be exact; export ids as strings',
      ],
    ],
  )
  for (const e of report.errors) assert.doesNotMatch(e.message, /gAAAAA|IGAA/, 'no token in errors')

  const again = await importFirestoreExport(lines, { ...deps, dryRun: false })
  assert.deepEqual([again.created, again.updated, again.skipped], [0, 0, 3], 'idempotent')

  const rows = await app.raw(
    'SELECT user_id, username, account_type, status, platform_user_id, credentials_format, token_expires_at, credentials_expire_at, token_issued_at, connected_at FROM user_social_accounts ORDER BY username',
  )
  // the original app's bare tokens are stored as they were (format 1), expiring with the token
  assert.deepEqual(
    rows.map((r) => [r.username, Number(r.credentials_format), r.credentials_expire_at]),
    rows.map((r) => [r.username, 1, r.token_expires_at]),
  )
  assert.deepEqual(
    rows.map((r) => [r.user_id, r.username, r.account_type, r.status]),
    [
      ['firebase-uid-alice', 'natgeo', 'public', 'active'],
      ['firebase-uid-alice', 'sandbox_creator', 'oauth', 'active'],
      ['firebase-uid-bob', 'sandbox_shop', 'oauth', 'active'],
    ],
  )
  const creator = rows[1]
  const expiresIn = Number(creator?.token_expires_at) - app.clock.now()
  assert.ok(Math.abs(expiresIn - 40 * DAY) < 5_000, 'the Admin SDK timestamp read exactly')
  assert.equal(Number(creator?.token_expires_at) - Number(creator?.token_issued_at), 60 * DAY)
  const users = await app.raw('SELECT id, password_hash FROM users ORDER BY id')
  assert.deepEqual(
    users.map((u) => u.id),
    ['firebase-uid-alice', 'firebase-uid-bob'],
  )
  assert.ok(
    users.every((u) => !String(u.password_hash).startsWith('scrypt$')),
    'no password',
  )

  // the imported tokens work: the scheduler syncs both accounts against the emulator
  const jobs = await runDue(app)
  assert.deepEqual([jobs.syncs.synced, jobs.syncs.failed], [2, 0])
  const media = await app.raw('SELECT COUNT(*) AS n FROM media WHERE parent_id IS NULL')
  assert.equal(Number(media[0]?.n), 48 + 12)

  // after the service synced (and could have renewed) the accounts, the same export is skipped
  const later = await importFirestoreExport(lines, { ...deps, dryRun: false })
  assert.deepEqual([later.created, later.updated, later.skipped], [0, 0, 3])
  // a record changed at the source is an update, which keeps the newer sync results and token
  const before = (
    await app.raw("SELECT * FROM user_social_accounts WHERE username = 'sandbox_creator'")
  )[0]
  const edited = lines.map((l) =>
    l.replace('"display_name":"@sandbox_creator"', '"display_name":"Creator"'),
  )
  const update = await importFirestoreExport(edited, { ...deps, dryRun: false })
  assert.deepEqual([update.created, update.updated, update.skipped], [0, 1, 2])
  const after = (
    await app.raw("SELECT * FROM user_social_accounts WHERE username = 'sandbox_creator'")
  )[0]
  assert.equal(after?.display_name, 'Creator')
  assert.deepEqual(
    [after?.last_sync, after?.posts_count, after?.encrypted_credentials, after?.credentials_format],
    [
      before?.last_sync,
      before?.posts_count,
      before?.encrypted_credentials,
      before?.credentials_format,
    ],
  )
  assert.match(
    String(after?.encrypted_credentials),
    /^gAAAAA/,
    'a token is compared, not two nothings',
  )
})

test(
  'the import command: dry run, report, exit codes, on a SQLite file',
  { timeout: 60_000 },
  async (t) => {
    const app = await buildTestApp(t)
    const dir = tempDir('psg-import-')
    t.after(() => dir.cleanup())
    const file = join(dir.path, 'user_social_accounts.jsonl')
    writeFileSync(file, sampleExport(app).join('\n'))
    const database = join(dir.path, 'imported.db')
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/import/main.ts', ...args], {
        cwd: repoRoot,
        encoding: 'utf8',
        env: {
          ...process.env,
          NODE_ENV: 'production',
          DATABASE_URL: `sqlite:${database}`,
          SOCIAL_TOKEN_ENCRYPTION_KEY: app.encryptionKey,
        },
      })
    const dry = run(file, '--dry-run')
    assert.equal(dry.status, 2, dry.stderr)
    assert.match(
      dry.stdout,
      /^Dry run \(nothing written\): 3 created, 0 updated, 0 skipped \(unchanged\), 5 invalid/,
    )
    assert.match(dry.stdout, /line 7 \(doc-foreign-key\): encrypted_access_token does not decrypt/)
    const real = run(file, '--json')
    assert.equal(real.status, 2)
    assert.deepEqual(
      (({ dry_run, created, skipped, invalid }) => ({ dry_run, created, skipped, invalid }))(
        JSON.parse(real.stdout) as {
          dry_run: boolean
          created: number
          skipped: number
          invalid: number
        },
      ),
      { dry_run: false, created: 3, skipped: 0, invalid: 5 },
    )
    const repeat = run(file)
    assert.match(repeat.stdout, /0 created, 0 updated, 3 skipped/)
    const store = createSqliteStore({ path: database })
    t.after(() => store.close())
    assert.equal((await store.listAccounts('firebase-uid-alice')).length, 2)
    assert.equal(run('missing.jsonl').status, 1)
    assert.match(run().stderr, /usage: npm run import:firestore/)
    for (const output of [dry.stdout, real.stdout, repeat.stdout, dry.stderr])
      assert.doesNotMatch(output, /gAAAAA|IGAA/, 'tokens never printed')
  },
)
