// Runs in the OAuth popup after the callback: tell the opener (our own origin only), then close.
// The URL's codes travel as they are; the verified outcome (the provider's words, the proof of a
// fresh connection) is what the server wrote into this page. Without an opener (popup blocked or
// opened in a tab), continue in this window: the gallery then shows our own texts only.
import { verifiedOutcome } from './notices.ts'

const params = Object.fromEntries(new URLSearchParams(window.location.search))
const opener = window.opener as Window | null
if (opener !== null && !opener.closed) {
  opener.postMessage(
    { type: 'psg-oauth-result', params, verified: verifiedOutcome() },
    window.location.origin,
  )
  window.close()
} else {
  window.location.replace(`/gallery${window.location.search}`)
}
