/** Conformance: OAuth states: single use, expiry (`OAuthStateStore`). */
import assert from 'node:assert/strict'
import type { Conformance } from './harness.ts'
import { NOW } from './harness.ts'

export function oauthStateCases({ test, harness, user }: Conformance): void {
  test('oauth states: consumed once, even by concurrent callers; expired ones purged', async () => {
    const h = harness()
    const userId = await user()
    const record = {
      state_hash: 's1',
      user_id: userId,
      provider: 'instagram',
      binding_hash: 'b1',
      return_mode: 'popup' as const,
      created_at: NOW,
      expires_at: NOW + 300_000,
    }
    await h.store.createOAuthState(record)
    const results = await Promise.all(
      Array.from({ length: 8 }, () => h.store.consumeOAuthState('s1')),
    )
    assert.equal(results.filter((r) => r !== null).length, 1)
    assert.deepEqual(
      results.find((r) => r !== null),
      record,
    )
    assert.deepEqual(await h.raw('SELECT * FROM oauth_states'), [])
    await h.store.createOAuthState({ ...record, state_hash: 's2', expires_at: NOW })
    await h.store.createOAuthState({ ...record, state_hash: 's3', expires_at: NOW + 1 })
    assert.equal(await h.store.deleteExpiredOAuthStates(NOW), 1)
    assert.deepEqual(await h.raw('SELECT state_hash FROM oauth_states'), [{ state_hash: 's3' }])
  })
}
