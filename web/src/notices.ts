/**
 * @module web/notices — success and error messages in plain words, with the next step. The
 * callback outcomes come from the server's own table, so page and API never disagree.
 */
import {
  callbackOutcomeText,
  connectedText,
  isCallbackOutcomeCode,
  landingOutcomeOf,
  type LandingOutcome,
} from '../../src/socials/messages.ts'
import { byId, h } from './dom.ts'
import { platformLabel } from './platforms.ts'

export type NoticeKind = 'ok' | 'error' | 'info'

const MAX_NOTICES = 3

export function notify(kind: NoticeKind, title: string, detail?: string): void {
  const region = byId('notices')
  const close = h(
    'button',
    { type: 'button', class: 'notice-close', 'aria-label': 'Dismiss message' },
    '×',
  )
  const notice = h(
    'div',
    { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-kind': kind },
    h('div', {}, h('strong', {}, title), detail ? h('p', {}, detail) : null),
    close,
  )
  close.addEventListener('click', () => notice.remove())
  // newest first; a few stay so that quick successive messages are all seen
  region.prepend(notice)
  while (region.children.length > MAX_NOTICES) region.lastElementChild?.remove()
}

/**
 * The outcome the server verified for this page (the callback's cookie, consumed when the page
 * was served), or null. Only this may carry the provider's words or prove a fresh connection.
 */
export function verifiedOutcome(): LandingOutcome | null {
  const content = document.querySelector('meta[name="psg-outcome"]')?.getAttribute('content')
  if (content === null || content === undefined) return null
  try {
    return landingOutcomeOf(JSON.parse(content))
  } catch {
    return null
  }
}

/**
 * Shows the outcome of an OAuth callback: the codes of the landing URL (`connect`, `reason`) pick
 * one of our own texts; the provider's words come only from `verified` (never from the URL, which
 * anyone can write).
 */
export function showCallbackOutcome(
  params: URLSearchParams,
  verified: LandingOutcome | null,
): boolean {
  const notices = byId('notices')
  const platform = params.get('platform') ?? ''
  const known = platform !== '' && platformLabel(platform) !== platform
  // the server wrote the same outcome into the page already, with the platform's name; before
  // the platforms are listed (a redirect landing) keep its notice rather than print an id
  if (!known && platform !== '' && notices.querySelector('[data-outcome]') !== null) return true
  const label = known ? platformLabel(platform) : 'the platform'
  notices.replaceChildren()
  const connect = params.get('connect')
  if (connect === 'success') {
    const text = connectedText(label)
    notify('ok', text.message, text.next)
    return true
  }
  const reason = params.get('reason') ?? ''
  if (connect !== 'error' || !isCallbackOutcomeCode(reason)) return false
  const outcome = callbackOutcomeText(reason, label)
  const detail =
    verified?.connect === 'error' && verified.reason === reason ? verified.detail : undefined
  notify(
    reason === 'access_denied' ? 'info' : 'error',
    detail === undefined ? outcome.message : `${outcome.message}: ${detail}`,
    outcome.next,
  )
  return true
}
