// Runs in the OAuth popup after the callback: tell the opener (our own origin only), then close.
const params = Object.fromEntries(new URLSearchParams(location.search))
if (window.opener && !window.opener.closed) {
  window.opener.postMessage({ type: 'psg-oauth-result', ...params }, location.origin)
  window.close()
} else {
  location.replace(`/gallery${location.search}`)
}
