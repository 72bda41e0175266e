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
      platform: 'instagram',
      binding_hash: 'b1',
      return_mode: 'popup' as const,
      // Instagram has no PKCE
      encrypted_code_verifier: null,
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
    // a PKCE platform's state keeps its encrypted verifier
    const pkce = {
      ...record,
      state_hash: 's3',
      platform: 'x',
      encrypted_code_verifier: 'gAAAAA-verifier',
      expires_at: NOW + 1,
    }
    await h.store.createOAuthState(pkce)
    assert.equal(await h.store.deleteExpiredOAuthStates(NOW), 1)
    assert.deepEqual(await h.raw('SELECT state_hash, encrypted_code_verifier FROM oauth_states'), [
      { state_hash: 's3', encrypted_code_verifier: 'gAAAAA-verifier' },
    ])
    assert.deepEqual(await h.store.consumeOAuthState('s3'), pkce)
  })
}
