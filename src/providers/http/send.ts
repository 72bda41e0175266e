/**
 * @module providers/http/send — the one way a platform's client sends an HTTP call: asks the
 * budget first, never follows redirects (a token-bearing URL must not wander), gives up after the
 * platform's timeout, reads the answer through the platform's own parsers (body, usage headers,
 * failure classification) and reports every call, answered or not, for budgets and call counts.
 *
 * Platform folders build requests and interpret answers; they never touch `fetch` themselves.
 * No URL goes into an error: URLs may carry a token in their query string.
 */
import { GalleryError } from '../../errors.ts'
import type { FetchLike } from '../types.ts'

/** How a platform reads answers. `U` is what it reads from usage headers. */
export interface AnswerReader<U> {
  /** The platform's name, for messages ("Could not reach Instagram …"). */
  readonly label: string
  /** The body as JSON (`null` when it is not); e.g. Instagram keeps 17-digit ids as strings. */
  parseBody(text: string): unknown
  readUsage(headers: Headers): U
  /** What a call that got no answer reports as usage. */
  readonly noUsage: U
  /** The platform's own error code in a failed answer, for logs (Meta's `error.code`). */
  errorCode(body: unknown): number | null
  /**
   * Whether a failed answer says the platform is throttling us, and whom: the whole app (every
   * account waits) or one account. The platform's codes stay in its folder; the governor acts on
   * this.
   */
  throttled(status: number, body: unknown): 'app' | 'account' | null
  /** The error for a failed answer (status not 2xx). */
  classify(status: number, body: unknown, usage: U, endpoint: string): GalleryError
}

/** What one call reported (status 0: no answer arrived). */
export interface CallReport<U> {
  /** What was called ("media", "token refresh"), never the URL. */
  readonly endpoint: string
  readonly status: number
  readonly usage: U
  readonly errorCode: number | null
  /** The platform's classification of a throttling answer (`AnswerReader.throttled`). */
  readonly throttled: 'app' | 'account' | null
}

export interface SenderOptions<U> {
  readonly fetch: FetchLike
  readonly timeoutMs: number
  readonly reader: AnswerReader<U>
  /** Asked before every call; throwing (a rate-limit pause, a block) prevents it. */
  readonly beforeCall?: (endpoint: string) => Promise<void>
  /** Told about every call made. */
  readonly onCall?: (report: CallReport<U>) => void | Promise<void>
}

/** Sends one request and returns its parsed body; @throws GalleryError on any failure. */
export type Sender = (endpoint: string, url: string, init?: RequestInit) => Promise<unknown>

export function createSender<U>(options: SenderOptions<U>): Sender {
  const { reader } = options
  return async function send(endpoint, url, init = {}) {
    await options.beforeCall?.(endpoint)
    let response: Response
    try {
      response = await options.fetch(url, {
        ...init,
        redirect: 'error',
        signal: AbortSignal.timeout(options.timeoutMs),
      })
    } catch (error) {
      const timedOut =
        error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
      await options.onCall?.({
        endpoint,
        status: 0,
        usage: reader.noUsage,
        errorCode: null,
        throttled: null,
      })
      // the cause's message may hold the URL: no detail from it
      throw new GalleryError(
        'ERR_PROVIDER_UNAVAILABLE',
        `Could not reach ${reader.label} (${endpoint}: ${timedOut ? 'timed out' : 'network error'}); try again later`,
        { retryAfterSeconds: 60 },
      )
    }
    const usage = reader.readUsage(response.headers)
    const text = await response.text()
    let body: unknown = null
    try {
      body = reader.parseBody(text)
    } catch {
      body = null
    }
    await options.onCall?.({
      endpoint,
      status: response.status,
      usage,
      errorCode: response.ok ? null : reader.errorCode(body),
      throttled: response.ok ? null : reader.throttled(response.status, body),
    })
    if (!response.ok) throw reader.classify(response.status, body, usage, endpoint)
    if (body === null)
      throw new GalleryError(
        'ERR_PROVIDER_RESPONSE',
        `${reader.label} sent an unexpected response: ${endpoint} body is not JSON`,
      )
    return body
  }
}
