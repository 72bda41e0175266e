/**
 * @module web/accounts — the accounts panel: platform, @username, a status badge, last sync,
 * post count, and Sync now / Reconnect / Disconnect (with confirmation).
 */
import { api, ApiError, type AccountJson, type SyncResult } from './api.ts'
import { formatDateTime, h } from './dom.ts'
import { confirmDialog } from './dialog.ts'
import { notify } from './notices.ts'
import { iconPath } from './platforms.ts'

const DAY = 86_400_000
const EXPIRY_WARNING_DAYS = 7

export interface Badge {
  readonly label: string
  readonly tone: 'ok' | 'warn' | 'bad' | 'busy'
}

/** The status badge for an account, from its status and token expiry. */
export function badgeFor(account: AccountJson, syncing: boolean, now = Date.now()): Badge {
  if (syncing || account.sync_in_progress) return { label: 'Syncing…', tone: 'busy' }
  if (account.account_type === 'public') return { label: 'Profile link', tone: 'ok' }
  if (account.status === 'reauth_required' || account.status === 'revoked')
    return { label: 'Needs reconnect', tone: 'bad' }
  if (account.status === 'error') return { label: 'Error', tone: 'bad' }
  if (account.status === 'rate_limited') return { label: 'Paused: rate limit', tone: 'warn' }
  if (account.status === 'degraded') return { label: 'Retrying soon', tone: 'warn' }
  if (account.token_expires_at !== null) {
    const days = Math.ceil((Date.parse(account.token_expires_at) - now) / DAY)
    if (days <= 0) return { label: 'Needs reconnect', tone: 'bad' }
    if (days <= EXPIRY_WARNING_DAYS)
      return { label: `Expiring soon: ${days} day${days === 1 ? '' : 's'} left`, tone: 'warn' }
  }
  return { label: 'Active', tone: 'ok' }
}

function icon(platform: string): SVGSVGElement {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg')
  svg.setAttribute('viewBox', '0 0 24 24')
  svg.setAttribute('class', 'platform-icon')
  svg.setAttribute('aria-hidden', 'true')
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path')
  path.setAttribute('d', iconPath(platform))
  svg.append(path)
  return svg
}

export interface AccountsPanelOptions {
  readonly onChanged: () => void
  /** Starts a new connection to the account's own platform. */
  readonly onReconnect: (account: AccountJson) => void
}

export class AccountsPanel {
  readonly element: HTMLElement
  #accounts: AccountJson[] = []
  readonly #syncing = new Set<string>()
  readonly #options: AccountsPanelOptions

  constructor(options: AccountsPanelOptions) {
    this.#options = options
    this.element = h('section', { class: 'accounts', 'aria-labelledby': 'accounts-title' })
  }

  get accounts(): readonly AccountJson[] {
    return this.#accounts
  }

  /** Loads the accounts, or takes an answer already requested. */
  async load(prefetched?: Promise<{ accounts: AccountJson[] }>): Promise<void> {
    const { accounts } = await (prefetched ?? api.accounts())
    this.#accounts = accounts
    this.render()
  }

  /** Syncs one account, with visible progress; resolves when done (never rejects). */
  async sync(account: AccountJson): Promise<SyncResult | null> {
    if (this.#syncing.has(account.id)) return null
    this.#syncing.add(account.id)
    this.render()
    try {
      const result = await api.sync(account.id)
      notify(
        'ok',
        `Synced @${account.username}`,
        `${result.added} new, ${result.updated} updated, ${result.removed} removed.`,
      )
      return result
    } catch (error) {
      const message = error instanceof ApiError ? error.message : String(error)
      notify(
        'error',
        `Could not sync @${account.username}`,
        error instanceof ApiError && error.code === 'ERR_REAUTH_REQUIRED'
          ? `${message}. Press “Reconnect”: your gallery is kept.`
          : message,
      )
      return null
    } finally {
      this.#syncing.delete(account.id)
      await this.load().catch(() => undefined)
      this.#options.onChanged()
    }
  }

  render(): void {
    const title = h('h2', { id: 'accounts-title' }, 'Connected accounts')
    if (this.#accounts.length === 0) {
      this.element.replaceChildren(
        title,
        h(
          'p',
          { class: 'empty' },
          'No account yet. Connect one above to see your media here (on Instagram: a professional account, Business or Creator).',
        ),
      )
      return
    }
    const list = h('ul', { class: 'account-list' })
    for (const account of this.#accounts) list.append(this.#row(account))
    this.element.replaceChildren(title, list)
  }

  #row(account: AccountJson): HTMLLIElement {
    const syncing = this.#syncing.has(account.id)
    const badge = badgeFor(account, syncing)
    const name =
      account.account_type === 'public'
        ? h(
            'a',
            {
              href: account.profile_url,
              target: '_blank',
              rel: 'noopener noreferrer',
              class: 'account-name',
            },
            `@${account.username}`,
          )
        : h('span', { class: 'account-name' }, `@${account.username}`)
    const meta = h(
      'span',
      { class: 'account-meta' },
      account.account_type === 'public'
        ? 'Public profile link'
        : `${account.posts_count ?? 0} posts · ${account.last_sync ? `last sync ${formatDateTime(account.last_sync)}` : 'never synced'}`,
    )
    const actions = h('span', { class: 'account-actions' })
    if (account.account_type === 'oauth') {
      const sync = h(
        'button',
        { type: 'button', 'aria-busy': syncing ? 'true' : 'false', disabled: syncing },
        syncing ? 'Syncing…' : 'Sync now',
      )
      sync.addEventListener('click', () => void this.sync(account))
      actions.append(sync)
      if (badge.label === 'Needs reconnect' || account.needs_reconnect) {
        const reconnect = h('button', { type: 'button', class: 'primary' }, 'Reconnect')
        reconnect.addEventListener('click', () => this.#options.onReconnect(account))
        actions.append(reconnect)
      }
    }
    const disconnect = h(
      'button',
      { type: 'button', class: 'danger', 'aria-label': `Disconnect @${account.username}` },
      'Disconnect',
    )
    disconnect.addEventListener('click', () => void this.#disconnect(account, disconnect))
    actions.append(disconnect)
    return h(
      'li',
      { class: 'account', 'data-account-id': account.id },
      icon(account.platform),
      h(
        'span',
        { class: 'account-main' },
        name,
        meta,
        account.status_message && badge.tone !== 'ok'
          ? h('span', { class: 'account-message' }, account.status_message)
          : null,
      ),
      h('span', { class: `badge ${badge.tone}`, 'data-status': account.status }, badge.label),
      actions,
    )
  }

  async #disconnect(account: AccountJson, returnFocus: HTMLElement): Promise<void> {
    const ok = await confirmDialog({
      title: `Disconnect @${account.username}?`,
      body:
        account.account_type === 'oauth'
          ? 'Its token and all its media are deleted from this gallery. You can connect it again later.'
          : 'The profile link is removed.',
      confirm: 'Disconnect',
      returnFocus,
    })
    if (!ok) return
    try {
      await api.disconnect(account.id)
      notify('ok', `@${account.username} disconnected.`)
    } catch (error) {
      notify(
        'error',
        'Could not disconnect',
        error instanceof Error ? error.message : String(error),
      )
    }
    await this.load()
    this.#options.onChanged()
  }
}
