/**
 * Benchmark 3 (vault): Fernet encrypt + decrypt pairs per second of an Instagram-sized token, ours
 * (`FernetKeyRing`, node:crypto) against Python's `cryptography` Fernet (spawned, same machine,
 * same run) and the npm `fernet` package. Each also decrypts the others' tokens first: the
 * comparison is between interoperable implementations.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { FernetKey, FernetKeyRing } from '../src/crypto/fernet.ts'
import { QUICK, fmt, line, median } from './lib.ts'

const PAIRS = QUICK ? 10_000 : 100_000
const ROUNDS = QUICK ? 2 : 3
// an Instagram long-lived token is about 180 characters
const TOKEN = `IGAA${randomBytes(132).toString('base64url')}`

interface NpmFernet {
  Secret: new (key: string) => unknown
  Token: new (options: Record<string, unknown>) => {
    encode(message: string): string
    decode(token?: string): string
  }
}

function ours(key: string): number {
  const ring = new FernetKeyRing([key])
  for (let i = 0; i < 1_000; i++) ring.decrypt(ring.encrypt(TOKEN))
  const started = performance.now()
  for (let i = 0; i < PAIRS; i++) {
    if (ring.decrypt(ring.encrypt(TOKEN)) !== TOKEN) throw new Error('round trip failed')
  }
  return PAIRS / ((performance.now() - started) / 1000)
}

function npmFernet(key: string, foreign: string): number {
  const fernet = createRequire(import.meta.url)('fernet') as NpmFernet
  const secret = new fernet.Secret(key)
  if (new fernet.Token({ secret, token: foreign, ttl: 0 }).decode() !== TOKEN)
    throw new Error('npm fernet cannot read our token')
  const pairs = Math.max(1_000, Math.floor(PAIRS / 20)) // it is much slower; fewer rounds
  const once = (): string => {
    const token = new fernet.Token({ secret, ttl: 0 }).encode(TOKEN)
    return new fernet.Token({ secret, token, ttl: 0 }).decode()
  }
  for (let i = 0; i < 100; i++) once()
  const started = performance.now()
  for (let i = 0; i < pairs; i++) if (once() !== TOKEN) throw new Error('round trip failed')
  return pairs / ((performance.now() - started) / 1000)
}

const PYTHON = `
import sys, time
from cryptography.fernet import Fernet
key, message, pairs, foreign = sys.argv[1].encode(), sys.argv[2].encode(), int(sys.argv[3]), sys.argv[4]
f = Fernet(key)
assert f.decrypt(foreign.encode()) == message, 'cannot read the Node token'
for _ in range(1000): f.decrypt(f.encrypt(message))
start = time.perf_counter()
for _ in range(pairs):
    assert f.decrypt(f.encrypt(message)) == message
print(pairs / (time.perf_counter() - start))
`

function python(key: string, foreign: string): number | null {
  try {
    const out = execFileSync('python3', ['-c', PYTHON, key, TOKEN, String(PAIRS), foreign], {
      encoding: 'utf8',
    })
    return Number(out.trim())
  } catch (error) {
    console.error(`python3 with cryptography is not available: ${String(error).slice(0, 200)}`)
    return null
  }
}

export function vaultBenchmark(): void {
  const key = FernetKey.generate()
  const foreign = new FernetKeyRing([key]).encrypt(TOKEN)
  // alternate, and take each side's median: the machine's load moves between measurements
  const ourRates: number[] = []
  const pythonRates: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    ourRates.push(ours(key))
    const rate = python(key, foreign)
    if (rate !== null) pythonRates.push(rate)
  }
  const ourRate = median(ourRates)
  const pythonRate = pythonRates.length === 0 ? null : median(pythonRates)
  const npmRate = npmFernet(key, foreign)
  line(
    'vault: ours (node:crypto)',
    `${fmt(ourRate)} encrypt+decrypt pairs/s (${TOKEN.length}-character token, median of ${ROUNDS} × ${fmt(PAIRS)} pairs)`,
  )
  if (pythonRate === null)
    line('vault: against Python cryptography', 'not measured (python3 cryptography missing)')
  else
    line(
      'vault: against Python cryptography',
      `${fmt(pythonRate)} pairs/s; ratio ${(ourRate / pythonRate).toFixed(2)}`,
      { text: '≥ 1×', met: ourRate >= pythonRate },
    )
  line(
    'vault: against npm fernet',
    `${fmt(npmRate)} pairs/s; ratio ${(ourRate / npmRate).toFixed(1)}`,
    {
      text: '≥ 1×',
      met: ourRate >= npmRate,
    },
  )
}
