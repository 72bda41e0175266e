/**
 * @module socials/messages — what the OAuth callback tells people, keyed by a machine code. The
 * wording keeps the original app's messages; each adds the next step to take.
 */
export const CALLBACK_OUTCOMES = {
  invalid_state: {
    message: 'Invalid or expired state token',
    next: 'The connection link is single-use and valid for 5 minutes, in the browser that started it. Start again with “Connect Instagram”.',
  },
  access_denied: {
    message: 'You cancelled the Instagram authorization',
    next: 'Nothing was connected. Choose “Connect Instagram” again and press Allow when you are ready.',
  },
  token_exchange_failed: {
    message: 'Failed to exchange code for token',
    next: 'Start again with “Connect Instagram”. If it keeps failing, check INSTAGRAM_CLIENT_ID, INSTAGRAM_CLIENT_SECRET and INSTAGRAM_REDIRECT_URI.',
  },
  callback_validation: {
    message: 'OAuth callback validation error',
    next: 'The answer from Instagram was malformed. Start again with “Connect Instagram”.',
  },
  personal_account: {
    message: 'This Instagram account is a personal account',
    next: 'Only professional accounts (Business or Creator) can be connected since Meta closed the Basic Display API. In the Instagram app open Settings → Account type and tools → Switch to professional account (it is free and reversible), then connect again.',
  },
  provider_error: {
    message: 'Instagram could not complete the connection',
    next: 'Instagram returned an error. Try again in a few minutes.',
  },
  profile_failed: {
    message: 'Failed to read the Instagram profile',
    next: 'The account was not connected. Try again in a few minutes.',
  },
  not_configured: {
    message: 'Instagram OAuth not configured',
    next: 'The server administrator must set INSTAGRAM_CLIENT_ID, INSTAGRAM_CLIENT_SECRET and INSTAGRAM_REDIRECT_URI.',
  },
} as const

/** What a successful callback tells the person. */
export const CONNECTED_OUTCOME = {
  message: 'Instagram account connected.',
  next: 'Its media are being fetched now.',
} as const

export type CallbackOutcomeCode = keyof typeof CALLBACK_OUTCOMES

export function isCallbackOutcomeCode(value: string): value is CallbackOutcomeCode {
  return Object.hasOwn(CALLBACK_OUTCOMES, value)
}

/**
 * What an OAuth callback established, as its landing page learns it from the server (never from
 * the landing URL): see `http/landing-outcome`.
 */
export type LandingOutcome =
  | { readonly connect: 'success'; readonly platform: string; readonly account: string }
  | {
      readonly connect: 'error'
      readonly platform: string
      readonly reason: CallbackOutcomeCode
      /** The provider's own words (at most 300 characters), from a genuine return only. */
      readonly detail?: string
    }

/** The outcome in an untrusted value (a cookie's JSON, a page's meta tag), or null. */
export function landingOutcomeOf(value: unknown): LandingOutcome | null {
  if (typeof value !== 'object' || value === null) return null
  const v = value as Record<string, unknown>
  if (typeof v.platform !== 'string' || !/^[a-z]{1,20}$/.test(v.platform)) return null
  if (v.connect === 'success')
    return typeof v.account === 'string' && /^[0-9a-f-]{36}$/.test(v.account)
      ? { connect: 'success', platform: v.platform, account: v.account }
      : null
  if (v.connect !== 'error' || typeof v.reason !== 'string' || !isCallbackOutcomeCode(v.reason))
    return null
  if (v.detail === undefined) return { connect: 'error', platform: v.platform, reason: v.reason }
  return typeof v.detail === 'string'
    ? { connect: 'error', platform: v.platform, reason: v.reason, detail: v.detail.slice(0, 300) }
    : null
}

export const NOT_CONFIGURED_MESSAGE =
  'Instagram OAuth not configured: set INSTAGRAM_CLIENT_ID, INSTAGRAM_CLIENT_SECRET and INSTAGRAM_REDIRECT_URI'

export const SANDBOX_NOTICE =
  'Sandbox: Instagram is served by the built-in emulator with demo accounts. Set INSTAGRAM_CLIENT_ID and INSTAGRAM_CLIENT_SECRET to use the real Instagram.'
