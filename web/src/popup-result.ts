// Runs in the OAuth popup after the callback: tell the opener (our own origin only), then close.
// Without an opener (popup blocked or opened in a tab), continue in this window.
const params = Object.fromEntries(new URLSearchParams(window.location.search))
const opener = window.opener as Window | null
if (opener !== null && !opener.closed) {
  opener.postMessage({ type: 'psg-oauth-result', ...params }, window.location.origin)
  window.close()
} else {
  window.location.replace(`/gallery${window.location.search}`)
}
