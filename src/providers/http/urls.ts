/**
 * @module providers/http/urls — which URLs from a platform are stored. Permalinks, media,
 * thumbnails and profile pictures end up in the page's `<a href>`, `<img src>` and `<video src>`
 * (red team F10): only absolute `https:` URLs without credentials are kept, plus the origins in
 * `extraOrigins` — a client adds its configured API origin, because the sandbox emulators serve
 * their media over plain http from `PUBLIC_URL` (`http://localhost:8080/sandbox/<platform>/cdn/…`
 * in development and tests).
 */

export interface UrlPolicy {
  /** Origins (`scheme://host[:port]`) accepted besides any https one. */
  readonly extraOrigins: readonly string[]
}

/** The default: https URLs only. */
export const HTTPS_ONLY: UrlPolicy = Object.freeze({ extraOrigins: [] })

/**
 * `value` as an absolute URL the policy accepts, normalised (what was checked is what is stored),
 * or `null`: not a string, not a URL (`//x`, garbage), another scheme (`javascript:`, `data:`,
 * `http:` outside the policy), or with credentials in it (`https://instagram.com@evil.example`).
 */
export function platformUrl(value: unknown, policy: UrlPolicy = HTTPS_ONLY): string | null {
  if (typeof value !== 'string' || value === '') return null
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return null
  }
  if (url.username !== '' || url.password !== '' || url.hostname === '') return null
  if (url.protocol !== 'https:' && !policy.extraOrigins.includes(url.origin)) return null
  return url.href
}
