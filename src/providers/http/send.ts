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

/**
 * The usage a platform reports with its answers, as the rate governor reads it (Meta's usage
 * headers; Google reports none: all `null`).
 */
export interface PlatformUsage {
  /** The app's usage percentage. */
  readonly appPercent: number | null
  /** The calling account's usage percentage (Meta's business use case). */
  readonly businessPercent: number | null
  /** Minutes until access is regained, when the platform says so, at most 24 hours. */
  readonly regainMinutes: number | null
  /** What the platform said when it was more than that (`regainMinutes` holds the bound). */
  readonly regainMinutesClampedFrom: number | null
}

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
  /**
   * The units the platform actually charged for this answer, when it charges by what it returns
   * (X bills each post a page holds): the governor gives back what was reserved beyond it.
   * Absent or `null`: the reserved cost stands.
   */
  unitsUsed?(endpoint: string, status: number, body: unknown): number | null
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
  /**
   * How long the failure's classification asks to wait (`GalleryError.retryAfterSeconds`; a
   * spent daily quota: until it resets), `null` for answers that succeeded or say nothing.
   */
  readonly retryAfterSeconds: number | null
  /** The units the answer actually cost (`AnswerReader.unitsUsed`); `null`: as reserved. */
  readonly units: number | null
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
export type Sender = ((endpoint: string, url: string, init?: RequestInit) => Promise<unknown>) & {
  /**
   * Sends one request whose answer is its status alone (a `HEAD` probe): a redirect is an answer
   * here, never followed (`redirect: 'manual'`), and the body is not read. Counted and reported
   * like every call. @throws GalleryError when no answer arrives.
   */
  readonly status: (endpoint: string, url: string, init?: RequestInit) => Promise<number>
}

export function createSender<U>(options: SenderOptions<U>): Sender {
  const { reader } = options

  /** Asks the budget, then fetches; a call that got no answer is reported and thrown. */
  async function answer(
    endpoint: string,
    url: string,
    init: RequestInit,
    redirect: 'error' | 'manual',
  ): Promise<Response> {
    await options.beforeCall?.(endpoint)
    try {
      return await options.fetch(url, {
        ...init,
        redirect,
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
        retryAfterSeconds: null,
        // no answer: whether the platform billed it is unknown, so the charge stands
        units: null,
      })
      // the cause's message may hold the URL: no detail from it
      throw new GalleryError(
        'ERR_PROVIDER_UNAVAILABLE',
        `Could not reach ${reader.label} (${endpoint}: ${timedOut ? 'timed out' : 'network error'}); try again later`,
        { retryAfterSeconds: 60 },
      )
    }
  }

  async function send(endpoint: string, url: string, init: RequestInit = {}): Promise<unknown> {
    const response = await answer(endpoint, url, init, 'error')
    const usage = reader.readUsage(response.headers)
    const text = await response.text()
    let body: unknown = null
    try {
      body = reader.parseBody(text)
    } catch {
      body = null
    }
    // some platforms answer a throttle with HTTP 200 and an error body (TikTok): the body decides
    const throttled = reader.throttled(response.status, body)
    const failure =
      !response.ok || throttled !== null
        ? reader.classify(response.status, body, usage, endpoint)
        : null
    await options.onCall?.({
      endpoint,
      status: response.status,
      usage,
      errorCode: failure === null ? null : reader.errorCode(body),
      throttled,
      retryAfterSeconds: failure?.retryAfterSeconds ?? null,
      units: reader.unitsUsed?.(endpoint, response.status, body) ?? null,
    })
    // a 2xx answer's error body is the platform parser's to throw (it knows the envelope)
    if (!response.ok && failure !== null) throw failure
    if (body === null)
      throw new GalleryError(
        'ERR_PROVIDER_RESPONSE',
        `${reader.label} sent an unexpected response: ${endpoint} body is not JSON`,
      )
    return body
  }

  async function status(endpoint: string, url: string, init: RequestInit = {}): Promise<number> {
    const response = await answer(endpoint, url, init, 'manual')
    // nothing to read: let the connection go
    await response.body?.cancel().catch(() => undefined)
    await options.onCall?.({
      endpoint,
      status: response.status,
      usage: reader.readUsage(response.headers),
      errorCode: null,
      throttled: null,
      retryAfterSeconds: null,
      units: null,
    })
    return response.status
  }

  return Object.assign(send, { status })
}
