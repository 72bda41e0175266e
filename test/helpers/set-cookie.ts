/**
 * A strict `Set-Cookie` checker: the server-side rules of RFC 6265bis (§4.1: syntax, §4.1.3:
 * cookie prefixes) plus this service's own cookie policy (SECURITY.md, reference/security.md §5).
 *
 * Browsers enforce the prefixes and silently drop a cookie that breaks them (F1 of the 2026-12
 * red-team pass: `__Host-psg_oauth` with `Path=/api/socials/oauth/` never reached the callback),
 * so a test that only reads cookies back through a lenient client cannot notice. Run every
 * `Set-Cookie` the service sends through `setCookieViolations` instead.
 */

/** RFC 9110 `token` (a cookie-name). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** RFC 6265bis `cookie-value`: cookie-octets, optionally inside one pair of double quotes. */
const COOKIE_VALUE =
  /^(?:[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*|"[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*")$/
/** `path-value` / `extension-av`: any CHAR but CTLs and ";". */
const AV_VALUE = /^[\x20-\x3A\x3C-\x7E]*$/
/** `sane-cookie-date`: an IMF-fixdate (RFC 9110 §5.6.7). */
const IMF_FIXDATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']

/** RFC 6265bis §5.7 / §5.6: user agents ignore longer name+value pairs and attribute values. */
const MAX_PAIR_OCTETS = 4096
const MAX_ATTRIBUTE_OCTETS = 1024

/** The attributes the RFC defines, in their canonical spelling (matched case-insensitively). */
const KNOWN_ATTRIBUTES = [
  'Expires',
  'Max-Age',
  'Domain',
  'Path',
  'Secure',
  'HttpOnly',
  'SameSite',
  'Partitioned',
] as const
type AttributeName = (typeof KNOWN_ATTRIBUTES)[number]
const FLAG_ATTRIBUTES: ReadonlySet<AttributeName> = new Set(['Secure', 'HttpOnly', 'Partitioned'])

export interface ParsedSetCookie {
  readonly name: string
  readonly value: string
  /** Known attributes by canonical name; a flag attribute has the value `''`. */
  readonly attributes: ReadonlyMap<AttributeName, string>
  /** Problems found while parsing (syntax, duplicates, unknown attributes, sizes). */
  readonly syntaxErrors: readonly string[]
}

/** Parses one `Set-Cookie` field value by the server grammar of RFC 6265bis §4.1.1. */
export function parseSetCookie(header: string): ParsedSetCookie {
  const syntaxErrors: string[] = []
  const attributes = new Map<AttributeName, string>()
  // the grammar separates cookie-avs with exactly "; " (";" SP)
  const [pair = '', ...avs] = header.split(';')
  const eq = pair.indexOf('=')
  const name = eq < 0 ? pair : pair.slice(0, eq)
  const value = eq < 0 ? '' : pair.slice(eq + 1)
  if (eq < 0) syntaxErrors.push('the cookie-pair has no "="')
  if (!TOKEN.test(name)) syntaxErrors.push(`the cookie-name ${JSON.stringify(name)} is not a token`)
  if (!COOKIE_VALUE.test(value))
    syntaxErrors.push(
      `the cookie-value ${JSON.stringify(value)} has characters outside cookie-octet`,
    )
  if (Buffer.byteLength(name + value) > MAX_PAIR_OCTETS)
    syntaxErrors.push(`name and value are longer than ${MAX_PAIR_OCTETS} octets`)
  for (const raw of avs) {
    if (!raw.startsWith(' ') || raw.startsWith('  ')) {
      syntaxErrors.push(`attributes must be separated by "; " (got ${JSON.stringify(`;${raw}`)})`)
    }
    const av = raw.slice(1)
    const avEq = av.indexOf('=')
    const avName = avEq < 0 ? av : av.slice(0, avEq)
    const avValue = avEq < 0 ? null : av.slice(avEq + 1)
    const known = KNOWN_ATTRIBUTES.find((k) => k.toLowerCase() === avName.toLowerCase())
    if (known === undefined) {
      syntaxErrors.push(`unknown attribute ${JSON.stringify(av)}`)
      continue
    }
    if (attributes.has(known)) syntaxErrors.push(`the ${known} attribute appears more than once`)
    if (FLAG_ATTRIBUTES.has(known)) {
      if (avValue !== null) syntaxErrors.push(`${known} takes no value (got ${JSON.stringify(av)})`)
      attributes.set(known, '')
      continue
    }
    if (avValue === null) {
      syntaxErrors.push(`${known} needs a value`)
      continue
    }
    if (!AV_VALUE.test(avValue))
      syntaxErrors.push(`the ${known} value ${JSON.stringify(avValue)} has control characters`)
    if (Buffer.byteLength(avValue) > MAX_ATTRIBUTE_OCTETS)
      syntaxErrors.push(`the ${known} value is longer than ${MAX_ATTRIBUTE_OCTETS} octets`)
    attributes.set(known, avValue)
  }
  return { name, value, attributes, syntaxErrors }
}

/** The moment an IMF-fixdate names, or null when it is not one (wrong shape, day or date). */
export function parseImfFixdate(text: string): number | null {
  const m = IMF_FIXDATE.exec(text)
  if (m === null) return null
  const [, day, dd, mon, yyyy, hh, mi, ss] = m
  const at = Date.UTC(
    Number(yyyy),
    MONTHS.indexOf(mon ?? ''),
    Number(dd),
    Number(hh),
    Number(mi),
    Number(ss),
  )
  const date = new Date(at)
  // Date.UTC rolls 31 Feb over into March: a real date reads back the same
  if (
    date.getUTCDate() !== Number(dd) ||
    date.getUTCHours() !== Number(hh) ||
    date.getUTCMinutes() !== Number(mi) ||
    date.getUTCSeconds() !== Number(ss) ||
    DAYS[date.getUTCDay()] !== day
  )
    return null
  return at
}

export interface CookiePolicyContext {
  /** PUBLIC_URL is https: every cookie must be Secure and carry `__Host-` or `__Secure-`. */
  readonly https: boolean
  /** "Now" for judging Expires (default: the real clock). */
  readonly now?: number
}

/**
 * Every rule one `Set-Cookie` header breaks, as sentences naming the cookie; `[]` when it is
 * fine. RFC 6265bis: the syntax, `__Secure-` ⇒ Secure, `__Host-` ⇒ Secure, no Domain and
 * `Path=/` (prefixes matched case-insensitively, as user agents do), SameSite=None ⇒ Secure.
 * This service: HttpOnly, SameSite=Lax or Strict, no Domain, Secure and a prefix on https, and a
 * clear (empty value) that really expires the cookie (Max-Age=0 or an Expires in the past).
 */
export function setCookieViolations(header: string, context: CookiePolicyContext): string[] {
  const cookie = parseSetCookie(header)
  const { name, value, attributes } = cookie
  const label = name === '' ? 'a cookie with no name' : name
  const out = cookie.syntaxErrors.map((e) => `${label}: ${e}`)
  const add = (rule: string): void => {
    out.push(`${label}: ${rule}`)
  }
  const secure = attributes.has('Secure')
  const domain = attributes.get('Domain')
  const path = attributes.get('Path')
  const sameSite = attributes.get('SameSite')
  const maxAge = attributes.get('Max-Age')
  const expires = attributes.get('Expires')
  const lower = name.toLowerCase()

  // RFC 6265bis §4.1.3 (user agents, §5.7 step 20-21, compare the prefixes case-insensitively)
  if (lower.startsWith('__secure-') && !secure) add('the __Secure- prefix requires Secure')
  if (lower.startsWith('__host-')) {
    if (!secure) add('the __Host- prefix requires Secure')
    if (domain !== undefined) add('the __Host- prefix forbids a Domain attribute')
    if (path !== '/')
      add(`the __Host- prefix requires Path=/ (got ${path === undefined ? 'no Path' : path})`)
  }
  if (path !== undefined && !path.startsWith('/'))
    add(`Path must start with "/" (got ${JSON.stringify(path)}); browsers ignore it`)
  let sameSiteValue: string | undefined
  if (sameSite !== undefined) {
    sameSiteValue = ['Strict', 'Lax', 'None'].find(
      (v) => v.toLowerCase() === sameSite.toLowerCase(),
    )
    if (sameSiteValue === undefined) add(`SameSite must be Strict, Lax or None (got ${sameSite})`)
    if (sameSiteValue === 'None' && !secure) add('SameSite=None requires Secure')
  }
  let maxAgeSeconds: number | undefined
  if (maxAge !== undefined) {
    // The grammar says non-zero-digit *DIGIT; "0" is accepted here because every user agent
    // treats it as "expire now" (§5.6.2), which is how clears are written.
    if (/^(0|[1-9][0-9]*)$/.test(maxAge)) maxAgeSeconds = Number(maxAge)
    else add(`Max-Age must be a non-negative integer without leading zeros (got ${maxAge})`)
  }
  let expiresAt: number | undefined
  if (expires !== undefined) {
    const at = parseImfFixdate(expires)
    if (at === null) add(`Expires must be an IMF-fixdate (got ${JSON.stringify(expires)})`)
    else expiresAt = at
  }

  // this service's policy
  if (!attributes.has('HttpOnly')) add('every cookie of this service is HttpOnly')
  if (sameSiteValue !== 'Lax' && sameSiteValue !== 'Strict')
    add(`SameSite must be Lax or Strict (got ${sameSite ?? 'none'})`)
  if (domain !== undefined) add(`no cookie of this service carries a Domain (got ${domain})`)
  if (context.https) {
    if (!secure) add('on https every cookie is Secure')
    if (!name.startsWith('__Host-') && !name.startsWith('__Secure-'))
      add('on https every cookie carries the __Host- or __Secure- prefix (spelt so)')
  }
  if (value === '' || value === '""') {
    const now = context.now ?? Date.now()
    const expired =
      (maxAgeSeconds !== undefined && maxAgeSeconds === 0) ||
      (maxAgeSeconds === undefined && expiresAt !== undefined && expiresAt <= now)
    if (maxAge === undefined && expires === undefined)
      add('a clear (empty value) needs Max-Age or Expires, else it only empties the cookie')
    else if (!expired) add('a clear (empty value) must expire the cookie now')
  }
  return out
}

/** Whether a header removes its cookie (Max-Age=0, or an Expires in the past with no Max-Age). */
export function isClear(header: string, now = Date.now()): boolean {
  const { attributes } = parseSetCookie(header)
  const maxAge = attributes.get('Max-Age')
  if (maxAge !== undefined) return /^[0-9]+$/.test(maxAge) && Number(maxAge) === 0
  const expires = attributes.get('Expires')
  const at = expires === undefined ? null : parseImfFixdate(expires)
  return at !== null && at <= now
}
