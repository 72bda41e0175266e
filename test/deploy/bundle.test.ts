/**
 * The production bundle (`npm run build:server` → dist/server/*.mjs, what the Docker image runs)
 * starts with plain `node` — no TypeScript loader — finds its migrations and web pages, and
 * serves the sandbox flow's first steps.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from '../helpers/net.ts'
import { repoRoot } from '../helpers/paths.ts'
import { start, waitFor } from '../helpers/process.ts'
import { tempDir } from '../helpers/temp.ts'

test('production bundle: builds, starts with plain node, migrates, serves pages and the API', async (t) => {
  execFileSync(process.execPath, ['scripts/build-server.mjs'], { cwd: repoRoot })
  for (const name of ['main', 'import-firestore', 'rotate-keys'])
    assert.ok(existsSync(join(repoRoot, 'dist/server', `${name}.mjs`)), name)
  const dir = tempDir('psg-bundle-')
  t.after(() => dir.cleanup())
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const server = start(t, 'dist/server/main.mjs', {
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: base,
    DATA_DIR: dir.path,
  })
  await waitFor('healthz', async () => ((await fetch(`${base}/healthz`)).ok ? true : null), server)
  const ready = await fetch(`${base}/readyz`)
  const readiness = (await ready.json()) as { status: string; database: string }
  assert.deepEqual([readiness.status, readiness.database], ['ok', 'ok'], 'migrations found')
  const page = await fetch(`${base}/gallery`)
  assert.equal(page.status, 200)
  assert.match(await page.text(), /<script type="module"/, 'the built web page')
  const providers = (await (await fetch(`${base}/api/socials/providers`)).json()) as {
    providers: { platform: string; mode: string }[]
  }
  assert.equal(providers.providers.find((p) => p.platform === 'instagram')?.mode, 'sandbox')
  assert.ok(existsSync(join(dir.path, 'gallery.db')))
})
