/**
 * A browser stand-in over real `fetch`: its own cookie jar, an Origin header it controls, JSON,
 * form or raw bodies, and no redirects followed (`redirect: 'manual'`). It also knows the steps a
 * person takes: sign up, start connecting Instagram, Allow on the sandbox's consent page.
 */
import assert from 'node:assert/strict'

export interface HttpAnswer {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly location: string | null
}

export interface SendOptions {
  json?: unknown
  form?: URLSearchParams | string
  /** A body sent as it is (give its content-type in `headers`). */
  body?: string
  headers?: Record<string, string>
  /** `null`: no Origin header at all. Default: the agent's own origin, on all but GET. */
  origin?: string | null
  /** `false`: send none of the jar's cookies. */
  cookies?: boolean
}

export interface AnswerEvent {
  /** The URL asked for. */
  readonly url: URL
  readonly answer: HttpAnswer
  /** The cookies this answer put in the jar, in its order (cleared ones are not in it). */
  readonly stored: readonly (readonly [name: string, value: string])[]
}

export interface HttpAgentOptions {
  /** Called with every answer once its cookies are in the jar (to record what was seen). */
  onAnswer?: (event: AnswerEvent) => void
  /** How long a request may take; `null`: as long as it takes. Default 10 s. */
  timeoutMs?: number | null
}

/** A `Set-Cookie` line that clears its cookie (`reply.clearCookie` writes all three signs). */
function clears(line: string, value: string): boolean {
  return value === '' || /Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(line)
}

export class HttpAgent {
  readonly cookies = new Map<string, string>()
  /** Our own origin: paths are resolved against it, and it is the default Origin header. */
  readonly base: string
  readonly #options: HttpAgentOptions
  constructor(base: string, options: HttpAgentOptions = {}) {
    this.base = base
    this.#options = options
  }

  /** The jar as a `Cookie` header value. */
  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  /** `path` is a path on `base`, or an absolute URL. */
  async send(method: string, path: string, options: SendOptions = {}): Promise<HttpAnswer> {
    const headers: Record<string, string> = { ...options.headers }
    const origin = options.origin === undefined ? this.base : options.origin
    if (origin !== null && method !== 'GET') headers.origin = origin
    if (options.cookies !== false && this.cookies.size > 0) headers.cookie = this.cookieHeader()
    let body: string | undefined
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(options.json)
    } else if (options.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = options.form.toString()
    } else body = options.body
    const url = path.startsWith('http') ? path : `${this.base}${path}`
    const timeoutMs = this.#options.timeoutMs === undefined ? 10_000 : this.#options.timeoutMs
    const response = await fetch(url, {
      method,
      headers,
      redirect: 'manual',
      ...(timeoutMs === null ? {} : { signal: AbortSignal.timeout(timeoutMs) }),
      ...(body === undefined ? {} : { body }),
    })
    const stored: [string, string][] = []
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const [name = '', ...rest] = pair.split('=')
      const value = rest.join('=')
      if (clears(line, value)) this.cookies.delete(name)
      else {
        this.cookies.set(name, value)
        stored.push([name, value])
      }
    }
    const answer: HttpAnswer = {
      status: response.status,
      headers: response.headers,
      text: await response.text(),
      location: response.headers.get('location'),
    }
    this.#options.onAnswer?.({ url: new URL(url), answer, stored })
    return answer
  }

  async register(email: string, password: string): Promise<void> {
    const answer = await this.send('POST', '/api/auth/register', { json: { email, password } })
    assert.equal(answer.status, 201, answer.text)
  }

  /** Starts connecting Instagram (redirect mode); returns the authorize URL. */
  async startConnect(): Promise<URL> {
    const answer = await this.send('POST', '/api/socials/connect/instagram', {
      json: { mode: 'redirect' },
    })
    assert.equal(answer.status, 200, answer.text)
    return new URL((JSON.parse(answer.text) as { authorization_url: string }).authorization_url)
  }

  /** Allow on the emulator's consent page as demo user `userIndex`: the callback path to visit. */
  async consent(authorizeUrl: URL, userIndex = 1): Promise<string> {
    const form = new URLSearchParams(authorizeUrl.searchParams)
    form.set('decision', 'allow')
    form.set('user_index', String(userIndex))
    const answer = await this.send('POST', `${authorizeUrl.origin}${authorizeUrl.pathname}`, {
      form,
    })
    assert.equal(answer.status, 302, answer.text)
    const target = new URL(String(answer.location).replace(/#_$/, ''))
    return `${target.pathname}${target.search}`
  }
}
