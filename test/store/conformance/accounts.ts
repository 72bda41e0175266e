/**
 * Conformance of `AccountStore`: connections (and their races), profile links, pages, patches
 * and the status rules.
 */
import assert from 'node:assert/strict'
import type { Conformance } from './harness.ts'
import { DAY, NOW, credentialColumns, media, oauthInput } from './harness.ts'

export function accountCases({ test, harness, user, account }: Conformance): void {
  test('oauth accounts: upsert creates once, then updates the same record', async () => {
    const h = harness()
    const userId = await user()
    const first = await account(userId)
    const again = await h.store.upsertOAuthAccount({
      user_id: userId,
      platform: 'instagram',
      username: 'renamed',
      platform_user_id: '17841400000000001',
      platform_scoped_id: '27281358591558845',
      platform_attributes: { account_type: 'MEDIA_CREATOR' },
      credentials: credentialColumns(NOW + 1, NOW + 1, 'gAAAAA-new'),
      posts_count: 9,
      profile_url: 'https://www.instagram.com/renamed/',
      profile_picture_url: 'https://cdn.example/p.jpg',
      now: NOW + 5,
    })
    assert.equal(again.created, false)
    assert.equal(again.account.id, first)
    const rows = await h.raw(
      'SELECT id, username, platform_user_id, platform_scoped_id, platform_attributes, encrypted_credentials, credentials_format, token_expires_at, token_issued_at, refresh_token_expires_at, credentials_expire_at, posts_count, connected_at, is_active FROM user_social_accounts',
    )
    assert.deepEqual(rows, [
      {
        id: first,
        username: 'renamed',
        platform_user_id: '17841400000000001',
        platform_scoped_id: '27281358591558845',
        platform_attributes: '{"account_type":"MEDIA_CREATOR"}',
        encrypted_credentials: 'gAAAAA-new',
        credentials_format: 2,
        token_expires_at: NOW + 1,
        token_issued_at: NOW + 1,
        refresh_token_expires_at: null,
        credentials_expire_at: NOW + 1,
        posts_count: 9,
        connected_at: NOW,
        is_active: 1,
      },
    ])
    assert.deepEqual(again.account.platform_attributes, { account_type: 'MEDIA_CREATOR' })
    assert.equal(again.account.credentials_format, 2)
    assert.equal(again.account.is_active, true)
    assert.equal(again.account.status, 'active')
  })

  test('oauth accounts: parallel connects of the same Instagram account make one record, without an error', async () => {
    const h = harness()
    const alice = await user()
    // two tabs finishing the same connection at once (review D11): PostgreSQL runs these
    // concurrently, and a select-then-insert trips the unique index
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, (_, i) =>
        h.store.upsertOAuthAccount({
          ...oauthInput(alice),
          credentials: credentialColumns(NOW + 60 * DAY, NOW, `gAAAAA-tab${i}`),
          now: NOW + i,
        }),
      ),
    )
    const upserts = results.map((r) => {
      if (r.status === 'rejected') assert.fail(`an upsert failed: ${String(r.reason)}`)
      return r.value
    })
    assert.equal(upserts.filter((u) => u.created).length, 1, 'one of them created it')
    assert.equal(new Set(upserts.map((u) => u.account.id)).size, 1, 'all the same record')
    upserts.forEach((u, i) =>
      assert.equal(u.account.encrypted_credentials, `gAAAAA-tab${i}`, 'each sees its own write'),
    )
    const rows = await h.raw('SELECT id, encrypted_credentials, status FROM user_social_accounts')
    assert.equal(rows.length, 1)
    assert.match(String(rows[0]?.encrypted_credentials), /^gAAAAA-tab[0-3]$/)
    assert.equal(rows[0]?.status, 'active')
    // the same Instagram account connected by another user is that user's own record
    const bob = await user('b@example.com')
    const theirs = await h.store.upsertOAuthAccount(oauthInput(bob))
    assert.equal(theirs.created, true)
    assert.notEqual(theirs.account.id, upserts[0]?.account.id)
  })

  test('public profile links stop at the per-user cap, even when created in parallel', async () => {
    const h = harness()
    const alice = await user()
    const bob = await user('b@example.com')
    const link = (owner: string, i: number) =>
      h.store.createPublicAccount({
        user_id: owner,
        platform: 'x',
        username: `user${i}`,
        profile_url: `https://x.com/user${i}`,
        now: NOW + i,
        max_per_user: 5,
      })
    // eight at once for a cap of five: exactly five get in (PostgreSQL runs them concurrently)
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => link(alice, i)))
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 5)
    for (const r of results)
      if (r.status === 'rejected')
        assert.match(String((r.reason as Error).message), /5 profile links/)
    const rows = await h.raw(
      "SELECT count(*) AS n FROM user_social_accounts WHERE user_id = ? AND account_type = 'public'",
      [alice],
    )
    assert.equal(Number(rows[0]?.n), 5)
    // the cap is per user, and OAuth connections do not count against it
    await account(bob)
    for (let i = 0; i < 5; i++) await link(bob, i)
    await assert.rejects(link(bob, 9), { code: 'ERR_CONFLICT' })
  })

  test('accounts list in keyset pages, oldest connection first', async () => {
    const h = harness()
    const alice = await user()
    for (let i = 0; i < 5; i++)
      await h.store.createPublicAccount({
        user_id: alice,
        platform: 'x',
        username: `page${i}`,
        // two share a timestamp: the id breaks the tie
        profile_url: `https://x.com/page${i}`,
        now: NOW + Math.min(i, 3),
        max_per_user: 50,
      })
    const all = await h.store.listAccounts(alice)
    assert.equal(all.length, 5)
    const seen: string[] = []
    let after: { connected_at: number; id: string } | undefined
    for (;;) {
      const page = await h.store.listAccounts(alice, { limit: 2, ...(after ? { after } : {}) })
      seen.push(...page.map((a) => a.id))
      const last = page[page.length - 1]
      if (page.length < 2 || last === undefined) break
      after = { connected_at: last.connected_at, id: last.id }
    }
    assert.deepEqual(
      seen,
      all.map((a) => a.id),
    )
  })

  test('accounts are scoped to their user; public duplicates conflict', async () => {
    const h = harness()
    const alice = await user()
    const bob = await user('b@example.com')
    const id = await account(alice)
    assert.equal(await h.store.getAccount(bob, id), null)
    assert.equal((await h.store.getAccount(alice, id))?.id, id)
    assert.deepEqual(await h.store.listAccounts(bob), [])
    const pub = await h.store.createPublicAccount({
      user_id: bob,
      platform: 'instagram',
      username: 'nasa',
      profile_url: 'https://www.instagram.com/nasa/',
      now: NOW,
      max_per_user: 50,
    })
    assert.equal(pub.account_type, 'public')
    assert.equal(pub.encrypted_credentials, null)
    assert.equal(pub.credentials_expire_at, null)
    await assert.rejects(
      h.store.createPublicAccount({
        user_id: bob,
        platform: 'instagram',
        username: 'nasa',
        profile_url: 'x',
        now: NOW,
        max_per_user: 50,
      }),
      { code: 'ERR_CONFLICT' },
    )
    assert.equal(
      await h.store.deleteAccount(bob, id),
      false,
      'cannot delete another user’s account',
    )
    assert.equal((await h.raw('SELECT id FROM user_social_accounts WHERE id = ?', [id])).length, 1)
  })

  test('updateAccount writes only the given fields', async () => {
    const h = harness()
    const userId = await user()
    const id = await account(userId)
    await h.store.updateAccount(id, {
      status: 'reauth_required',
      status_message: 'Reconnect',
      now: NOW + 9,
    })
    assert.deepEqual(
      await h.raw(
        'SELECT status, status_message, posts_count, updated_at FROM user_social_accounts WHERE id = ?',
        [id],
      ),
      [
        {
          status: 'reauth_required',
          status_message: 'Reconnect',
          posts_count: 3,
          updated_at: NOW + 9,
        },
      ],
    )
  })

  test('deleteAccount removes the account, its token and all its media in one go', async () => {
    const h = harness()
    const userId = await user()
    const id = await account(userId)
    const keep = await account(userId, '999')
    const album = media('300', NOW, {
      media_type: 'CAROUSEL_ALBUM',
      children: [media('301', NOW)],
    })
    await h.store.upsertMediaPage({ id, user_id: userId }, 's', [media('100', NOW), album], NOW)
    await h.store.upsertMediaPage({ id: keep, user_id: userId }, 's', [media('900', NOW)], NOW)
    assert.equal(await h.store.deleteAccount(userId, id), true)
    assert.deepEqual(await h.raw('SELECT id FROM user_social_accounts'), [{ id: keep }])
    assert.deepEqual(await h.raw('SELECT platform_media_id FROM media'), [
      { platform_media_id: '900' },
    ])
    assert.equal(await h.store.deleteAccount(userId, id), false)
  })

  test('status rules: a revocation stands against later patches; markHealthy reads the stored expiry', async () => {
    const h = harness()
    const alice = await user()
    const id = await account(alice)
    await h.store.markHealthy(id, NOW + 61 * 86_400_000, NOW)
    assert.deepEqual(await h.raw('SELECT status FROM user_social_accounts'), [
      { status: 'refresh_due' },
    ])
    await h.store.markHealthy(id, NOW + 30 * 86_400_000, NOW)
    assert.deepEqual(await h.raw('SELECT status FROM user_social_accounts'), [{ status: 'active' }])
    await h.store.failRenewal({
      accountId: id,
      expectedVersion: (await h.store.getAccount(alice, id))?.credentials_version ?? -1,
      status: 'degraded',
      message: 'renewal failing',
      retryAt: NOW,
      now: NOW,
    })
    await h.store.markHealthy(id, NOW, NOW)
    assert.deepEqual(await h.raw('SELECT status, status_message FROM user_social_accounts'), [
      { status: 'degraded', status_message: 'renewal failing' },
    ])
    await h.store.revokeByPlatformIdentity('instagram', '17841400000000001', 'Revoked', NOW)
    await h.store.updateAccount(id, {
      status: 'rate_limited',
      status_message: 'late',
      now: NOW + 1,
    })
    await h.store.markHealthy(id, NOW, NOW + 2)
    assert.deepEqual(await h.raw('SELECT status, status_message FROM user_social_accounts'), [
      { status: 'revoked', status_message: 'Revoked' },
    ])
    assert.equal(
      await h.store.markRefreshDue(NOW + 100 * 86_400_000, NOW),
      0,
      'revoked has no token',
    )
  })
}
