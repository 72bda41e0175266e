/** Conformance: purge, import, token re-encryption and liveness (`MaintenanceStore`). */
import assert from 'node:assert/strict'
import type { ImportedAccountInput } from '../../../src/store/types.ts'
import type { Conformance } from './harness.ts'
import { DAY, NOW, TOKEN, credentialColumns, media } from './harness.ts'

export function maintenanceCases({ test, harness, user, account }: Conformance): void {
  test('purge: long-revoked accounts with their media, old finished deliveries, idle budgets', async () => {
    const h = harness()
    await h.store.ping() // the liveness check answers on a working database
    const alice = await user()
    const kept = await account(alice, '1')
    const old = await account(alice, '2')
    await h.store.upsertMediaPage({ id: old, user_id: alice }, 's', [media('1', NOW)], NOW)
    await h.store.revokeByPlatformIdentity('instagram', '2', 'Revoked', NOW)
    await h.store.enqueueWebhook({ id: 'evt_1', event_type: 'x', payload: '{}', now: NOW })
    await h.store.finishWebhookAttempt({
      id: 'evt_1',
      status: 'delivered',
      attempts: 1,
      nextAttemptAt: NOW,
      lastError: null,
      now: NOW,
    })
    await h.store.enqueueWebhook({ id: 'evt_2', event_type: 'x', payload: '{}', now: NOW })
    await h.store.rememberDevice({ digest: 'old-device', user_id: alice, now: NOW })
    await h.store.rememberDevice({ digest: 'recent-device', user_id: alice, now: NOW + 1 })
    await h.store.recordApiUsage({
      scope: 'idle',
      usagePercent: 10,
      blockedUntil: null,
      now: NOW,
    })
    await h.store.recordApiUsage({
      scope: 'blocked',
      usagePercent: 100,
      blockedUntil: NOW + 10,
      now: NOW,
    })
    assert.deepEqual(
      await h.store.purge({
        now: NOW + 5,
        revokedBefore: NOW - 1,
        webhooksBefore: NOW - 1,
        budgetsBefore: NOW - 1,
        devicesBefore: NOW - 1,
      }),
      { revoked_accounts: 0, webhook_deliveries: 0, api_budgets: 0, known_devices: 0 },
      'nothing old enough yet',
    )
    assert.deepEqual(
      await h.store.purge({
        now: NOW + 5,
        revokedBefore: NOW,
        webhooksBefore: NOW,
        budgetsBefore: NOW,
        devicesBefore: NOW,
      }),
      { revoked_accounts: 1, webhook_deliveries: 1, api_budgets: 1, known_devices: 1 },
    )
    assert.deepEqual(
      (await h.raw('SELECT id FROM user_social_accounts')).map((r) => r.id),
      [kept],
    )
    assert.equal((await h.raw('SELECT id FROM media')).length, 0, 'media went with the account')
    assert.deepEqual(
      (await h.raw('SELECT id FROM webhook_deliveries')).map((r) => r.id),
      ['evt_2'],
      'pending kept',
    )
    assert.deepEqual(
      (await h.raw('SELECT scope FROM api_budgets')).map((r) => r.scope),
      ['blocked'],
      'a block in force is kept',
    )
    assert.deepEqual(
      (await h.raw('SELECT digest FROM known_devices')).map((r) => r.digest),
      ['recent-device'],
    )
  })

  test('import: creates the user and account, skips an unchanged record, never takes a shorter token or older sync', async () => {
    const h = harness()
    const record = (extra: Partial<ImportedAccountInput> = {}): ImportedAccountInput => ({
      user_id: 'fs-user-1',
      platform: 'instagram',
      account_type: 'oauth',
      username: 'shop',
      display_name: 'Shop',
      platform_user_id: '17841400000000001',
      encrypted_access_token: 'gAAAAA-imported',
      token_expires_at: NOW + 30 * DAY,
      token_issued_at: NOW - 30 * DAY,
      is_active: true,
      connected_at: NOW - 100 * DAY,
      last_sync: NOW - DAY,
      posts_count: 12,
      status: 'active',
      status_message: null,
      profile_url: 'https://www.instagram.com/shop/',
      import_fingerprint: 'fp1',
      now: NOW,
      ...extra,
    })
    const accounts = () =>
      h.raw(
        'SELECT user_id, platform, account_type, username, display_name, platform_user_id, encrypted_credentials, credentials_format, token_expires_at, credentials_expire_at, last_sync, posts_count, status, connected_at, is_active, import_fingerprint FROM user_social_accounts ORDER BY account_type, username',
      )
    assert.equal(await h.store.importAccount(record(), true), 'created', 'a dry run says so')
    assert.deepEqual(await h.raw('SELECT id FROM users'), [], 'and writes nothing')
    assert.deepEqual(await accounts(), [])

    assert.equal(await h.store.importAccount(record(), false), 'created')
    assert.deepEqual(await h.raw('SELECT id, email, password_hash FROM users'), [
      { id: 'fs-user-1', email: 'fs-user-1@users.firebase.invalid', password_hash: '!external' },
    ])
    const imported = {
      user_id: 'fs-user-1',
      platform: 'instagram',
      account_type: 'oauth',
      username: 'shop',
      display_name: 'Shop',
      platform_user_id: '17841400000000001',
      // the original app's bare token: format 1, readable as it was
      encrypted_credentials: 'gAAAAA-imported',
      credentials_format: 1,
      token_expires_at: NOW + 30 * DAY,
      credentials_expire_at: NOW + 30 * DAY,
      last_sync: NOW - DAY,
      posts_count: 12,
      status: 'active',
      connected_at: NOW - 100 * DAY,
      is_active: 1,
      import_fingerprint: 'fp1',
    }
    assert.deepEqual(await accounts(), [imported])
    const [created] = await h.store.listAccounts('fs-user-1')
    assert.equal(created?.next_sync_at, null, 'synced as soon as can be')
    assert.equal(await h.store.importAccount(record({ username: 'x' }), false), 'unchanged')
    assert.deepEqual(await accounts(), [imported], 'same fingerprint: untouched')

    // the service renewed the token and synced since the export
    assert.ok(created)
    assert.equal(
      await h.store.completeRenewal({
        accountId: created.id,
        expectedVersion: created.credentials_version,
        credentials: credentialColumns(NOW + 60 * DAY, NOW, 'gAAAAA-renewed'),
        now: NOW,
      }),
      true,
    )
    await h.store.updateAccount(created.id, { last_sync: NOW, posts_count: 13, now: NOW })
    const stale = record({
      username: 'renamed',
      status: 'reauth_required',
      status_message: 'old',
      import_fingerprint: 'fp2',
    })
    assert.equal(await h.store.importAccount(stale, true), 'updated')
    assert.equal((await accounts())[0]?.import_fingerprint, 'fp1', 'a dry run writes nothing')
    assert.equal(await h.store.importAccount(stale, false), 'updated')
    assert.deepEqual(await accounts(), [
      {
        ...imported,
        username: 'renamed',
        encrypted_credentials: 'gAAAAA-renewed',
        credentials_format: 2,
        token_expires_at: NOW + 60 * DAY,
        credentials_expire_at: NOW + 60 * DAY,
        last_sync: NOW,
        posts_count: 13,
        import_fingerprint: 'fp2',
      },
    ])
    // a token that lasts longer than the stored one replaces it, with the record's status
    const longer = record({
      encrypted_access_token: 'gAAAAA-longer',
      token_expires_at: NOW + 90 * DAY,
      status: 'refresh_due',
      import_fingerprint: 'fp3',
    })
    assert.equal(await h.store.importAccount(longer, false), 'updated')
    assert.deepEqual(
      (await accounts()).map((a) => [
        a.encrypted_credentials,
        a.credentials_format,
        a.token_expires_at,
        a.credentials_expire_at,
        a.status,
      ]),
      [['gAAAAA-longer', 1, NOW + 90 * DAY, NOW + 90 * DAY, 'refresh_due']],
    )

    // public profile links match on the username; an existing user is reused as it is
    const alice = await user()
    const link = (fingerprint: string) =>
      record({
        user_id: alice,
        account_type: 'public',
        username: 'nasa',
        platform_user_id: null,
        encrypted_access_token: null,
        token_expires_at: null,
        token_issued_at: null,
        last_sync: null,
        posts_count: null,
        import_fingerprint: fingerprint,
      })
    assert.equal(await h.store.importAccount(link('p1'), false), 'created')
    assert.equal(await h.store.importAccount(link('p2'), false), 'updated')
    assert.deepEqual(
      await h.raw(
        "SELECT import_fingerprint FROM user_social_accounts WHERE account_type = 'public'",
      ),
      [{ import_fingerprint: 'p2' }],
    )
    assert.deepEqual(await h.raw('SELECT email FROM users WHERE id = ?', [alice]), [
      { email: 'a@example.com' },
    ])
    assert.equal((await h.raw('SELECT id FROM users')).length, 2)
  })

  test('token re-encryption: stored tokens page in id order, replaced only while unchanged', async () => {
    const h = harness()
    const alice = await user()
    const ids = [await account(alice, '1'), await account(alice, '2'), await account(alice, '3')]
    await h.store.createPublicAccount({
      user_id: alice,
      platform: 'x',
      username: 'nasa',
      profile_url: 'https://x.com/nasa',
      now: NOW,
      max_per_user: 5,
    })
    const first = await h.store.listStoredTokens({ afterId: null, limit: 2 })
    const rest = await h.store.listStoredTokens({ afterId: first[1]?.id ?? null, limit: 2 })
    assert.deepEqual(
      [...first, ...rest],
      [...ids].sort().map((id) => ({ id, encrypted_credentials: TOKEN })),
      'every token once, none of the link without one',
    )
    const replace = (previousToken: string) =>
      h.store.replaceToken({
        accountId: ids[0] ?? '',
        previousToken,
        encryptedToken: 'gAAAAA-rotated',
        now: NOW + 1,
      })
    assert.equal(await replace('gAAAAA-renewed-meanwhile'), false)
    assert.equal(await replace(TOKEN), true)
    assert.equal(await replace(TOKEN), false, 'once')
    assert.deepEqual(
      await h.raw(
        'SELECT encrypted_credentials, credentials_format FROM user_social_accounts WHERE id = ?',
        [ids[0]],
      ),
      [{ encrypted_credentials: 'gAAAAA-rotated', credentials_format: 2 }],
      're-encryption keeps the format',
    )
  })
}
