import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import {
  bucketNameProblem,
  openBlobStore,
  parseMediaStoreUrl,
} from '../../../src/archive/blobs/open-blob-store.ts'
import { BlobStoreUrlError } from '../../../src/archive/blobs/types.ts'
import { LocalBlobStore } from '../../../src/archive/blobs/local/local-blob-store.ts'
import { S3BlobStore } from '../../../src/archive/blobs/s3/s3-blob-store.ts'
import { tempDir } from '../../helpers/temp.ts'

test('parseMediaStoreUrl: paths, file: URLs and s3:// URLs', () => {
  assert.deepEqual(parseMediaStoreUrl('./data/media'), { kind: 'local', path: './data/media' })
  assert.deepEqual(parseMediaStoreUrl('/var/lib/gallery/media'), {
    kind: 'local',
    path: '/var/lib/gallery/media',
  })
  assert.deepEqual(parseMediaStoreUrl('C:\\gallery\\media'), {
    kind: 'local',
    path: 'C:\\gallery\\media',
  })
  assert.deepEqual(parseMediaStoreUrl(pathToFileURL('/srv/media').href), {
    kind: 'local',
    path: '/srv/media',
  })
  assert.deepEqual(parseMediaStoreUrl('s3://my-bucket'), {
    kind: 's3',
    bucket: 'my-bucket',
    prefix: '',
  })
  assert.deepEqual(parseMediaStoreUrl('s3://my-bucket/'), {
    kind: 's3',
    bucket: 'my-bucket',
    prefix: '',
  })
  assert.deepEqual(parseMediaStoreUrl('s3://my.bucket.01/media/prod'), {
    kind: 's3',
    bucket: 'my.bucket.01',
    prefix: 'media/prod/',
  })
  assert.deepEqual(parseMediaStoreUrl('S3://abc/x/'), { kind: 's3', bucket: 'abc', prefix: 'x/' })
})

test('parseMediaStoreUrl: clear errors for what names no store', () => {
  const refused: [string, RegExp][] = [
    ['', /empty/],
    ['   ', /empty/],
    ['s3://', /names no bucket/],
    ['s3:///prefix', /names no bucket/],
    ['s3://ab', /3 to 63/],
    [`s3://${'a'.repeat(64)}`, /3 to 63/],
    ['s3://My-Bucket', /lowercase/],
    ['s3://under_score', /lowercase/],
    ['s3://-dash', /begin and end/],
    ['s3://dash-', /begin and end/],
    ['s3://a..b', /"\.\."/],
    ['s3://192.168.1.1', /IP address/],
    ['s3://xn--bucket', /reserved prefix/],
    ['s3://bucket-s3alias', /reserved suffix/],
    ['s3://key:secret@bucket/x', /credentials/],
    ['s3://bucket/x?versionId=1', /without \? or #/],
    ['s3://bucket/Upper/case', /prefix is not valid/],
    ['s3://bucket/a/../b', /prefix is not valid/],
    ['gs://bucket/x', /unsupported media store scheme "gs:"/],
    ['https://example.com/media', /unsupported media store scheme "https:"/],
    ['file://remote-host/share', /file: URL/],
  ]
  for (const [value, message] of refused)
    assert.throws(
      () => parseMediaStoreUrl(value),
      (error: unknown) => error instanceof BlobStoreUrlError && message.test(error.message),
      value,
    )
  // the secret of a pasted URL is never repeated
  assert.throws(
    () => parseMediaStoreUrl('s3://AKIAEXAMPLE:hunter2@bucket'),
    (error: unknown) => error instanceof Error && !error.message.includes('hunter2'),
  )
})

test('bucketNameProblem accepts the names S3, GCS and R2 share', () => {
  for (const name of ['abc', 'media-archive', 'a.b.c', '0-9', 'x'.repeat(63)])
    assert.equal(bucketNameProblem(name), null, name)
})

test('openBlobStore opens the backend the location names', async (t) => {
  const dir = tempDir('psg-open-')
  t.after(() => dir.cleanup())
  const local = await openBlobStore({ kind: 'local', path: join(dir.path, 'media') })
  assert.ok(local instanceof LocalBlobStore)
  await local.close()
  const s3 = await openBlobStore(
    { kind: 's3', bucket: 'media-test', prefix: 'p/' },
    { region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true },
  )
  assert.ok(s3 instanceof S3BlobStore)
  assert.equal(s3.prefix, 'p/')
  assert.equal(await s3.client.config.region(), 'eu-west-1')
  await s3.close()
})
