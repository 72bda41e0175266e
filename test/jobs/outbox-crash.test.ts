/**
 * The transactional outbox under `kill -9`: a process killed between a state change and its
 * event loses neither — killed inside the transaction, nothing happened (the account is as it
 * was, no event); killed right after it, both are there, and the event is delivered by whoever
 * runs next. On the backend the job tests run on (SQLite and PostgreSQL).
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { FernetKey, FernetKeyRing } from '../../src/crypto/fernet.ts'
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { accessTokenCredentials, sealCredentials } from '../../src/socials/credentials.ts'
import type { Store } from '../../src/store/types.ts'
import { TEST_BACKEND } from '../helpers/build-app.ts'
import { freshPostgresStore } from '../helpers/postgres.ts'
import { PACKAGE_ROOT } from '../../src/paths.ts'
import { tempDir } from '../helpers/temp.ts'

const CHILD = join(PACKAGE_ROOT, 'test/fixtures/processes/outbox-crash-child.ts')
const vault = new FernetKeyRing([FernetKey.generate()])

/** A store with one connected Instagram account; `target` is how the child opens the same one. */
async function prepared(t: TestContext): Promise<{ store: Store; target: string }> {
  let store: Store
  let target: string
  if (TEST_BACKEND === 'postgres') {
    const h = await freshPostgresStore()
    t.after(() => h.dispose())
    store = h.store
    target = `postgres:${h.url} ${h.schema}`
  } else {
    const dir = tempDir('psg-crash-')
    const path = join(dir.path, 'crash.db')
    store = createSqliteStore({ path })
    t.after(async () => {
      await store.close()
      dir.cleanup()
    })
    target = `sqlite:${path}`
  }
  const now = Date.now()
  const user = await store.createUser({ email: 'crash@example.com', password_hash: 'x', now })
  await store.upsertOAuthAccount({
    user_id: user.id,
    platform: 'instagram',
    username: 'nina',
    platform_user_id: '17841400000000001',
    platform_scoped_id: null,
    platform_attributes: { account_type: 'BUSINESS' },
    credentials: sealCredentials(
      vault,
      accessTokenCredentials('IGAAcrash', now + 50 * 86_400_000, now),
    ),
    posts_count: null,
    profile_url: 'https://www.instagram.com/nina/',
    profile_picture_url: null,
    now,
  })
  return { store, target }
}

function killedChild(target: string, crashAt: 'inside' | 'after'): void {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, STORE: target, CRASH_AT: crashAt },
    encoding: 'utf8',
    timeout: 60_000,
  })
  assert.equal(result.signal, 'SIGKILL', `the child was killed (stderr: ${result.stderr})`)
}

async function state(store: Store): Promise<{ status: string; events: string[] }> {
  const [account] = await store.listAccounts(
    (await store.findUserByEmail('crash@example.com'))?.id ?? '',
  )
  const claimed = await store.claimDueWebhooks({
    now: Date.now() + 1000,
    leaseUntil: Date.now() + 60_000,
    limit: 10,
  })
  return { status: account?.status ?? 'missing', events: claimed.map((d) => d.event_type) }
}

test('kill -9 inside the transaction of a revocation: neither the change nor its event', async (t) => {
  const { store, target } = await prepared(t)
  killedChild(target, 'inside')
  assert.deepEqual(await state(store), { status: 'active', events: [] })
})

test('kill -9 right after a revocation committed: the change and its event, delivered next', async (t) => {
  const { store, target } = await prepared(t)
  killedChild(target, 'after')
  assert.deepEqual(await state(store), { status: 'revoked', events: ['account.revoked'] })
})
