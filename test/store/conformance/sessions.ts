/** Conformance: sessions: expiry, touch and deletion (`SessionStore`). */
import assert from 'node:assert/strict'
import type { Conformance } from './harness.ts'
import { NOW } from './harness.ts'

export function sessionCases({ test, harness, user }: Conformance): void {
  test('sessions: absolute and idle expiry, touch, delete', async () => {
    const h = harness()
    const userId = await user()
    await h.store.createSession({
      id_hash: 'h1',
      user_id: userId,
      created_at: NOW,
      expires_at: NOW + 1000,
      idle_expires_at: NOW + 100,
    })
    assert.equal((await h.store.findSession('h1', NOW))?.user_id, userId)
    assert.equal(await h.store.findSession('h1', NOW + 100), null, 'idle expired')
    await h.store.touchSession('h1', NOW + 500)
    assert.deepEqual(
      await h.raw('SELECT idle_expires_at FROM sessions WHERE id_hash = ?', ['h1']),
      [{ idle_expires_at: NOW + 500 }],
    )
    assert.notEqual(await h.store.findSession('h1', NOW + 200), null)
    assert.equal(await h.store.findSession('h1', NOW + 1000), null, 'absolute expiry')
    await h.store.deleteSession('h1')
    assert.deepEqual(await h.raw('SELECT * FROM sessions'), [])
    const base = { user_id: userId, created_at: NOW }
    await h.store.createSession({
      ...base,
      id_hash: 'idle',
      expires_at: NOW + 1000,
      idle_expires_at: NOW,
    })
    await h.store.createSession({
      ...base,
      id_hash: 'abs',
      expires_at: NOW,
      idle_expires_at: NOW + 1000,
    })
    await h.store.createSession({
      ...base,
      id_hash: 'live',
      expires_at: NOW + 1000,
      idle_expires_at: NOW + 1000,
    })
    assert.equal(await h.store.deleteExpiredSessions(NOW), 2)
    assert.deepEqual(await h.raw('SELECT id_hash FROM sessions'), [{ id_hash: 'live' }])
  })
}
