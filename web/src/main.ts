/**
 * @module web/main — boots the gallery page: sandbox notice, sign-in or the app (connect button,
 * accounts panel, gallery), and the outcome of an OAuth callback that landed here.
 */
import './styles.css'
import { AccountsPanel } from './accounts.ts'
import {
  api,
  ApiError,
  useBearerToken,
  type AccountJson,
  type MediaPage,
  type Provider,
} from './api.ts'
import { setPlatforms, setPlayers } from './platforms.ts'
import { authView, firebaseNotConfiguredView, type SignInMethods } from './auth.ts'
import { startConnect } from './connect.ts'
import { byId, h } from './dom.ts'
import { Gallery, PAGE_SIZE } from './gallery.ts'
import { notify, showCallbackOutcome, verifiedOutcome } from './notices.ts'
import { sandboxNotice, type LandingOutcome } from '../../src/socials/messages.ts'

import type { PublicAuthConfig } from '../../src/http/routes/pages.ts'
import type { FirebaseSession } from './firebase.ts'

const app = byId('app')
const who = byId('who')
const banner = byId('banner')

/** How this server signs people in: written into the page by the server. */
function authConfig(): PublicAuthConfig {
  const raw = document.querySelector<HTMLMetaElement>('meta[name="psg-auth"]')?.content
  try {
    return raw === undefined ? { mode: 'local' } : (JSON.parse(raw) as PublicAuthConfig)
  } catch {
    return { mode: 'local' }
  }
}

/** Local accounts, or Firebase's SDK (loaded only then). */
interface Identity {
  readonly methods: SignInMethods | null
  /** False when surely signed out (Firebase without a user): no need to ask the server. */
  mayBeSignedIn(): boolean
  signOut(): Promise<void>
  email(fromServer: string): string
}

async function startIdentity(): Promise<Identity> {
  const config = authConfig()
  if (config.mode === 'local') {
    return {
      methods: {
        login: async (email, password) => void (await api.login(email, password)),
        register: async (email, password) => void (await api.register(email, password)),
      },
      mayBeSignedIn: () => true,
      signOut: () => api.logout(),
      email: (fromServer) => fromServer,
    }
  }
  const { apiKey } = config
  if (apiKey === null)
    return {
      methods: null,
      mayBeSignedIn: () => false,
      signOut: async () => undefined,
      email: (fromServer) => fromServer,
    }
  const { startFirebase } = await import('./firebase.ts')
  const firebase: FirebaseSession = await startFirebase({ ...config, apiKey })
  useBearerToken(() => firebase.token())
  return {
    methods: firebase,
    mayBeSignedIn: () => firebase.signedIn(),
    signOut: () => firebase.signOut(),
    // the server knows Firebase users by id only; the SDK knows their address
    email: (fromServer) => firebase.email() ?? fromServer,
  }
}
const identity = startIdentity()

/** What the first screen needs, requested together at boot rather than one after another. */
interface Prefetched {
  readonly accounts: Promise<{ accounts: AccountJson[] }>
  readonly media: Promise<MediaPage>
}

/** The platforms (Connect buttons, names, icons), asked for once at boot. */
const providers = api.providers()
providers.catch(() => undefined)

async function showProviders(): Promise<void> {
  const answer = await providers
  setPlatforms(answer.platforms)
  setPlayers(answer.providers)
  // one banner for every platform the built-in emulators serve
  const sandboxed = answer.providers.filter((p) => p.sandbox).map((p) => p.label)
  if (sandboxed.length > 0) {
    banner.replaceChildren(
      h('strong', {}, 'Sandbox. '),
      sandboxNotice(sandboxed).replace(/^Sandbox: /, ''),
    )
    banner.hidden = false
  }
}

function signedOut(methods: SignInMethods | null): void {
  who.replaceChildren()
  if (methods === null) {
    app.replaceChildren(firebaseNotConfiguredView())
    return
  }
  app.replaceChildren(authView(methods, () => void boot()))
  byId<HTMLInputElement>('email').focus()
}

function signedIn(email: string, prefetched: Prefetched, signedInAs: Identity): void {
  const signOut = h('button', { type: 'button' }, 'Sign out')
  signOut.addEventListener('click', () => {
    void signedInAs.signOut().then(() => signedOut(signedInAs.methods))
  })
  who.replaceChildren(h('span', { class: 'who-email' }, email), signOut)

  const gallery = new Gallery()
  const panel: AccountsPanel = new AccountsPanel({
    onChanged: () => {
      gallery.setAccounts(panel.accounts)
      void gallery.reload()
    },
    onReconnect: (account) => {
      void providers.then(({ providers: list }) => {
        const provider = list.find((p) => p.platform === account.platform)
        if (provider === undefined)
          notify('error', `@${account.username} cannot be reconnected from here`)
        else connect(provider)
      })
    },
  })
  /**
   * After a connection (or at boot): refresh the accounts, and sync a newly connected one — only
   * when the server verified that connection for this browser (a link cannot start a sync).
   */
  const afterConnect = (
    verified: LandingOutcome | null,
    accounts?: Prefetched['accounts'],
  ): void => {
    void panel.load(accounts).then(async () => {
      gallery.setAccounts(panel.accounts)
      if (verified?.connect !== 'success') return
      const account = panel.accounts.find((a) => a.id === verified.account)
      if (account !== undefined) await panel.sync(account)
    })
  }
  const connect = (provider: Provider): void =>
    startConnect(provider, (_params, verified) => afterConnect(verified))
  const toolbar = h('div', { class: 'toolbar' })
  void providers
    .then(({ providers: list, platforms }) => {
      // icons and names may arrive after the accounts did
      setPlatforms(platforms)
      setPlayers(list)
      panel.render()
      gallery.relabel()
      toolbar.replaceChildren(
        ...list.map((provider) => {
          const button = h(
            'button',
            { type: 'button', class: 'primary connect' },
            `Connect ${provider.label}`,
          )
          button.addEventListener('click', () => connect(provider))
          return button
        }),
      )
    })
    .catch((error: unknown) => {
      notify(
        'error',
        'Could not list the platforms to connect',
        error instanceof Error ? error.message : String(error),
      )
    })
  app.replaceChildren(toolbar, panel.element, gallery.element)

  const params = new URLSearchParams(window.location.search)
  const verified = verifiedOutcome()
  if (showCallbackOutcome(params, verified)) history.replaceState(null, '', '/gallery')
  gallery.prime(prefetched.media)
  void gallery.reload()
  afterConnect(verified, prefetched.accounts)
}

async function boot(): Promise<void> {
  void showProviders().catch(() => undefined)
  let current: Identity
  try {
    current = await identity
  } catch (error) {
    notify(
      'error',
      'Sign-in could not start',
      error instanceof Error ? error.message : String(error),
    )
    return
  }
  if (!current.mayBeSignedIn()) {
    signedOut(current.methods)
    return
  }
  const prefetched: Prefetched = { accounts: api.accounts(), media: api.media({}, null, PAGE_SIZE) }
  // signed out, these fail with 401: that answer comes from /api/auth/me below
  prefetched.accounts.catch(() => undefined)
  prefetched.media.catch(() => undefined)
  try {
    const me = await api.me()
    signedIn(current.email(me.user.email), prefetched, current)
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      const params = new URLSearchParams(window.location.search)
      if (showCallbackOutcome(params, verifiedOutcome())) history.replaceState(null, '', '/gallery')
      signedOut(current.methods)
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
