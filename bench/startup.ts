/**
 * Benchmark 5 (start-up and memory): process start to the first 200 on `/healthz`, and resident
 * memory once started, for the service as `npm start` runs it (TypeScript through tsx) and as
 * production runs it (the esbuild bundle, plain node), each against a bare Fastify server started
 * the same way. Same embedded default (SQLite, sandbox); each variant started once to warm the
 * disk cache and migrate, then measured.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../test/helpers/net.ts'
import { QUICK, buildBenchBundles, firstOk, fmt, line, median, startNode } from './lib.ts'

const ROUNDS = QUICK ? 1 : 7

async function measure(
  script: string,
  env: Record<string, string>,
): Promise<{ ms: number; rssMB: number }> {
  const port = await freePort()
  const child = startNode(script, { ...env, PORT: String(port), HOST: '127.0.0.1' })
  try {
    const ms = await firstOk(child, `http://127.0.0.1:${port}/healthz`)
    await new Promise((resolve) => setTimeout(resolve, 500)) // settled after start
    return { ms, rssMB: child.rssMB() }
  } finally {
    await child.stop()
  }
}

export async function startupBenchmark(): Promise<{ bundleRssMB: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'psg-bench-start-'))
  try {
    await buildBenchBundles()
    const appEnv = { DATA_DIR: dir, PUBLIC_URL: 'http://127.0.0.1:8080' }
    const variants = {
      'service, npm start (tsx)': ['src/main.ts', appEnv],
      'bare Fastify (tsx)': ['bench/servers/bare-server.ts', {}],
      'service, production bundle': ['dist/bench/main.mjs', appEnv],
      'bare Fastify (plain node)': ['dist/bench/bare-server.mjs', {}],
    } as const
    const results: Record<string, { ms: number[]; rss: number[] }> = {}
    for (const [name, [script, env]] of Object.entries(variants)) {
      // warm-up, and the first start's migrations (the bare servers need none in a quick run)
      if (!QUICK || name.startsWith('service')) await measure(script, env)
      results[name] = { ms: [], rss: [] }
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, [script, env]] of Object.entries(variants)) {
        const { ms, rssMB } = await measure(script, env)
        results[name]?.ms.push(ms)
        results[name]?.rss.push(rssMB)
      }
    }
    const ms = (name: string) => median(results[name]?.ms ?? [])
    const rss = (name: string) => median(results[name]?.rss ?? [])
    for (const [name, bare] of [
      ['service, npm start (tsx)', 'bare Fastify (tsx)'],
      ['service, production bundle', 'bare Fastify (plain node)'],
    ] as const) {
      line(
        `start-up: ${name}`,
        `${fmt(ms(name))} ms to the first 200 on /healthz vs ${bare} ${fmt(ms(bare))} ms (medians of ${ROUNDS}); ratio ${(ms(name) / ms(bare)).toFixed(2)}; memory after start ${fmt(rss(name))} MB (bare ${fmt(rss(bare))} MB)`,
        name.includes('production')
          ? { text: 'memory ≤ 150 MB', met: rss(name) <= 150 }
          : undefined,
      )
    }
    return { bundleRssMB: rss('service, production bundle') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
