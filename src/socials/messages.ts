/**
 * @module socials/messages — what the OAuth callback tells people, keyed by a machine code. The
 * wording keeps the original app's messages; each adds the next step to take.
 */
export const CALLBACK_OUTCOMES = {
  invalid_state: {
    message: 'Invalid or expired state token',
    next: 'The connection link is single-use and valid for 5 minutes, in the browser that started it. Start again with “Connect {label}”.',
  },
  access_denied: {
    message: 'You cancelled the {label} authorization',
    next: 'Nothing was connected. Choose “Connect {label}” again and press Allow when you are ready.',
  },
  token_exchange_failed: {
    message: 'Failed to exchange code for token',
    next: 'Start again with “Connect {label}”. If it keeps failing, the server administrator should check the {label} client ID, secret and redirect URI (README: set-up).',
  },
  callback_validation: {
    message: 'OAuth callback validation error',
    next: 'The answer from {label} was malformed. Start again with “Connect {label}”.',
  },
  personal_account: {
    message: 'This {label} account is a personal account',
    next: 'Only professional accounts (Business or Creator) can be connected since Meta closed the Basic Display API. In the Instagram app open Settings → Account type and tools → Switch to professional account (it is free and reversible), then connect again.',
  },
  scope_missing: {
    message: 'The permission to see your {label} account was not granted',
    next: 'On the consent screen, leave the permission to view your {label} account ticked (the gallery only reads), then choose “Connect {label}” again.',
  },
  no_channel: {
    message: 'That account has no {label} channel',
    next: 'Create a channel on {label} with the same sign-in, then choose “Connect {label}” again.',
  },
  provider_error: {
    message: '{label} could not complete the connection',
    next: '{label} returned an error. Try again in a few minutes.',
  },
  profile_failed: {
    message: 'Failed to read the {label} profile',
    next: 'The account was not connected. Try again in a few minutes.',
  },
  not_configured: {
    message: '{label} OAuth not configured',
    next: 'The server administrator must set the {label} OAuth variables (README: set-up).',
  },
} as const

/** What a successful callback tells the person. */
export const CONNECTED_OUTCOME = {
  message: '{label} account connected.',
  next: 'Its media are being fetched now.',
} as const

/** A text of this module with the platform's name (`label`, "YouTube") put in. */
function withLabel(
  text: { readonly message: string; readonly next: string },
  label: string,
): { message: string; next: string } {
  const message = text.message.replaceAll('{label}', label)
  return {
    // a message may begin with the name ("the platform" when a link names none)
    message: `${message.charAt(0).toUpperCase()}${message.slice(1)}`,
    next: text.next.replaceAll('{label}', label),
  }
}

/** What the callback outcome `code` tells the person about a `label` connection. */
export function callbackOutcomeText(
  code: CallbackOutcomeCode,
  label: string,
): { message: string; next: string } {
  return withLabel(CALLBACK_OUTCOMES[code], label)
}

/** What a successful `label` connection tells the person. */
export function connectedText(label: string): { message: string; next: string } {
  return withLabel(CONNECTED_OUTCOME, label)
}

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

/** What the page says while some platforms are served by their built-in emulators. */
export function sandboxNotice(labels: readonly string[]): string {
  const names =
    labels.length <= 1
      ? (labels[0] ?? 'No platform')
      : `${labels.slice(0, -1).join(', ')} and ${labels[labels.length - 1]}`
  const one = labels.length === 1
  return `Sandbox: ${names} ${one ? 'is served by a built-in emulator' : 'are served by built-in emulators'} with demo accounts. Set ${one ? 'its' : 'their'} OAuth client ID and secret (README: set-up) to use the real ${one ? 'platform' : 'platforms'}.`
}
