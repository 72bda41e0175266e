// Builds the web pages (web/*.html) into dist/web, served by the app. No CDN at run time.
import { resolve } from 'node:path'
import { defineConfig } from 'vite'

const root = resolve(import.meta.dirname, 'web')

export default defineConfig({
  root,
  publicDir: false,
  build: {
    outDir: resolve(import.meta.dirname, 'dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
    rollupOptions: {
      input: {
        gallery: resolve(root, 'index.html'),
        'popup-result': resolve(root, 'popup-result.html'),
      },
    },
  },
})
