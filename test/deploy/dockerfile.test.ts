/**
 * No image can be built on the development machine: these checks keep the Dockerfile honest
 * about what it copies and runs.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../helpers/paths.ts'

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8')

test('Dockerfile: every file it copies from the repository exists, and none is ignored', () => {
  const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('!'))
  const copies = [...dockerfile.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)].flatMap((m) =>
    (m[1] ?? '').split(/\s+/),
  )
  assert.ok(copies.length >= 5)
  for (const path of copies) {
    assert.ok(existsSync(join(repoRoot, path)), `${path} exists`)
    assert.ok(!ignored.includes(path), `${path} is not in .dockerignore`)
  }
})

test('Dockerfile: current LTS Node, multi-stage, production dependencies only, not root, the app entry', () => {
  const bases = [...dockerfile.matchAll(/^FROM node:(\d+)-/gm)].map((m) => Number(m[1]))
  assert.equal(bases.length, 2, 'a build stage and a runtime stage')
  assert.ok(
    bases.every((major) => major >= 22 && major % 2 === 0),
    'an even (LTS) Node line',
  )
  assert.match(dockerfile, /npm prune --omit=dev/)
  assert.match(dockerfile, /^USER node$/m)
  const cmd = /^CMD \[(.+)\]$/m.exec(dockerfile)?.[1] ?? ''
  const entry = /"(dist\/server\/[^"]+\.mjs)"/.exec(cmd)?.[1]
  assert.equal(entry, 'dist/server/main.mjs', 'the production bundle')
  assert.match(dockerfile, /^RUN npm run build /m, 'the image builds the bundle and the web pages')
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>
    scripts: Record<string, string>
  }
  assert.ok('pg' in pkg.dependencies && 'better-sqlite3' in pkg.dependencies)
  assert.match(pkg.scripts.build ?? '', /build:web.*build:server/)
})
