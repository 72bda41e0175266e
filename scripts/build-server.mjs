// Bundles the service's entry points (TypeScript sources) into plain JavaScript in dist/server/,
// so production runs `node dist/server/main.mjs`: no TypeScript loader thread at run time (about
// 35 MB less memory and a faster start than `tsx`). npm packages stay external (node_modules).
// The benchmarks bundle their baseline server with the same settings (`bundleServer`).
import { build } from 'esbuild'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = resolve(fileURLToPath(import.meta.url), '../..')

/** @param {Record<string, string>} entryPoints name → source path (from the repository root) */
export async function bundleServer(entryPoints, outdir = 'dist/server') {
  await build({
    entryPoints: Object.fromEntries(
      Object.entries(entryPoints).map(([name, path]) => [name, resolve(root, path)]),
    ),
    outdir: resolve(root, outdir),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
  })
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await bundleServer({
    main: 'src/main.ts',
    'import-firestore': 'src/import/main.ts',
    'rotate-keys': 'src/maintenance/rotate-keys.ts',
  })
}
