import { fileURLToPath } from 'node:url'
import { dirname, resolve } from 'node:path'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const fixturesDir = resolve(repoRoot, 'test/fixtures')
