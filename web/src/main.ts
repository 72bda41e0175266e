/**
 * @module web/main — boots the gallery page: sandbox notice, sign-in or the app (connect button,
 * accounts panel, gallery), and the outcome of an OAuth callback that landed here.
 */
import './styles.css'
import { AccountsPanel } from './accounts.ts'
import { api, ApiError } from './api.ts'
import { authView } from './auth.ts'
import { startConnect } from './connect.ts'
import { byId, h } from './dom.ts'
import { Gallery } from './gallery.ts'
import { notify, showCallbackOutcome } from './notices.ts'

const app = byId('app')
const who = byId('who')
const banner = byId('banner')

async function showProviders(): Promise<void> {
  const { providers } = await api.providers()
  const instagram = providers.find((p) => p.platform === 'instagram')
  if (instagram?.sandbox === true && instagram.notice !== null) {
    banner.replaceChildren(h('strong', {}, 'Sandbox. '), instagram.notice.replace(/^Sandbox: /, ''))
    banner.hidden = false
  }
}

function signedOut(): void {
  who.replaceChildren()
  app.replaceChildren(authView(() => void boot()))
  byId<HTMLInputElement>('email').focus()
}

function signedIn(email: string): void {
  const signOut = h('button', { type: 'button' }, 'Sign out')
  signOut.addEventListener('click', () => {
    void api.logout().then(signedOut)
  })
  who.replaceChildren(h('span', { class: 'who-email' }, email), signOut)

  const refreshing = new Map<string, number>()
  const refreshAccount = (accountId: string): void => {
    const last = refreshing.get(accountId) ?? 0
    if (Date.now() - last < 60_000) return
    refreshing.set(accountId, Date.now())
    const account = panel.accounts.find((a) => a.id === accountId)
    if (account === undefined || account.account_type !== 'oauth') return
    void panel.sync(account, true)
  }
  const gallery = new Gallery(refreshAccount)
  const panel: AccountsPanel = new AccountsPanel({
    onChanged: () => void gallery.reset(panel.accounts),
    onReconnect: () => connect(),
  })
  const afterConnect = (params: URLSearchParams): void => {
    void panel.load().then(async () => {
      await gallery.reset(panel.accounts)
      const id = params.get('account')
      const account = panel.accounts.find((a) => a.id === id)
      if (params.get('connect') === 'success' && account !== undefined) await panel.sync(account)
    })
  }
  const connect = (): void => startConnect(afterConnect)
  const connectButton = h(
    'button',
    { type: 'button', class: 'primary connect' },
    'Connect Instagram',
  )
  connectButton.addEventListener('click', connect)
  app.replaceChildren(h('div', { class: 'toolbar' }, connectButton), panel.element, gallery.element)

  const params = new URLSearchParams(window.location.search)
  if (showCallbackOutcome(params)) history.replaceState(null, '', '/gallery')
  afterConnect(params)
}

async function boot(): Promise<void> {
  void showProviders().catch(() => undefined)
  try {
    const me = await api.me()
    signedIn(me.user.email)
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      const params = new URLSearchParams(window.location.search)
      if (showCallbackOutcome(params)) history.replaceState(null, '', '/gallery')
      signedOut()
    } else {
      notify(
        'error',
        'The gallery could not load',
        error instanceof Error ? error.message : String(error),
      )
    }
  }
}

void boot()
