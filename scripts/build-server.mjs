// Bundles the service's entry points (TypeScript sources) into plain JavaScript in dist/server/,
// so production runs `node dist/server/main.mjs`: no TypeScript loader thread at run time (about
// 35 MB less memory and a faster start than `tsx`). npm packages stay external (node_modules).
import { build } from 'esbuild'

await build({
  entryPoints: {
    main: 'src/main.ts',
    'import-firestore': 'src/import/main.ts',
    'rotate-keys': 'src/maintenance/rotate-keys.ts',
  },
  outdir: 'dist/server',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
})
