/**
 * @module web/notices — success and error messages in plain words, with the next step. The
 * callback outcomes come from the server's own table, so page and API never disagree.
 */
import {
  CALLBACK_OUTCOMES,
  CONNECTED_OUTCOME,
  isCallbackOutcomeCode,
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

/** Shows the outcome of an OAuth callback (`connect`, `reason`, `detail` query parameters). */
export function showCallbackOutcome(params: URLSearchParams): boolean {
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
  const detail = params.get('detail')
  notify(
    reason === 'access_denied' ? 'info' : 'error',
    detail ? `${outcome.message}: ${detail.slice(0, 300)}` : outcome.message,
    outcome.next,
  )
  return true
}
