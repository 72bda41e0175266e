/** Conformance: known devices (`DeviceStore`). */
import assert from 'node:assert/strict'
import type { Conformance } from './harness.ts'
import { NOW } from './harness.ts'

export function deviceCases({ test, harness, user }: Conformance): void {
  test('known devices: remembered per user, seen again moves last_seen_at, never changes owner', async () => {
    const h = harness()
    const alice = await user()
    const bob = await user('b@example.com')
    assert.equal(await h.store.isKnownDevice('d1', alice), false)
    await h.store.rememberDevice({ digest: 'd1', user_id: alice, now: NOW })
    assert.equal(await h.store.isKnownDevice('d1', alice), true)
    assert.equal(await h.store.isKnownDevice('d1', bob), false, 'another user’s device')
    await h.store.rememberDevice({ digest: 'd1', user_id: alice, now: NOW + 10 })
    await h.store.rememberDevice({ digest: 'd1', user_id: bob, now: NOW + 20 })
    assert.deepEqual(await h.raw('SELECT user_id, created_at, last_seen_at FROM known_devices'), [
      { user_id: alice, created_at: NOW, last_seen_at: NOW + 10 },
    ])
    assert.equal(await h.store.isKnownDevice('d1', bob), false)
  })
}
