import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { Browser, buildTestApp, connectAccount } from '../helpers/build-app.ts'
import { tempDir } from '../helpers/temp.ts'
import { repoRoot } from '../helpers/paths.ts'
import { FernetKey, FernetKeyRing } from '../../src/crypto/fernet.ts'
import { reencryptTokens } from '../../src/maintenance/reencrypt-tokens.ts'
import { accessTokenCredentials, sealCredentials } from '../../src/socials/credentials.ts'
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import type { Store } from '../../src/store/types.ts'

test('key rotation re-encrypts every token under the new first key, once, and leaves what it must not touch', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  await connectAccount(app, browser, 1)
  await connectAccount(app, browser, 2)
  const oldKey = app.encryptionKey
  const newKey = FernetKey.generate()
  const ring = new FernetKeyRing([newKey, oldKey])
  const tokens = async () =>
    (await app.raw('SELECT encrypted_credentials AS t FROM user_social_accounts ORDER BY id')).map(
      (r) => String(r.t),
    )
  const plaintexts = (await tokens()).map((token) => app.vault.decrypt(token))

  const first = await reencryptTokens(app.store, ring, () => app.clock.now())
  assert.deepEqual(first, {
    scanned: 2,
    reencrypted: 2,
    current: 0,
    changed_meanwhile: 0,
    unreadable: 0,
  })
  const onlyNew = new FernetKeyRing([newKey])
  assert.deepEqual(
    (await tokens()).map((token) => onlyNew.decrypt(token)),
    plaintexts,
    'same tokens, new key',
  )

  const again = await reencryptTokens(app.store, ring, () => app.clock.now())
  assert.deepEqual([again.reencrypted, again.current], [0, 2], 'nothing left to do')

  // a token renewed by the service between the read and the write is left as the service wrote it
  const stale = new FernetKeyRing([oldKey])
  const [firstId] = (await app.raw('SELECT id FROM user_social_accounts ORDER BY id')).map((r) =>
    String(r.id),
  )
  assert.ok(firstId)
  const [current] = await tokens()
  assert.ok(current)
  await app.store.replaceToken({
    accountId: firstId,
    previousToken: current,
    encryptedToken: stale.encrypt('IGAAold'),
    now: 1,
  })
  const racing: Store = {
    ...app.store,
    async listStoredTokens(input) {
      const rows = await app.store.listStoredTokens(input)
      const row = rows[0]
      if (row !== undefined)
        await app.store.replaceToken({
          accountId: row.id,
          previousToken: row.encrypted_credentials,
          encryptedToken: ring.encrypt('IGAArenewed'),
          now: 2,
        })
      return rows
    },
  }
  const raced = await reencryptTokens(racing, ring, () => app.clock.now())
  assert.deepEqual([raced.changed_meanwhile, raced.reencrypted], [1, 0])
  assert.equal(ring.decrypt((await tokens())[0] ?? ''), 'IGAArenewed', 'the renewal won')

  // a token no configured key reads is reported and untouched
  const foreign = new FernetKeyRing([FernetKey.generate()]).encrypt('IGAAforeign')
  const [, secondId] = (await app.raw('SELECT id FROM user_social_accounts ORDER BY id')).map((r) =>
    String(r.id),
  )
  const [, second] = await tokens()
  await app.store.replaceToken({
    accountId: secondId ?? '',
    previousToken: second ?? '',
    encryptedToken: foreign,
    now: 3,
  })
  const unreadable = await reencryptTokens(app.store, ring, () => app.clock.now())
  assert.deepEqual([unreadable.unreadable, unreadable.current], [1, 1])
  assert.equal((await tokens())[1], foreign)

  // paging: one token per page still visits every row once
  const paged = await reencryptTokens(app.store, ring, () => app.clock.now(), 1)
  assert.equal(paged.scanned, 2)
})

test(
  'npm run rotate-keys: reports the rows changed, on a SQLite file',
  { timeout: 60_000 },
  async (t) => {
    const dir = tempDir('psg-rotate-')
    t.after(() => dir.cleanup())
    const path = join(dir.path, 'gallery.db')
    const oldKey = FernetKey.generate()
    const newKey = FernetKey.generate()
    const store = createSqliteStore({ path })
    const user = await store.createUser({ email: 'r@example.com', password_hash: 'x', now: 1 })
    await store.upsertOAuthAccount({
      user_id: user.id,
      platform: 'instagram',
      username: 'shop',
      platform_user_id: '17841400000000001',
      platform_scoped_id: '1',
      platform_attributes: { account_type: 'BUSINESS' },
      credentials: sealCredentials(
        new FernetKeyRing([oldKey]),
        accessTokenCredentials('IGAAsecret', Date.now() + 86_400_000, Date.now()),
      ),
      posts_count: 0,
      profile_url: 'x',
      profile_picture_url: null,
      now: 1,
    })
    await store.close()
    const run = (keys: string, ...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/maintenance/rotate-keys.ts', ...args], {
        cwd: repoRoot,
        encoding: 'utf8',
        env: {
          ...process.env,
          NODE_ENV: 'production',
          DATABASE_URL: `sqlite:${path}`,
          SOCIAL_TOKEN_ENCRYPTION_KEY: keys,
        },
      })
    const rotated = run(`${newKey},${oldKey}`)
    assert.equal(rotated.status, 0, rotated.stderr)
    assert.match(rotated.stdout, /^1 tokens re-encrypted under the first key; 0 already were/)
    const json = run(`${newKey},${oldKey}`, '--json')
    assert.deepEqual(JSON.parse(json.stdout), {
      scanned: 1,
      reencrypted: 0,
      current: 1,
      changed_meanwhile: 0,
      unreadable: 0,
    })
    const wrongKey = run(FernetKey.generate())
    assert.equal(wrongKey.status, 2)
    assert.match(wrongKey.stdout, /1 unreadable/)
    assert.equal(run(`${newKey}`, '--bogus').status, 1)
    for (const output of [rotated.stdout, json.stdout, wrongKey.stdout])
      assert.doesNotMatch(output, /IGAA|gAAAAA/)
  },
)
