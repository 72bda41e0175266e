/**
 * @module paths — the package's root folder (the one holding package.json), found by walking up
 * from this module. The same answer from the TypeScript sources (`src/`) and from the production
 * bundle (`dist/server/`), so data files (migrations, the built web pages) are found from either.
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`)
  }
}

export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)))
