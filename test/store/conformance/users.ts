/** Conformance: users: sign-up records and externally authenticated users (`UserStore`). */
import assert from 'node:assert/strict'
import type { Conformance } from './harness.ts'
import { NOW } from './harness.ts'

export function userCases({ test, harness, user }: Conformance): void {
  test('users: create, find, duplicate email is ERR_CONFLICT', async () => {
    const h = harness()
    const id = await user()
    const rows = await h.raw('SELECT email, password_hash FROM users WHERE id = ?', [id])
    assert.deepEqual(rows, [{ email: 'a@example.com', password_hash: 'scrypt$x' }])
    assert.equal((await h.store.findUserByEmail('a@example.com'))?.id, id)
    assert.equal((await h.store.findUserById(id))?.email, 'a@example.com')
    assert.equal(await h.store.findUserByEmail('nobody@example.com'), null)
    await assert.rejects(
      h.store.createUser({ email: 'a@example.com', password_hash: 'y', now: NOW }),
      {
        code: 'ERR_CONFLICT',
      },
    )
  })

  test('external users: created once under their own id, with no usable password; existing users untouched', async () => {
    const h = harness()
    assert.equal(await h.store.ensureExternalUser('firebase-uid-1', NOW), true)
    assert.equal(await h.store.ensureExternalUser('firebase-uid-1', NOW + 5), false, 'once')
    assert.deepEqual(await h.raw('SELECT id, email, password_hash, created_at FROM users'), [
      {
        id: 'firebase-uid-1',
        email: 'firebase-uid-1@users.firebase.invalid',
        password_hash: '!external',
        created_at: NOW,
      },
    ])
    const id = await user()
    assert.equal(
      await h.store.ensureExternalUser(id, NOW + 9),
      false,
      'a password user is left alone',
    )
    assert.deepEqual(await h.raw('SELECT email, password_hash FROM users WHERE id = ?', [id]), [
      { email: 'a@example.com', password_hash: 'scrypt$x' },
    ])
    // concurrent first sign-ins (two tabs) create the user once, without an error
    const results = await Promise.all(
      Array.from({ length: 4 }, () => h.store.ensureExternalUser('firebase-uid-2', NOW)),
    )
    assert.equal(results.filter(Boolean).length, 1)
    assert.equal((await h.store.findUserById('firebase-uid-2'))?.password_hash, '!external')
  })
}
