/**
 * @module providers/emulator-core/inject-fetch — a `fetch` that reaches an emulator mounted in
 * the same Fastify app by injection, with no socket (the sandbox, and tests that count calls).
 *
 * Methods: `GET`, `POST` and `HEAD` (a `HEAD` answer is a body-less `Response`, as are 204 and
 * 304). Redirects are never followed (injection does not follow them): the caller sees the 3xx
 * itself, with its `Location`, as `fetch(url, { redirect: 'manual' })` would show it.
 */
import type { FastifyInstance } from 'fastify'
import type { FetchLike } from '../types.ts'

/** A `fetch` that serves URLs under `base` by injecting into `app`, with no socket. */
export function createInjectFetch(app: FastifyInstance, base: string): FetchLike {
  return async (input, init = {}) => {
    if (!input.startsWith(`${base}/`))
      throw new TypeError('sandbox fetch: only the built-in emulator is reachable')
    const method = (init.method ?? 'GET').toUpperCase() as 'GET' | 'POST' | 'HEAD'
    const url = new URL(input)
    const headers: Record<string, string> = {}
    new Headers(init.headers).forEach((value, key) => {
      headers[key] = value
    })
    const injected = app.inject({
      method,
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
    const nullBody = method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304
    return new Response(nullBody ? null : new Uint8Array(res.rawPayload), {
      status: res.statusCode,
      headers: responseHeaders,
    })
  }
}
