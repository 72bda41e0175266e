/**
 * Requests through `node:http` exactly as written, for what `fetch` would tidy up: encoded or
 * malformed paths, absolute-form targets, a `Host` or `Origin` of our choosing, odd bodies.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'

export interface RawAnswer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

export interface RawOptions {
  /** Sent as given, `host` included (default: the host and port of `base`). */
  headers?: Record<string, string>
  body?: string | Buffer
  /** Default 10 s. */
  timeoutMs?: number
}

/**
 * One request to the server at `base`, `target` on the request line untouched (a path, or an
 * absolute-form URL). A connection of its own (a reused one the server closed would look like a
 * failure), no redirects followed, and a deadline.
 */
export function rawRequest(
  base: string,
  method: string,
  target: string,
  options: RawOptions = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(base)
  const { body, timeoutMs = 10_000 } = options
  const given = options.headers ?? {}
  // a body always goes with its length (unless `headers` has one): Node frames no body of a GET or
  // DELETE by itself, and the server would read it as the start of another request
  const framed =
    body !== undefined &&
    !Object.keys(given).some((name) => name.toLowerCase() === 'content-length')
  const headers = framed ? { 'content-length': String(Buffer.byteLength(body)), ...given } : given
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { agent: false, hostname, port, method, path: target, headers, timeout: timeoutMs },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        )
        response.on('error', reject)
      },
    )
    request.on('timeout', () =>
      request.destroy(
        new Error(`no answer in ${timeoutMs / 1000} s: ${method} ${target.slice(0, 100)}`),
      ),
    )
    request.on('error', reject)
    request.end(body)
  })
}
