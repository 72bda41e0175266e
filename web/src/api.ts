/**
 * @module web/api — the page's only door to the server: same-origin JSON, the error envelope
 * turned into `ApiError`. The browser sends our Origin itself, which the CSRF check requires.
 */
import type { AccountJson, MediaChildJson, MediaJson } from '../../src/http/presenters.ts'
import type { MediaVisibility } from '../../src/store/types.ts'

/**
 * The server's types are the source. A media item's `media_product_type` is `SHORTS`, `VIDEO` or
 * `LIVE` on YouTube (`FEED`, `REELS`… on Instagram); `visibility` says who may watch it there.
 */
export type { AccountJson, MediaChildJson, MediaJson }

/** Who may watch a media on its platform (YouTube's privacy status; elsewhere `public`). */
export type Visibility = MediaVisibility

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly retryAfter: number | null
  constructor(status: number, code: string, message: string, retryAfter: number | null) {
    super(message)
    this.status = status
    this.code = code
    this.retryAfter = retryAfter
  }
}

/** In Firebase mode: the current ID token, sent as `Authorization: Bearer` with every call. */
let bearerToken: (() => Promise<string | null>) | null = null
export function useBearerToken(source: () => Promise<string | null>): void {
  bearerToken = source
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> =
    body === undefined ? {} : { 'content-type': 'application/json' }
  const token = bearerToken === null ? null : await bearerToken()
  if (token !== null) headers.authorization = `Bearer ${token}`
  let response: Response
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  } catch {
    throw new ApiError(
      0,
      'ERR_NETWORK',
      'The server cannot be reached. Check your connection and try again.',
      null,
    )
  }
  if (response.status === 204) return undefined as T
  const data: unknown = await response.json().catch(() => null)
  if (!response.ok) {
    const error =
      typeof data === 'object' && data !== null && 'error' in data
        ? (data as { error: { code?: string; message?: string } }).error
        : {}
    const retry = Number(response.headers.get('retry-after'))
    throw new ApiError(
      response.status,
      error.code ?? 'ERR_INTERNAL',
      error.message ?? `Request failed (${response.status})`,
      Number.isFinite(retry) && retry > 0 ? retry : null,
    )
  }
  return data as T
}

export interface Me {
  user: { id: string; email: string }
  sandbox: boolean
}
/** A platform people can connect (a Connect button). */
export interface Provider {
  platform: string
  label: string
  connect_path: string
  mode: 'real' | 'sandbox' | 'unconfigured'
  connectable: boolean
  sandbox: boolean
  notice: string | null
  /**
   * The platform's player, a template with `{id}` (`https://www.youtube-nocookie.com/embed/{id}`),
   * only when that platform is reached for real; `null` in the sandbox (the CSP then admits no frame).
   */
  embed_url: string | null
  /**
   * The whole shape of an id that player takes (a regular expression's source, `^\d{1,32}$` for
   * TikTok), with `embed_url`; absent or `null`: YouTube's 11 base64url characters.
   */
  embed_id_pattern?: string | null
  /** How to frame that player, with `embed_url`; absent or `null`: as YouTube's. */
  embed_frame?: PlayerFrame | null
  /** Whether the platform has a player the page embeds when it is reached for real. */
  has_player: boolean
}
/** How the page frames a platform's player (TikTok's: portrait, sandboxed). */
export interface PlayerFrame {
  /** A 9:16 frame whatever the post. */
  portrait: boolean
  /** The iframe's `allow` tokens. */
  allow: string
  /** The iframe's `sandbox` tokens. */
  sandbox: string
}
/** What the page shows of any platform (icons, names, post links). */
export interface PlatformJson {
  platform: string
  label: string
  view_label: string
  icon_path: string
}
interface AccountsPage {
  accounts: AccountJson[]
  next_cursor: string | null
  sandbox: boolean
}
export interface MediaPage {
  items: MediaJson[]
  next_cursor: string | null
}
export interface SyncResult {
  added: number
  updated: number
  removed: number
  api_calls: number
}
export interface MediaFilter {
  platform?: string
  account_id?: string
  media_type?: string
}

export interface Api {
  me(): Promise<Me>
  login(email: string, password: string): Promise<{ user: Me['user'] }>
  register(email: string, password: string): Promise<{ user: Me['user'] }>
  logout(): Promise<undefined>
  providers(): Promise<{ providers: Provider[]; platforms: PlatformJson[] }>
  accounts(): Promise<{ accounts: AccountJson[]; sandbox: boolean }>
  connect(provider: Provider, mode: 'popup' | 'redirect'): Promise<{ authorization_url: string }>
  sync(id: string): Promise<SyncResult>
  disconnect(id: string): Promise<undefined>
  media(filter: MediaFilter, cursor: string | null, limit: number): Promise<MediaPage>
  /** The current archive of these media (items or album children; at most 100 ids). */
  archives(ids: readonly string[]): Promise<ArchivesAnswer>
}

/** `GET /api/socials/media/archive`: the archive of each id asked for that has one. */
export interface ArchivesAnswer {
  archives: Record<string, MediaJson['archive']>
}

export const api: Api = {
  me: () => request<Me>('GET', '/api/auth/me'),
  login: (email: string, password: string) =>
    request<{ user: Me['user'] }>('POST', '/api/auth/login', { email, password }),
  register: (email: string, password: string) =>
    request<{ user: Me['user'] }>('POST', '/api/auth/register', { email, password }),
  logout: () => request<undefined>('POST', '/api/auth/logout'),
  providers: () =>
    request<{ providers: Provider[]; platforms: PlatformJson[] }>('GET', '/api/socials/providers'),
  /** Every account, following the list's pages (a person has a few; the server pages by 100). */
  async accounts() {
    const accounts: AccountJson[] = []
    let cursor: string | null = null
    for (let pages = 0; pages < 50; pages++) {
      const path: string =
        cursor === null
          ? '/api/socials/accounts'
          : `/api/socials/accounts?cursor=${encodeURIComponent(cursor)}`
      const page = await request<AccountsPage>('GET', path)
      accounts.push(...page.accounts)
      cursor = page.next_cursor
      if (cursor === null) return { accounts, sandbox: page.sandbox }
    }
    throw new ApiError(500, 'ERR_INTERNAL', 'The account list did not end', null)
  },
  connect: (provider: Provider, mode: 'popup' | 'redirect') =>
    request<{ authorization_url: string }>('POST', provider.connect_path, { mode }),
  sync: (id: string) =>
    request<SyncResult>('POST', `/api/socials/accounts/${encodeURIComponent(id)}/sync`),
  disconnect: (id: string) =>
    request<undefined>('DELETE', `/api/socials/accounts/${encodeURIComponent(id)}`),
  media: (filter: MediaFilter, cursor: string | null, limit: number) => {
    const query = new URLSearchParams({ limit: String(limit) })
    if (filter.platform) query.set('platform', filter.platform)
    if (filter.account_id) query.set('account_id', filter.account_id)
    if (filter.media_type) query.set('media_type', filter.media_type)
    if (cursor !== null) query.set('cursor', cursor)
    return request<MediaPage>('GET', `/api/socials/media?${query.toString()}`)
  },
  archives: (ids: readonly string[]) =>
    request<ArchivesAnswer>(
      'GET',
      `/api/socials/media/archive?ids=${encodeURIComponent(ids.join(','))}`,
    ),
}
