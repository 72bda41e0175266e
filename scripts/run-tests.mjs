// Runs every `*.test.ts` and `*.spec.ts` (browser tests) under test/ with Node's own test runner
// (Node 20 has no glob support in `node --test`). Extra arguments narrow the run:
// `npm test -- test/store`. Browser tests need Chromium from Debian's packages; as root, a
// missing Chromium is installed here (apt-get), so `npm test` stays the one command.
import { spawnSync } from 'node:child_process'
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
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=120000', ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
)
process.exit(result.status ?? 1)
