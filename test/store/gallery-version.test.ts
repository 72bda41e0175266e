/**
 * The gallery version (migrations 0007 and 0008) moves with what the media pages show, and only
 * with that: a sync that finds nothing new rewrites `seen_sync_id` and must leave the version, so
 * cached media pages stay valid. Runs on SQLite and on PostgreSQL (`TEST_DATABASE_URL`, else an
 * embedded server started by `test/helpers/postgres.ts`).
 */
import { join } from 'node:path'
import { describe, test, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import BetterSqlite3 from 'better-sqlite3'
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import type { MediaInput, Store } from '../../src/store/types.ts'
import { media as fixture } from './conformance/harness.ts'
import { freshPostgresStore } from '../helpers/postgres.ts'
import { tempDir } from '../helpers/temp.ts'

interface Harness {
  readonly store: Store
  /** Any SQL (`?` placeholders), writes included, bypassing the store. */
  readonly raw: (sql: string, params?: readonly unknown[]) => Promise<Record<string, unknown>[]>
  readonly dispose: () => Promise<void>
}

function sqliteHarness(): Promise<Harness> {
  const dir = tempDir('psg-gallery-')
  const path = join(dir.path, 'gallery.db')
  const store = createSqliteStore({ path })
  const db = new BetterSqlite3(path)
  db.pragma('busy_timeout = 5000')
  return Promise.resolve({
    store,
    raw: (sql, params = []) => {
      const statement = db.prepare(sql)
      return Promise.resolve(
        statement.reader
          ? (statement.all(...params) as Record<string, unknown>[])
          : (statement.run(...params), []),
      )
    },
    dispose: async () => {
      db.close()
      await store.close()
      dir.cleanup()
    },
  })
}

const BACKENDS: { name: string; create: () => Promise<Harness> }[] = [
  { name: 'sqlite', create: sqliteHarness },
  { name: 'postgres', create: () => freshPostgresStore() },
]

const NOW = 1_750_000_000_000

/** The conformance suite's media fixture, with URLs that expire in a day. */
const media = (id: string, ts: number, extra: Partial<MediaInput> = {}): MediaInput =>
  fixture(id, ts, { url_expires_at: NOW + 86_400_000, ...extra })

/** A page of posts, one of them an album with two children. */
function page(count: number): MediaInput[] {
  return Array.from({ length: count }, (_, i) =>
    i === 0
      ? media('album', NOW, {
          media_type: 'CAROUSEL_ALBUM',
          children: [media('child-1', NOW), media('child-2', NOW)],
        })
      : media(`p${i}`, NOW - i * 1000),
  )
}

for (const backend of BACKENDS) {
  describe(`gallery version: ${backend.name}`, () => {
    let h: Harness
    beforeEach(async () => {
      h = await backend.create()
    })
    afterEach(async () => {
      await h.dispose()
    })

    async function user(email: string): Promise<string> {
      return (await h.store.createUser({ email, password_hash: 'scrypt$x', now: NOW })).id
    }
    async function account(userId: string, igId: string): Promise<{ id: string; user_id: string }> {
      const { account } = await h.store.upsertOAuthAccount({
        user_id: userId,
        platform: 'instagram',
        username: `shop${igId}`,
        platform_user_id: igId,
        platform_scoped_id: `2${igId}`,
        platform_attributes: { account_type: 'BUSINESS' },
        credentials: {
          encrypted_credentials: 'gAAAAA-encrypted',
          credentials_format: 2,
          token_expires_at: NOW + 60 * 86_400_000,
          token_issued_at: NOW,
          refresh_token_expires_at: null,
          credentials_expire_at: NOW + 60 * 86_400_000,
        },
        posts_count: 3,
        profile_url: `https://www.instagram.com/shop${igId}/`,
        profile_picture_url: null,
        now: NOW,
      })
      return { id: account.id, user_id: userId }
    }

    /** Alice with a synced page of posts, and Bob with one post (his version must never move). */
    async function synced(count = 25) {
      const alice = await user('a@example.com')
      const bob = await user('b@example.com')
      const owner = await account(alice, '17841400000000001')
      await h.store.upsertMediaPage(owner, 's1', page(count), NOW)
      await h.store.upsertMediaPage(await account(bob, '17841400000000002'), 'b1', page(1), NOW)
      const versions = async () => ({
        alice: await h.store.getGalleryVersion(alice),
        bob: await h.store.getGalleryVersion(bob),
      })
      return { alice, bob, owner, versions }
    }

    test('a sync that finds nothing new (only seen_sync_id rewritten) leaves the version', async () => {
      const { owner, versions } = await synced()
      const before = await versions()
      const result = await h.store.upsertMediaPage(owner, 's2', page(25), NOW + 60_000)
      assert.deepEqual(result, { added: 0, updated: 0, refreshed: 0, known: 25 })
      const seen = await h.raw('SELECT COUNT(*) AS n FROM media WHERE seen_sync_id = ?', ['s2'])
      assert.equal(Number(seen[0]?.n), 27, 'every row, children included, was marked seen')
      assert.deepEqual(await versions(), before, 'marking media seen is not a change')
      assert.equal(await h.store.removeMediaNotSeen(owner.id, 's2'), 0)
      assert.deepEqual(await versions(), before, 'a full run that removes nothing')
    })

    test('writes to columns the pages do not show leave the version', async () => {
      const { versions } = await synced()
      const before = await versions()
      await h.raw('UPDATE media SET seen_sync_id = ?', ['s9'])
      await h.raw('UPDATE media SET updated_at = updated_at + 1, url_expires_at = ?', [NOW])
      await h.raw('UPDATE media SET created_at = created_at - 1, seen_sync_id = NULL')
      // every shown column written, each with the value it already had
      await h.raw(
        `UPDATE media SET caption = caption, media_url = media_url, thumbnail_url = thumbnail_url,
           permalink = permalink, media_type = media_type, media_product_type = media_product_type,
           timestamp = timestamp, position = position, parent_id = parent_id,
           account_id = account_id, user_id = user_id, platform_media_id = platform_media_id`,
      )
      assert.deepEqual(await versions(), before)
    })

    test('a changed caption, URL or any other shown column moves the version, only the owner’s', async () => {
      const { owner, versions } = await synced()
      const moved = async (what: string, change: () => Promise<unknown>) => {
        const before = await versions()
        await change()
        const after = await versions()
        assert.ok(after.alice > before.alice, `${what} moves the version`)
        assert.equal(after.bob, before.bob, `${what}: not Bob's`)
      }
      const edited = page(25).map((item, i) =>
        i === 3 ? { ...item, caption: 'new caption' } : item,
      )
      await moved('a caption edited on Instagram', async () => {
        const result = await h.store.upsertMediaPage(owner, 's2', edited, NOW + 1)
        assert.equal(result.updated, 1)
      })
      const rotated = edited.map((item, i) =>
        i === 5 ? { ...item, media_url: 'https://cdn.example/p5-new.jpg' } : item,
      )
      await moved('a new media URL (a refresh)', async () => {
        const result = await h.store.upsertMediaPage(owner, 's3', rotated, NOW + 2)
        assert.equal(result.refreshed, 1)
      })
      await moved('a new child URL in an album', () =>
        h.store.upsertMediaPage(
          owner,
          's4',
          rotated.map((item, i) =>
            i === 0
              ? {
                  ...item,
                  children: [
                    media('child-1', NOW, { thumbnail_url: 'https://cdn.example/c1-thumb.jpg' }),
                    media('child-2', NOW),
                  ],
                }
              : item,
          ),
          NOW + 3,
        ),
      )
      const row = "platform_media_id = 'p7'"
      const shown: [string, string, unknown][] = [
        ['caption', `UPDATE media SET caption = NULL WHERE ${row}`, undefined],
        ['caption', `UPDATE media SET caption = ? WHERE ${row}`, 'back'],
        ['media_url', `UPDATE media SET media_url = ? WHERE ${row}`, 'https://cdn.example/x.jpg'],
        ['thumbnail_url', `UPDATE media SET thumbnail_url = ? WHERE ${row}`, 'https://t.example/'],
        [
          'permalink',
          `UPDATE media SET permalink = ? WHERE ${row}`,
          'https://www.instagram.com/p/x/',
        ],
        ['media_type', `UPDATE media SET media_type = ? WHERE ${row}`, 'VIDEO'],
        ['media_product_type', `UPDATE media SET media_product_type = ? WHERE ${row}`, 'REELS'],
        ['timestamp', `UPDATE media SET timestamp = ? WHERE ${row}`, NOW + 5],
        ['position', `UPDATE media SET position = ? WHERE ${row}`, 3],
        ['duration_seconds', `UPDATE media SET duration_seconds = ? WHERE ${row}`, 61],
        ['visibility', `UPDATE media SET visibility = ? WHERE ${row}`, 'unlisted'],
        ['platform_media_id', `UPDATE media SET platform_media_id = ? WHERE ${row}`, 'p7b'],
      ]
      for (const [column, sql, value] of shown)
        await moved(`a raw write to ${column}`, () =>
          h.raw(sql, value === undefined ? [] : [value]),
        )
    })

    test('a content change to a whole page moves the version; a seen-only one does not', async () => {
      const { owner, versions } = await synced(1000)
      const before = await versions()
      await h.store.upsertMediaPage(owner, 's2', page(1000), NOW + 1)
      await h.raw('UPDATE media SET seen_sync_id = ?', ['s3'])
      assert.deepEqual(await versions(), before, 'a 1,000-post sync that changed nothing')
      await h.raw("UPDATE media SET media_url = media_url || '?v=2'")
      const after = await versions()
      assert.equal(after.bob > before.bob, true, 'Bob’s media changed too')
      // PostgreSQL's trigger runs once per statement; SQLite's once per changed row
      if (backend.name === 'postgres') {
        assert.equal(after.alice, before.alice + 1, 'one bump per statement and user')
        assert.equal(after.bob, before.bob + 1)
      } else {
        assert.ok(after.alice > before.alice)
      }
    })
  })
}
