/**
 * Real server processes for end-to-end tests: start one (killed when the test ends), wait for it,
 * and talk to it over HTTP with a cookie-keeping client that does not follow redirects.
 */
import type { TestContext } from 'node:test'
import { spawn, type ChildProcess } from 'node:child_process'
import { repoRoot } from './paths.ts'
import { HttpAgent, type HttpAnswer } from './http-agent.ts'

export interface Proc {
  readonly child: ChildProcess
  readonly output: () => string
}

export function start(t: TestContext, script: string, env: Record<string, string>): Proc {
  let output = ''
  // TypeScript sources through tsx, as `npm start`; the production bundle (.mjs) with plain node
  const args = script.endsWith('.ts') ? ['--import', 'tsx', script] : [script]
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  t.after(() => {
    child.kill('SIGKILL')
  })
  return { child, output: () => output }
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null>,
  proc: Proc,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`${what}: process exited\n${proc.output()}`)
    const value = await probe().catch(() => null)
    if (value !== null) return value
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${what}: timed out\n${proc.output()}`)
}

/**
 * A minimal cookie-keeping HTTP client that does not follow redirects: our Origin on every request,
 * no deadline, and every answer's body kept in `bodies`.
 */
export class Client {
  readonly bodies: string[] = []
  readonly origin: string
  readonly #agent: HttpAgent
  constructor(origin: string) {
    this.origin = origin
    this.#agent = new HttpAgent(origin, {
      timeoutMs: null,
      onAnswer: ({ answer }) => this.bodies.push(answer.text),
    })
  }
  get cookies(): Map<string, string> {
    return this.#agent.cookies
  }
  send(
    method: string,
    url: string,
    body?: string,
    contentType = 'application/json',
  ): Promise<HttpAnswer> {
    return this.#agent.send(method, url, {
      origin: null,
      headers: {
        origin: this.origin,
        ...(body === undefined ? {} : { 'content-type': contentType }),
      },
      ...(body === undefined ? {} : { body }),
    })
  }
}

/** Presses Allow on the sandbox consent page as demo user `userIndex`, then follows the redirect
 * to the app's callback (dropping Meta's `#_`). */
export async function allowInSandbox(
  client: Client,
  authorizeUrl: URL,
  userIndex = 1,
): Promise<{
  decision: { status: number; headers: Headers }
  landed: { status: number; headers: Headers }
}> {
  const form = new URLSearchParams(authorizeUrl.searchParams)
  form.set('decision', 'allow')
  form.set('user_index', String(userIndex))
  const decision = await client.send(
    'POST',
    new URL('authorize', authorizeUrl).toString(),
    form.toString(),
    'application/x-www-form-urlencoded',
  )
  const landed = await client.send(
    'GET',
    String(decision.headers.get('location')).replace(/#_$/, ''),
  )
  return { decision, landed }
}
