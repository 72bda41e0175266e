/**
 * The contract of `Store`: every backend's test file calls `runStoreConformance` with a factory.
 * Each write is checked with raw SQL reads that bypass the store.
 */
import { describe, test, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import type { MediaInput, Store } from '../../src/store/types.ts'

export interface StoreHarness {
  readonly store: Store
  /** Runs SQL with `?` placeholders directly against the database. */
  readonly raw: (sql: string, params?: readonly unknown[]) => Promise<Record<string, unknown>[]>
  readonly dispose: () => Promise<void>
}

export interface ConformanceOptions {
  readonly name: string
  readonly create: () => Promise<StoreHarness>
}

const NOW = 1_750_000_000_000

function media(id: string, ts: number, extra: Partial<MediaInput> = {}): MediaInput {
  return {
    platform_media_id: id,
    media_type: 'IMAGE',
    media_product_type: 'FEED',
    media_url: `https://cdn.example/${id}.jpg`,
    thumbnail_url: null,
    url_expires_at: null,
    permalink: `https://www.instagram.com/p/${id}/`,
    caption: `caption ${id}`,
    timestamp: ts,
    children: [],
    ...extra,
  }
}

export function runStoreConformance({ name, create }: ConformanceOptions): void {
  describe(`store conformance: ${name}`, () => {
    let h: StoreHarness
    beforeEach(async () => {
      h = await create()
    })
    afterEach(async () => {
      await h.dispose()
    })

    async function user(email = 'a@example.com'): Promise<string> {
      return (await h.store.createUser({ email, password_hash: 'scrypt$x', now: NOW })).id
    }
    async function account(userId: string, igId = '17841400000000001'): Promise<string> {
      const { account } = await h.store.upsertOAuthAccount({
        user_id: userId,
        platform: 'instagram',
        username: 'shop',
        instagram_user_id: igId,
        instagram_scoped_id: '27281358591558845',
        instagram_account_type: 'BUSINESS',
        encrypted_access_token: 'gAAAAA-encrypted',
        token_expires_at: NOW + 60 * 86_400_000,
        token_issued_at: NOW,
        posts_count: 3,
        profile_url: 'https://www.instagram.com/shop/',
        profile_picture_url: null,
        now: NOW,
      })
      return account.id
    }

    test('users: create, find, duplicate email is ERR_CONFLICT', async () => {
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

    test('sessions: absolute and idle expiry, touch, delete', async () => {
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

    test('gallery version: moves with every change to the user’s media or accounts, only theirs', async () => {
      const alice = await user()
      const bob = await user('b@example.com')
      const version = () => h.store.getGalleryVersion(alice)
      const moved = async (what: string, change: () => Promise<unknown>) => {
        const before = await version()
        const bobBefore = await h.store.getGalleryVersion(bob)
        await change()
        assert.ok((await version()) > before, `${what} moves the version`)
        assert.equal(await h.store.getGalleryVersion(bob), bobBefore, `${what}: not Bob's`)
      }
      assert.equal(await h.store.getGalleryVersion('nobody'), 0)
      let id = ''
      await moved('connecting an account', async () => {
        id = await account(alice)
      })
      const owner = { id, user_id: alice }
      await moved('new media', () => h.store.upsertMediaPage(owner, 's1', [media('1', NOW)], NOW))
      await moved('a changed caption', () =>
        h.store.upsertMediaPage(owner, 's2', [{ ...media('1', NOW), caption: 'new' }], NOW),
      )
      await moved('a deleted post', () => h.store.removeMediaNotSeen(id, 's3'))
      await h.store.upsertMediaPage(owner, 's4', [media('2', NOW)], NOW)
      await moved('a disconnected account (its media go with it)', () =>
        h.store.deleteAccount(alice, id),
      )
      const again = await account(alice)
      await h.store.upsertMediaPage({ id: again, user_id: alice }, 's5', [media('3', NOW)], NOW)
      await moved('"delete all my data"', () => h.store.deleteUserSocialData(alice))
    })

    test('known devices: remembered per user, seen again moves last_seen_at, never changes owner', async () => {
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

    test('oauth states: consumed once, even by concurrent callers; expired ones purged', async () => {
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

    test('oauth accounts: upsert creates once, then updates the same record', async () => {
      const userId = await user()
      const first = await account(userId)
      const again = await h.store.upsertOAuthAccount({
        user_id: userId,
        platform: 'instagram',
        username: 'renamed',
        instagram_user_id: '17841400000000001',
        instagram_scoped_id: '27281358591558845',
        instagram_account_type: 'MEDIA_CREATOR',
        encrypted_access_token: 'gAAAAA-new',
        token_expires_at: NOW + 1,
        token_issued_at: NOW + 1,
        posts_count: 9,
        profile_url: 'https://www.instagram.com/renamed/',
        profile_picture_url: 'https://cdn.example/p.jpg',
        now: NOW + 5,
      })
      assert.equal(again.created, false)
      assert.equal(again.account.id, first)
      const rows = await h.raw(
        'SELECT id, username, encrypted_access_token, posts_count, connected_at, is_active FROM user_social_accounts',
      )
      assert.deepEqual(rows, [
        {
          id: first,
          username: 'renamed',
          encrypted_access_token: 'gAAAAA-new',
          posts_count: 9,
          connected_at: NOW,
          is_active: 1,
        },
      ])
      assert.equal(again.account.is_active, true)
      assert.equal(again.account.status, 'active')
    })

    test('public profile links stop at the per-user cap, even when created in parallel', async () => {
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
      assert.equal(pub.encrypted_access_token, null)
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
      assert.equal(
        (await h.raw('SELECT id FROM user_social_accounts WHERE id = ?', [id])).length,
        1,
      )
    })

    test('updateAccount writes only the given fields', async () => {
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

    test('media: page upsert counts added / updated / unchanged; albums keep children in order', async () => {
      const userId = await user()
      const accountId = await account(userId)
      const acc = { id: accountId, user_id: userId }
      const album = media('300', NOW - 3, {
        media_type: 'CAROUSEL_ALBUM',
        children: [media('301', NOW - 3), media('302', NOW - 3, { media_type: 'VIDEO' })],
      })
      const page = [media('100', NOW - 1), media('200', NOW - 2), album]
      assert.deepEqual(await h.store.upsertMediaPage(acc, 'sync1', page, NOW), {
        added: 3,
        updated: 0,
        refreshed: 0,
        known: 0,
      })
      assert.deepEqual(await h.store.upsertMediaPage(acc, 'sync2', page, NOW), {
        added: 0,
        updated: 0,
        refreshed: 0,
        known: 3,
      })
      const edited = [
        media('100', NOW - 1, { caption: 'edited' }),
        media('200', NOW - 2),
        { ...album, children: [media('302', NOW - 3, { media_type: 'VIDEO' })] },
      ]
      assert.deepEqual(await h.store.upsertMediaPage(acc, 'sync3', edited, NOW + 1), {
        added: 0,
        updated: 2,
        refreshed: 0,
        known: 3,
      })
      // fresh signed URLs alone are a refresh, not an edit; they are stored
      const resigned = [
        media('100', NOW - 1, {
          caption: 'edited',
          media_url: 'https://cdn.example/100.jpg?oe=2',
          url_expires_at: 2000,
        }),
      ]
      assert.deepEqual(await h.store.upsertMediaPage(acc, 'sync4', resigned, NOW + 2), {
        added: 0,
        updated: 0,
        refreshed: 1,
        known: 1,
      })
      assert.deepEqual(await h.store.summarizeMedia(accountId), { count: 3, urlsExpireAt: 2000 })
      const [resignedRow] = await h.raw(
        'SELECT media_url, url_expires_at, updated_at FROM media WHERE platform_media_id = ?',
        ['100'],
      )
      assert.deepEqual(resignedRow, {
        media_url: 'https://cdn.example/100.jpg?oe=2',
        url_expires_at: 2000,
        updated_at: NOW + 2,
      })
      const raw = await h.raw(
        'SELECT platform_media_id, caption FROM media WHERE platform_media_id = ?',
        ['100'],
      )
      assert.deepEqual(raw, [{ platform_media_id: '100', caption: 'edited' }])
      assert.equal(
        (await h.raw('SELECT id FROM media WHERE platform_media_id = ?', ['301'])).length,
        0,
      )
      const listed = await h.store.listMedia({ user_id: userId, limit: 10 })
      assert.deepEqual(
        listed.map((m) => m.platform_media_id),
        ['100', '200', '300'],
      )
      assert.deepEqual(
        listed[2]?.children.map((c) => [c.platform_media_id, c.position]),
        [['302', 0]],
      )
    })

    test('media: removeMediaNotSeen deletes only unseen top-level items and their children', async () => {
      const userId = await user()
      const accountId = await account(userId)
      const acc = { id: accountId, user_id: userId }
      const album = media('300', NOW - 3, {
        media_type: 'CAROUSEL_ALBUM',
        children: [media('301', NOW - 3)],
      })
      await h.store.upsertMediaPage(acc, 'sync1', [media('100', NOW - 1), album], NOW)
      await h.store.upsertMediaPage(acc, 'sync2', [media('100', NOW - 1)], NOW)
      assert.equal(await h.store.removeMediaNotSeen(accountId, 'sync2'), 1)
      assert.deepEqual(
        await h.raw('SELECT platform_media_id FROM media ORDER BY platform_media_id'),
        [{ platform_media_id: '100' }],
      )
    })

    test('media: keyset pagination is newest first, stable on equal timestamps, scoped per user and account', async () => {
      const userId = await user()
      const other = await user('b@example.com')
      const a1 = await account(userId, '1')
      const a2 = await account(userId, '2')
      const items = Array.from({ length: 25 }, (_, i) =>
        media(`m${String(i).padStart(2, '0')}`, NOW - Math.floor(i / 3)),
      )
      await h.store.upsertMediaPage({ id: a1, user_id: userId }, 's', items.slice(0, 15), NOW)
      await h.store.upsertMediaPage({ id: a2, user_id: userId }, 's', items.slice(15), NOW)
      const seen: string[] = []
      let after: { timestamp: number; id: string } | undefined
      for (let guard = 0; guard < 20; guard++) {
        const page = await h.store.listMedia({
          user_id: userId,
          limit: 4,
          ...(after ? { after } : {}),
        })
        if (page.length === 0) break
        seen.push(...page.map((m) => m.platform_media_id))
        const last = page[page.length - 1]
        assert.ok(last)
        after = { timestamp: last.timestamp, id: last.id }
      }
      assert.equal(seen.length, 25)
      assert.equal(new Set(seen).size, 25)
      const timestamps = (await h.store.listMedia({ user_id: userId, limit: 100 })).map(
        (m) => m.timestamp,
      )
      assert.deepEqual(
        timestamps,
        [...timestamps].sort((x, y) => y - x),
      )
      assert.equal(
        (await h.store.listMedia({ user_id: userId, account_id: a2, limit: 100 })).length,
        10,
      )
      const video = media('v1', NOW + 5, { media_type: 'VIDEO' })
      await h.store.upsertMediaPage({ id: a2, user_id: userId }, 's', [video], NOW)
      const videos = await h.store.listMedia({ user_id: userId, media_type: 'VIDEO', limit: 100 })
      assert.deepEqual(
        videos.map((m) => m.platform_media_id),
        ['v1'],
      )
      assert.equal((await h.store.listMedia({ user_id: other, limit: 100 })).length, 0)
      assert.equal(
        (await h.store.listMedia({ user_id: other, account_id: a1, limit: 100 })).length,
        0,
      )
    })

    test('deleteAccount removes the account, its token and all its media in one go', async () => {
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

    test('revoke: every OAuth account of that Instagram id loses its token, matched on either id', async () => {
      const alice = await user()
      const bob = await user('b@example.com')
      const a = await account(alice)
      const b = await account(bob)
      const other = await account(bob, '999')
      assert.equal(
        (
          await h.store.revokeInstagramAccounts(
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
        instagram_user_id: '999',
        instagram_scoped_id: '555',
        instagram_account_type: 'BUSINESS',
        encrypted_access_token: 'gAAAAA-x',
        token_expires_at: NOW,
        token_issued_at: NOW,
        posts_count: 0,
        profile_url: 'x',
        profile_picture_url: null,
        now: NOW,
      })
      assert.equal(
        (await h.store.revokeInstagramAccounts('27281358591558845', 'Again', NOW + 2)).length,
        0,
        'a replay changes nothing',
      )
      // matched on the professional id too: alice reconnects, then Meta revokes by that id
      await h.store.upsertOAuthAccount({
        user_id: alice,
        platform: 'instagram',
        username: 'shop',
        instagram_user_id: '17841400000000001',
        instagram_scoped_id: '27281358591558845',
        instagram_account_type: 'BUSINESS',
        encrypted_access_token: 'gAAAAA-new',
        token_expires_at: NOW + 1000,
        token_issued_at: NOW,
        posts_count: 0,
        profile_url: 'x',
        profile_picture_url: null,
        now: NOW + 3,
      })
      assert.deepEqual(
        (await h.store.revokeInstagramAccounts('17841400000000001', 'Revoked', NOW + 4)).map(
          (r) => r.id,
        ),
        [a],
      )
      const rows = await h.raw(
        'SELECT id, status, encrypted_access_token, token_expires_at, is_active FROM user_social_accounts WHERE id IN (?, ?) ORDER BY id',
        [a, b].sort(),
      )
      for (const row of rows)
        assert.deepEqual(
          { ...row, id: 'x' },
          {
            id: 'x',
            status: 'revoked',
            encrypted_access_token: null,
            token_expires_at: null,
            is_active: 0,
          },
        )
      assert.equal(
        (
          await h.raw('SELECT encrypted_access_token AS t FROM user_social_accounts WHERE id = ?', [
            other,
          ])
        )[0]?.t,
        'gAAAAA-x',
      )
      assert.equal((await h.store.getAccount(alice, a))?.status, 'revoked')
    })

    test('data deletion: all accounts and media of that Instagram id go; the code is kept on repeat', async () => {
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
      assert.equal(await h.store.deleteInstagramUserData('17841400000000001'), 1)
      assert.deepEqual(await h.raw('SELECT platform_media_id FROM media'), [
        { platform_media_id: '9' },
      ])
      const first = await h.store.recordDataDeletion({
        confirmation_code: 'CODE1',
        instagram_user_id: '178',
        status: 'completed',
        deleted_accounts: 1,
        requested_at: NOW,
        completed_at: NOW,
      })
      const again = await h.store.recordDataDeletion({
        confirmation_code: 'CODE2',
        instagram_user_id: '178',
        status: 'completed',
        deleted_accounts: 0,
        requested_at: NOW + 5,
        completed_at: NOW + 5,
      })
      assert.equal(first.confirmation_code, 'CODE1')
      assert.equal(again.confirmation_code, 'CODE1')
      assert.deepEqual(
        await h.raw(
          'SELECT confirmation_code, completed_at, deleted_accounts FROM data_deletion_requests',
        ),
        [{ confirmation_code: 'CODE1', completed_at: NOW + 5, deleted_accounts: 1 }],
      )
      assert.equal((await h.store.findDataDeletion('CODE1'))?.instagram_user_id, '178')
      assert.equal(await h.store.findDataDeletion('CODE2'), null)
      assert.equal(await h.store.deleteUserSocialData(alice), 1)
      assert.deepEqual(await h.raw('SELECT id FROM user_social_accounts'), [])
      assert.deepEqual(await h.raw('SELECT id FROM media'), [])
    })

    test('renewal: claims are exclusive, completion is a compare-and-swap, failure holds a backoff', async () => {
      const alice = await user()
      const id = await account(alice) // issued NOW, expires NOW + 60 days
      const claim = {
        now: NOW + 40 * 86_400_000,
        dueBefore: NOW + 70 * 86_400_000,
        issuedBefore: NOW + 39 * 86_400_000,
        leaseUntil: NOW + 40 * 86_400_000 + 60_000,
        limit: 10,
      }
      assert.equal(
        (await h.store.claimDueRenewals({ ...claim, issuedBefore: NOW - 1 })).length,
        0,
        'too young',
      )
      assert.equal(
        (await h.store.claimDueRenewals({ ...claim, dueBefore: NOW + 59 * 86_400_000 })).length,
        0,
        'not due',
      )
      const [first, second] = await Promise.all([
        h.store.claimDueRenewals(claim),
        h.store.claimDueRenewals(claim),
      ])
      assert.equal((first?.length ?? 0) + (second?.length ?? 0), 1, 'one claim wins')
      assert.equal(
        (await h.raw('SELECT renew_lease_until AS l FROM user_social_accounts'))[0]?.l,
        claim.leaseUntil,
      )
      const lost = await h.store.completeRenewal({
        accountId: id,
        previousToken: 'gAAAAA-stale',
        encryptedToken: 'gAAAAA-new',
        expiresAt: 1,
        issuedAt: 1,
        now: claim.now,
      })
      assert.equal(lost, false, 'a stale previous token does not overwrite')
      await h.store.failRenewal({
        accountId: id,
        status: 'degraded',
        message: 'later',
        retryAt: claim.now + 900_000,
        now: claim.now,
      })
      assert.deepEqual(
        await h.raw(
          'SELECT status, renewal_failures, renew_lease_until, encrypted_access_token FROM user_social_accounts',
        ),
        [
          {
            status: 'degraded',
            renewal_failures: 1,
            renew_lease_until: claim.now + 900_000,
            encrypted_access_token: 'gAAAAA-encrypted',
          },
        ],
      )
      assert.equal(
        (await h.store.claimDueRenewals({ ...claim, now: claim.now + 1 })).length,
        0,
        'backing off',
      )
      const again = await h.store.claimDueRenewals({ ...claim, now: claim.now + 900_000 })
      assert.equal(again.length, 1)
      assert.equal(
        await h.store.completeRenewal({
          accountId: id,
          previousToken: 'gAAAAA-encrypted',
          encryptedToken: 'gAAAAA-new',
          expiresAt: 7,
          issuedAt: 6,
          now: 5,
        }),
        true,
      )
      assert.deepEqual(
        await h.raw(
          'SELECT status, renewal_failures, renew_lease_until, encrypted_access_token, token_expires_at FROM user_social_accounts',
        ),
        [
          {
            status: 'active',
            renewal_failures: 0,
            renew_lease_until: null,
            encrypted_access_token: 'gAAAAA-new',
            token_expires_at: 7,
          },
        ],
      )
      assert.deepEqual(
        (await h.store.markExpiredTokens(8, 'expired')).map((a) => [a.id, a.status]),
        [[id, 'reauth_required']],
      )
      assert.equal((await h.store.markExpiredTokens(8, 'expired')).length, 0, 'once')
    })

    test('sync claims are exclusive and skip accounts that cannot sync; a lease is taken once', async () => {
      const alice = await user()
      const ready = await account(alice, '1')
      const later = await account(alice, '2')
      const revoked = await account(alice, '3')
      await h.store.updateAccount(later, { next_sync_at: NOW + 10, now: NOW })
      await h.store.updateAccount(revoked, { status: 'revoked', now: NOW })
      const claim = { now: NOW, leaseUntil: NOW + 300_000, limit: 10 }
      const [one, two] = await Promise.all([
        h.store.claimDueSyncs(claim),
        h.store.claimDueSyncs({ ...claim, leaseUntil: NOW + 300_001 }),
      ])
      assert.deepEqual(
        [...(one ?? []), ...(two ?? [])].map((a) => a.id),
        [ready],
        'only the due one, and only once',
      )
      assert.equal(await h.store.acquireSyncLease(ready, NOW + 1, NOW + 2), false, 'held')
      assert.equal(await h.store.acquireSyncLease(later, NOW + 1, NOW + 2), true)
      assert.equal(await h.store.acquireSyncLease(later, NOW + 1, NOW + 3), false)
      assert.equal(
        await h.store.acquireSyncLease(ready, NOW + 300_000, NOW + 400_000),
        true,
        'expired lease taken over',
      )
      assert.deepEqual(
        (await h.store.claimDueSyncs({ ...claim, now: NOW + 400_001 })).map((a) => a.id).sort(),
        [ready, later].sort(),
      )
    })

    test('status rules: a revocation stands against later patches; markHealthy reads the stored expiry', async () => {
      const alice = await user()
      const id = await account(alice)
      await h.store.markHealthy(id, NOW + 61 * 86_400_000, NOW)
      assert.deepEqual(await h.raw('SELECT status FROM user_social_accounts'), [
        { status: 'refresh_due' },
      ])
      await h.store.markHealthy(id, NOW + 30 * 86_400_000, NOW)
      assert.deepEqual(await h.raw('SELECT status FROM user_social_accounts'), [
        { status: 'active' },
      ])
      await h.store.failRenewal({
        accountId: id,
        status: 'degraded',
        message: 'renewal failing',
        retryAt: NOW,
        now: NOW,
      })
      await h.store.markHealthy(id, NOW, NOW)
      assert.deepEqual(await h.raw('SELECT status, status_message FROM user_social_accounts'), [
        { status: 'degraded', status_message: 'renewal failing' },
      ])
      await h.store.revokeInstagramAccounts('17841400000000001', 'Revoked', NOW)
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

    test('API budgets: sliding-window cap, blocks on the scope and on its blockers', async () => {
      const HOUR = 3_600_000
      const start = Math.ceil(NOW / HOUR) * HOUR // the start of a window
      const reserve = (now: number, cap: number | null = 3) =>
        h.store.reserveApiCall({ scope: 'acct', blockedBy: ['app'], cap, windowMs: HOUR, now })
      for (let i = 0; i < 3; i++) assert.deepEqual(await reserve(start + i), { allowed: true })
      const full = await reserve(start + 10)
      assert.equal(full.allowed, false)
      // the next window starts with the previous one's 3 calls at full weight; room for one more
      // call once that weight is down to 2, i.e. a third of the way in
      assert.equal(!full.allowed && full.reason, 'cap')
      assert.equal(!full.allowed && full.retryAt, start + HOUR + Math.ceil(HOUR / 3))
      assert.equal((await reserve(start + HOUR + 1)).allowed, false)
      assert.equal((await reserve(start + HOUR + Math.ceil(HOUR / 3))).allowed, true)
      assert.deepEqual(await reserve(start + 3 * HOUR), { allowed: true }, 'old windows forgotten')
      assert.deepEqual(await reserve(start + 3 * HOUR, null), { allowed: true }, 'no cap')

      await h.store.recordApiUsage({
        scope: 'app',
        usagePercent: 91,
        blockedUntil: start + 4 * HOUR,
        now: start + 3 * HOUR,
      })
      const blocked = await reserve(start + 3 * HOUR + 5)
      assert.deepEqual(blocked, { allowed: false, reason: 'blocked', retryAt: start + 4 * HOUR })
      await h.store.recordApiUsage({
        scope: 'app',
        usagePercent: null,
        blockedUntil: null,
        now: start + 3 * HOUR + 6,
      })
      const [app] = await h.store.getApiBudgets(['app'])
      assert.deepEqual(
        [app?.usage_percent, app?.blocked_until],
        [91, start + 4 * HOUR],
        'an empty report keeps the last usage and the block',
      )
      assert.equal((await reserve(start + 4 * HOUR)).allowed, true)
    })

    test('webhook outbox: due deliveries are leased once, retried later, then finished', async () => {
      await h.store.enqueueWebhook({
        id: 'evt_1',
        event_type: 'account.connected',
        payload: '{"a":1}',
        now: NOW,
      })
      await h.store.enqueueWebhook({
        id: 'evt_2',
        event_type: 'data.deleted',
        payload: '{}',
        now: NOW + 1,
      })
      const claim = { now: NOW + 1, leaseUntil: NOW + 20_000, limit: 10 }
      const [a, b] = await Promise.all([
        h.store.claimDueWebhooks(claim),
        h.store.claimDueWebhooks(claim),
      ])
      assert.deepEqual(
        [...(a ?? []), ...(b ?? [])].map((d) => [d.id, d.status, d.attempts, d.payload]),
        [
          ['evt_1', 'pending', 0, '{"a":1}'],
          ['evt_2', 'pending', 0, '{}'],
        ],
      )
      await h.store.finishWebhookAttempt({
        id: 'evt_1',
        status: 'pending',
        attempts: 1,
        nextAttemptAt: NOW + 60_000,
        lastError: 'HTTP 500',
        now: NOW + 2,
      })
      await h.store.finishWebhookAttempt({
        id: 'evt_2',
        status: 'delivered',
        attempts: 1,
        nextAttemptAt: NOW + 2,
        lastError: null,
        now: NOW + 2,
      })
      assert.equal(
        (await h.store.claimDueWebhooks({ ...claim, now: NOW + 3 })).length,
        0,
        'retry not due',
      )
      assert.deepEqual(
        (await h.store.claimDueWebhooks({ ...claim, now: NOW + 60_000 })).map((d) => [
          d.id,
          d.attempts,
          d.last_error,
        ]),
        [['evt_1', 1, 'HTTP 500']],
      )
    })

    test('purge: long-revoked accounts with their media, old finished deliveries, idle budgets', async () => {
      const alice = await user()
      const kept = await account(alice, '1')
      const old = await account(alice, '2')
      await h.store.upsertMediaPage({ id: old, user_id: alice }, 's', [media('1', NOW)], NOW)
      await h.store.revokeInstagramAccounts('2', 'Revoked', NOW)
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

    test('ping answers', async () => {
      await h.store.ping()
    })
  })
}
