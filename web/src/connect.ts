/**
 * @module web/connect — "Connect <platform>": a popup opened synchronously on the click (so popup
 * blockers allow it), sent to the authorization URL once the server gives it; the callback page
 * tells us through postMessage (our origin only). Blocked popups fall back to a full-page redirect.
 */
import { api, ApiError, type Provider } from './api.ts'
import { notify, showCallbackOutcome } from './notices.ts'
import { landingOutcomeOf, type LandingOutcome } from '../../src/socials/messages.ts'

const POPUP_FEATURES = 'popup=yes,width=520,height=720'

/** Called with the landing codes and the outcome the server verified for this browser. */
export type ConnectDone = (params: URLSearchParams, verified: LandingOutcome | null) => void

export function startConnect(provider: Provider, onDone: ConnectDone): void {
  const popup = window.open('', 'psg-oauth', POPUP_FEATURES)
  if (popup === null) {
    void redirectConnect(provider)
    return
  }
  popup.document.title = `Connecting to ${provider.label}…`
  api
    .connect(provider, 'popup')
    .then(({ authorization_url }) => {
      popup.location.href = authorization_url
      watch(provider, popup, onDone)
    })
    .catch((error: unknown) => {
      popup.close()
      reportConnectError(provider, error)
    })
}

async function redirectConnect(provider: Provider): Promise<void> {
  try {
    const { authorization_url } = await api.connect(provider, 'redirect')
    window.location.assign(authorization_url)
  } catch (error) {
    reportConnectError(provider, error)
  }
}

function reportConnectError(provider: Provider, error: unknown): void {
  if (error instanceof ApiError && error.code === 'ERR_NOT_CONFIGURED') {
    // the server's message names the variables to set
    notify('error', `${provider.label} OAuth not configured`, error.message)
  } else {
    notify(
      'error',
      'Could not start the connection',
      error instanceof Error ? error.message : String(error),
    )
  }
}

function watch(provider: Provider, popup: Window, onDone: ConnectDone): void {
  let finished = false
  const onMessage = (event: MessageEvent<unknown>): void => {
    if (event.origin !== window.location.origin || event.source !== popup) return
    const data = event.data
    if (
      typeof data !== 'object' ||
      data === null ||
      (data as { type?: unknown }).type !== 'psg-oauth-result'
    )
      return
    finished = true
    window.removeEventListener('message', onMessage)
    const message = data as { params?: unknown; verified?: unknown }
    const params = new URLSearchParams()
    if (typeof message.params === 'object' && message.params !== null)
      for (const [key, value] of Object.entries(message.params))
        if (typeof value === 'string') params.set(key, value)
    const verified = landingOutcomeOf(message.verified)
    showCallbackOutcome(params, verified)
    onDone(params, verified)
  }
  window.addEventListener('message', onMessage)
  const timer = window.setInterval(() => {
    if (!popup.closed) return
    window.clearInterval(timer)
    window.setTimeout(() => {
      if (finished) return
      window.removeEventListener('message', onMessage)
      notify(
        'info',
        `The ${provider.label} window was closed.`,
        `Nothing was connected. Press “Connect ${provider.label}” to try again.`,
      )
    }, 300)
  }, 400)
}
