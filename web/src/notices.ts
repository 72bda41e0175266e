/**
 * @module web/notices — success and error messages in plain words, with the next step. The
 * callback outcomes come from the server's own table, so page and API never disagree.
 */
import {
  CALLBACK_OUTCOMES,
  CONNECTED_OUTCOME,
  isCallbackOutcomeCode,
  landingOutcomeOf,
  type LandingOutcome,
} from '../../src/socials/messages.ts'
import { byId, h } from './dom.ts'

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
  // the server may have written the same outcome into the page already
  byId('notices').replaceChildren()
  const connect = params.get('connect')
  if (connect === 'success') {
    notify('ok', CONNECTED_OUTCOME.message, CONNECTED_OUTCOME.next)
    return true
  }
  const reason = params.get('reason') ?? ''
  if (connect !== 'error' || !isCallbackOutcomeCode(reason)) return false
  const outcome = CALLBACK_OUTCOMES[reason]
  const detail =
    verified?.connect === 'error' && verified.reason === reason ? verified.detail : undefined
  notify(
    reason === 'access_denied' ? 'info' : 'error',
    detail === undefined ? outcome.message : `${outcome.message}: ${detail}`,
    outcome.next,
  )
  return true
}
