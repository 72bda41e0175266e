/** Conformance: Meta's deauthorize and data-deletion requests (`DeletionStore`). */
import assert from 'node:assert/strict'
import type { Conformance } from './harness.ts'
import { NOW, TOKEN, credentialColumns, media, oauthInput } from './harness.ts'

export function deletionCases({ test, harness, user, account }: Conformance): void {
  test('revoke: every OAuth account of that Instagram id loses its token, matched on either id', async () => {
    const h = harness()
    const alice = await user()
    const bob = await user('b@example.com')
    const a = await account(alice)
    const b = await account(bob)
    const other = await account(bob, '999')
    assert.equal(
      (
        await h.store.revokeByPlatformIdentity(
          'instagram',
          '27281358591558845',
          'Revoked on Instagram',
          NOW + 1,
        )
      ).length,
      3,
    )
    await h.store.upsertOAuthAccount({
      user_id: bob,
      platform: 'instagram',
      username: 'x',
      platform_user_id: '999',
      platform_scoped_id: '555',
      platform_attributes: { account_type: 'BUSINESS' },
      credentials: credentialColumns(NOW, NOW, 'gAAAAA-x'),
      posts_count: 0,
      profile_url: 'x',
      profile_picture_url: null,
      now: NOW,
    })
    assert.equal(
      (await h.store.revokeByPlatformIdentity('instagram', '27281358591558845', 'Again', NOW + 2))
        .length,
      0,
      'a replay changes nothing',
    )
    // matched on the professional id too: alice reconnects, then Meta revokes by that id
    await h.store.upsertOAuthAccount({
      user_id: alice,
      platform: 'instagram',
      username: 'shop',
      platform_user_id: '17841400000000001',
      platform_scoped_id: '27281358591558845',
      platform_attributes: { account_type: 'BUSINESS' },
      credentials: credentialColumns(NOW + 1000, NOW, 'gAAAAA-new'),
      posts_count: 0,
      profile_url: 'x',
      profile_picture_url: null,
      now: NOW + 3,
    })
    assert.deepEqual(
      (
        await h.store.revokeByPlatformIdentity('instagram', '17841400000000001', 'Revoked', NOW + 4)
      ).map((r) => r.id),
      [a],
    )
    const rows = await h.raw(
      'SELECT id, status, encrypted_credentials, token_expires_at, refresh_token_expires_at, credentials_expire_at, is_active FROM user_social_accounts WHERE id IN (?, ?) ORDER BY id',
      [a, b].sort(),
    )
    assert.equal(rows.length, 2)
    for (const row of rows)
      assert.deepEqual(
        { ...row, id: 'x' },
        {
          id: 'x',
          status: 'revoked',
          encrypted_credentials: null,
          token_expires_at: null,
          refresh_token_expires_at: null,
          credentials_expire_at: null,
          is_active: 0,
        },
      )
    assert.equal(
      (
        await h.raw('SELECT encrypted_credentials AS t FROM user_social_accounts WHERE id = ?', [
          other,
        ])
      )[0]?.t,
      'gAAAAA-x',
    )
    assert.equal((await h.store.getAccount(alice, a))?.status, 'revoked')
  })

  test('data deletion: all accounts and media of that Instagram id go; the code is kept on repeat', async () => {
    const h = harness()
    const alice = await user()
    const a = await account(alice)
    const keep = await account(alice, '999')
    await h.store.upsertMediaPage(
      { id: a, user_id: alice },
      's',
      [media('1', NOW, { media_type: 'CAROUSEL_ALBUM', children: [media('2', NOW)] })],
      NOW,
    )
    await h.store.upsertMediaPage({ id: keep, user_id: alice }, 's', [media('9', NOW)], NOW)
    // the deletion and its confirmation record, in one call (one transaction)
    const first = await h.store.deletePlatformUserData({
      platform: 'instagram',
      platformUserId: '17841400000000001',
      confirmationCode: 'CODE1',
      now: NOW,
    })
    assert.equal(first.deleted, 1)
    assert.deepEqual(await h.raw('SELECT platform_media_id FROM media'), [
      { platform_media_id: '9' },
    ])
    // a repeated request keeps its first code, with the new completion time
    const again = await h.store.deletePlatformUserData({
      platform: 'instagram',
      platformUserId: '17841400000000001',
      confirmationCode: 'CODE2',
      now: NOW + 5,
    })
    assert.equal(again.deleted, 0)
    assert.equal(first.record.confirmation_code, 'CODE1')
    assert.equal(again.record.confirmation_code, 'CODE1')
    assert.equal(again.record.requested_at, NOW)
    assert.deepEqual(
      await h.raw(
        'SELECT confirmation_code, completed_at, deleted_accounts FROM data_deletion_requests',
      ),
      [{ confirmation_code: 'CODE1', completed_at: NOW + 5, deleted_accounts: 1 }],
    )
    const found = await h.store.findDataDeletion('CODE1')
    assert.equal(found?.platform, 'instagram')
    assert.equal(found?.platform_user_id, '17841400000000001')
    assert.equal(await h.store.findDataDeletion('CODE2'), null)
    assert.equal(await h.store.deleteUserSocialData(alice), 1)
    assert.deepEqual(await h.raw('SELECT id FROM user_social_accounts'), [])
    assert.deepEqual(await h.raw('SELECT id FROM media'), [])
  })

  test('revoke and data deletion only touch Instagram accounts, even where another platform shares the id', async () => {
    const h = harness()
    const alice = await user()
    const ig = await account(alice, '4242')
    // another provider's account whose ids landed in the same columns (review D9)
    const { account: other } = await h.store.upsertOAuthAccount({
      ...oauthInput(alice, '4242'),
      platform: 'tiktok',
    })
    const otherRow = () =>
      h.raw(
        'SELECT status, encrypted_credentials, is_active FROM user_social_accounts WHERE id = ?',
        [other.id],
      )
    const untouched = [{ status: 'active', encrypted_credentials: TOKEN, is_active: 1 }]
    assert.deepEqual(
      (
        await h.store.revokeByPlatformIdentity('instagram', '27281358591558845', 'Revoked', NOW + 1)
      ).map((a) => a.id),
      [ig],
      'matched on the app-scoped id',
    )
    assert.deepEqual(await otherRow(), untouched)
    await h.store.upsertOAuthAccount({ ...oauthInput(alice, '4242'), now: NOW + 2 })
    assert.deepEqual(
      (await h.store.revokeByPlatformIdentity('instagram', '4242', 'Revoked', NOW + 3)).map(
        (a) => a.id,
      ),
      [ig],
      'matched on the professional id',
    )
    assert.deepEqual(await otherRow(), untouched)
    assert.equal(
      (
        await h.store.deletePlatformUserData({
          platform: 'instagram',
          platformUserId: '4242',
          confirmationCode: 'CODE4242',
          now: NOW + 4,
        })
      ).deleted,
      1,
    )
    assert.deepEqual(
      (await h.raw('SELECT id FROM user_social_accounts')).map((r) => r.id),
      [other.id],
    )
  })

  test('another platform naming the same id revokes and deletes nothing of Instagram; its deletion record is its own', async () => {
    const h = harness()
    const alice = await user()
    const ig = await account(alice) // platform_user_id 17841400000000001, scoped 27281358591558845
    await h.store.upsertMediaPage({ id: ig, user_id: alice }, 's', [media('1', NOW)], NOW)
    const row = () =>
      h.raw(
        'SELECT status, status_message, encrypted_credentials, credentials_version, token_expires_at, credentials_expire_at, is_active, updated_at FROM user_social_accounts WHERE id = ?',
        [ig],
      )
    const before = await row()
    assert.equal(before.length, 1)
    for (const [i, id] of ['17841400000000001', '27281358591558845'].entries()) {
      assert.deepEqual(
        await h.store.revokeByPlatformIdentity('youtube', id, 'Revoked on YouTube', NOW + 1),
        [],
        `a YouTube revocation of ${id}`,
      )
      const deletion = await h.store.deletePlatformUserData({
        platform: 'youtube',
        platformUserId: id,
        confirmationCode: `YT${i}`,
        now: NOW + 1,
      })
      assert.equal(deletion.deleted, 0, `a YouTube deletion of ${id}`)
    }
    assert.deepEqual(await row(), before, 'the Instagram account is untouched')
    assert.deepEqual(await h.raw('SELECT platform_media_id FROM media'), [
      { platform_media_id: '1' },
    ])
    // one request per platform and id: the same id on two platforms is two requests
    const igRequest = await h.store.deletePlatformUserData({
      platform: 'instagram',
      platformUserId: '27281358591558845',
      confirmationCode: 'IG1',
      now: NOW + 2,
    })
    assert.equal(igRequest.deleted, 1, 'Instagram’s own request deletes its account')
    assert.equal(igRequest.record.confirmation_code, 'IG1', 'not the YouTube request')
    assert.deepEqual(
      await h.raw(
        'SELECT confirmation_code, platform, platform_user_id FROM data_deletion_requests ORDER BY confirmation_code',
      ),
      [
        { confirmation_code: 'IG1', platform: 'instagram', platform_user_id: '27281358591558845' },
        { confirmation_code: 'YT0', platform: 'youtube', platform_user_id: '17841400000000001' },
        { confirmation_code: 'YT1', platform: 'youtube', platform_user_id: '27281358591558845' },
      ],
    )
    assert.equal((await h.store.findDataDeletion('YT1'))?.platform, 'youtube')
  })
}
