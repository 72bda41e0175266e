/**
 * @module providers/emulator-core/inject-fetch — a `fetch` that reaches an emulator mounted in
 * the same Fastify app by injection, with no socket (the sandbox, and tests that count calls).
 */
import type { FastifyInstance } from 'fastify'
import type { FetchLike } from '../types.ts'

/** A `fetch` that serves URLs under `base` by injecting into `app`, with no socket. */
export function createInjectFetch(app: FastifyInstance, base: string): FetchLike {
  return async (input, init = {}) => {
    if (!input.startsWith(`${base}/`))
      throw new TypeError('sandbox fetch: only the built-in emulator is reachable')
    const url = new URL(input)
    const headers: Record<string, string> = {}
    new Headers(init.headers).forEach((value, key) => {
      headers[key] = value
    })
    const injected = app.inject({
      method: (init.method ?? 'GET') as 'GET' | 'POST',
      url: `${url.pathname}${url.search}`,
      headers,
      ...(typeof init.body === 'string' ? { payload: init.body } : {}),
    })
    const signal = init.signal
    const res = await (signal
      ? Promise.race([
          injected,
          new Promise<never>((_, reject) => {
            const abort = (): void =>
              reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
            if (signal.aborted) abort()
            signal.addEventListener('abort', abort, { once: true })
          }),
        ])
      : injected)
    const responseHeaders = new Headers()
    for (const [key, value] of Object.entries(res.headers)) {
      if (value === undefined) continue
      for (const v of Array.isArray(value) ? value : [String(value)]) responseHeaders.append(key, v)
    }
    const nullBody = res.statusCode === 204 || res.statusCode === 304
    return new Response(nullBody ? null : new Uint8Array(res.rawPayload), {
      status: res.statusCode,
      headers: responseHeaders,
    })
  }
}
