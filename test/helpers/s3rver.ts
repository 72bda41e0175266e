/**
 * A real S3-protocol server for tests: the npm package `s3rver`, on 127.0.0.1 (port 0) with its
 * files in a fresh temporary folder, one bucket created; stopped (and the folder removed) by
 * `close()` or by the `after` hook it is given (`t.after` of a test; for a whole file call
 * `close()` from a top-level `after` — node:test runs an `after` registered inside a `before`
 * hook straight away).
 *
 * It runs in a child Node process started with `--openssl-legacy-provider`: s3rver 3.7 makes its
 * ListObjectsV2 continuation tokens with DES, which Node 17+ (OpenSSL 3) refuses otherwise, so
 * every list longer than 1,000 keys would fail with InternalError. (A separate process also keeps
 * its memory out of the tests' measurements.)
 *
 * s3rver 3.7 implements PutObject, GetObject (Range), HeadObject, DeleteObject, CopyObject,
 * ListObjectsV2 and CreateMultipartUpload / UploadPart / CompleteMultipartUpload, but not
 * AbortMultipartUpload (405 MethodNotAllowed) nor ListMultipartUploads (501 NotImplemented);
 * `unfinishedUploads` reads its folder instead. Other deviations from S3: it writes an object's
 * file in place (concurrent PutObjects of one key interleave), lists in file-system order, not
 * byte order, serves the whole object for a range ending at byte 0 (`bytes=N-0`), and gives a
 * multipart object a plain MD5 ETag.
 */
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { existsSync, readdirSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { tempDir } from './temp.ts'

export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string
  readonly bucket: string
  /** s3rver's fixed test key pair. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string }
  readonly region: string
  /** Its data folder. */
  readonly directory: string
  /** Ids of the multipart uploads s3rver holds unfinished (from its folder: it cannot list them). */
  readonly unfinishedUploads: () => string[]
  /** Stops the server and removes its folder; idempotent. */
  readonly close: () => Promise<void>
}

const CHILD = `
const S3rver = require(process.argv[1])
const [directory, bucket] = process.argv.slice(2)
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] })
server.run().then(
  (address) => process.stdout.write(JSON.stringify({ port: address.port }) + '\\n'),
  (error) => { process.stderr.write(String(error && error.stack || error) + '\\n'); process.exit(1) },
)
process.on('SIGTERM', () => server.close().finally(() => process.exit(0)))
`

export async function startS3rver(
  after: ((fn: () => Promise<void>) => void) | undefined,
  bucket = 'media-test',
): Promise<S3rverHandle> {
  const dir = tempDir('psg-s3rver-')
  const entry = createRequire(import.meta.url).resolve('s3rver')
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', '-e', CHILD, entry, dir.path, bucket],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()))
  let port: number
  try {
    port = await new Promise<number>((resolvePort, reject) => {
      child.once('exit', (code) =>
        reject(new Error(`s3rver exited (${String(code)}) before listening`)),
      )
      child.once('error', reject)
      createInterface({ input: child.stdout }).once('line', (line) => {
        resolvePort((JSON.parse(line) as { port: number }).port)
      })
    })
  } catch (error) {
    child.kill('SIGKILL')
    dir.cleanup()
    throw error
  }
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
    dir.cleanup()
  }
  after?.(close)
  // its FilesystemStore keeps uploads in "<bucket>/._S3rver_uploads/<uploadId>/"
  const uploadsRoot = (): string | undefined => {
    const bucketDir = join(dir.path, bucket)
    if (!existsSync(bucketDir)) return undefined
    const name = readdirSync(bucketDir).find((n) => n.endsWith('_S3rver_uploads'))
    return name === undefined ? undefined : join(bucketDir, name)
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    region: 'us-east-1',
    directory: dir.path,
    unfinishedUploads: () => {
      const root = uploadsRoot()
      return root === undefined ? [] : readdirSync(root)
    },
    close,
  }
}
