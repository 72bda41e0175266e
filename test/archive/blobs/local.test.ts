import { test } from 'node:test'
import { createHash } from 'node:crypto'
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { runBlobStoreConformance } from './conformance.ts'
import { tempDir } from '../../helpers/temp.ts'
import {
  META_DIR,
  TEMP_DIR,
  openLocalBlobStore,
} from '../../../src/archive/blobs/local/local-blob-store.ts'

/** Every file under `root`, relative, "/"-separated. */
function filesUnder(root: string): string[] {
  const out: string[] = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else out.push(relative(root, path).split('\\').join('/'))
    }
  }
  walk(root)
  return out.sort()
}

runBlobStoreConformance({
  name: 'local directory',
  create: async () => {
    const dir = tempDir('psg-blobs-')
    const root = join(dir.path, 'media')
    const store = await openLocalBlobStore({ path: root })
    return {
      store,
      residue: () => Promise.resolve(filesUnder(root)),
      dispose: async () => {
        await store.close()
        dir.cleanup()
      },
    }
  },
  skip: {
    'no multipart upload is left after failed large writes':
      'a directory has no multipart uploads (its temporary files are checked in the other cases)',
  },
})

test('local: objects are plain files, content types live in .meta sidecars', async (t) => {
  const dir = tempDir('psg-blobs-')
  t.after(() => dir.cleanup())
  const store = await openLocalBlobStore({ path: dir.path })
  t.after(() => store.close())
  await store.write('ab/cd/pic.avif', Buffer.from('AVIF bytes'), { contentType: 'image/avif' })
  assert.equal(readFileSync(join(dir.path, 'ab', 'cd', 'pic.avif'), 'utf8'), 'AVIF bytes')
  const sidecar = JSON.parse(
    readFileSync(join(dir.path, META_DIR, 'ab', 'cd', 'pic.avif.json'), 'utf8'),
  ) as unknown
  assert.deepEqual(sidecar, {
    contentType: 'image/avif',
    size: 10,
    sha256: createHash('sha256').update('AVIF bytes').digest('hex'),
  })
  assert.equal(
    (await store.head('ab/cd/pic.avif'))?.etag,
    `"${createHash('sha256').update('AVIF bytes').digest('hex')}"`,
  )
  assert.deepEqual(readdirSync(join(dir.path, TEMP_DIR)), [])
})

test('local: a file without a sidecar reads as application/octet-stream', async (t) => {
  const dir = tempDir('psg-blobs-')
  t.after(() => dir.cleanup())
  const store = await openLocalBlobStore({ path: dir.path })
  t.after(() => store.close())
  writeFileSync(join(dir.path, 'by-hand.bin'), 'abc')
  const head = await store.head('by-hand.bin')
  assert.equal(head?.contentType, 'application/octet-stream')
  assert.equal(head?.size, 3)
  assert.match(head?.etag ?? '', /^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$/)
})

test('local: stale temporary files are removed at open, fresh ones kept, none listed', async (t) => {
  const dir = tempDir('psg-blobs-')
  t.after(() => dir.cleanup())
  mkdirSync(join(dir.path, TEMP_DIR), { recursive: true })
  const stale = join(dir.path, TEMP_DIR, 'crashed.data')
  const fresh = join(dir.path, TEMP_DIR, 'in-progress.data')
  writeFileSync(stale, 'half a file')
  writeFileSync(fresh, 'another writer')
  const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000)
  utimesSync(stale, twoHoursAgo, twoHoursAgo)
  const store = await openLocalBlobStore({ path: dir.path })
  t.after(() => store.close())
  assert.deepEqual(readdirSync(join(dir.path, TEMP_DIR)), ['in-progress.data'])
  const listed: string[] = []
  for await (const entry of store.list('')) listed.push(entry.key)
  assert.deepEqual(listed, [])
})

test('local: list yields keys in byte order across folders', async (t) => {
  const dir = tempDir('psg-blobs-')
  t.after(() => dir.cleanup())
  const store = await openLocalBlobStore({ path: dir.path })
  t.after(() => store.close())
  const names = ['a/b/c', 'a.c', 'a-b', 'a/b.d', 'a_z', 'a0', 'b', 'a/b-e', 'a/bc']
  for (const key of names) await store.write(key, Buffer.from('x'), { contentType: 'text/plain' })
  const listed: string[] = []
  for await (const entry of store.list('')) listed.push(entry.key)
  assert.deepEqual(listed, [...names].sort())
})
