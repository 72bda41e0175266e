/**
 * @module web/gallery — the grid: fixed-ratio tiles (no layout shift), lazy pictures from our own
 * archive sized for the tile (placeholders first; tiles the archive has not finished are asked
 * about again, less and less often, and swapped in when ready), video and album badges (and a
 * video's length, Shorts / Live, privacy), filters (platform, account, kind), infinite scroll on
 * the keyset cursor with a "Load more" fallback, and windowing: only the rows near the viewport
 * are in the DOM, so it stays small at any size. Arrow keys move between tiles; Enter opens the
 * lightbox.
 */
import { api, type AccountJson, type MediaFilter, type MediaJson, type MediaPage } from './api.ts'
import { h } from './dom.ts'
import { describe, Lightbox } from './lightbox.ts'
import { archivedPicture, awaitsArchive, previewArchive, type ArchiveJson } from './archive.ts'
import { tileBadges } from './media.ts'
import { notify } from './notices.ts'
import { QUOTA_REASON } from '../../src/archive/quota.ts'
import { platformLabel } from './platforms.ts'

export const PAGE_SIZE = 60
const GAP = 8
const MIN_TILE = 160
const BUFFER_ROWS = 3
/** Asking again about media the archive has not finished: 2 s, then ×1.5 up to a minute. */
const ARCHIVE_POLL_FIRST_MS = 2_000
const ARCHIVE_POLL_MAX_MS = 60_000
/** The server answers for at most this many ids at once. */
const ARCHIVE_POLL_IDS = 100

export class Gallery {
  readonly element: HTMLElement
  readonly #wrap: HTMLElement
  readonly #status: HTMLElement
  readonly #more: HTMLButtonElement
  readonly #platformFilter: HTMLSelectElement
  /** The platform filter's label; shown only with accounts on two platforms or more. */
  readonly #platformField: HTMLElement
  readonly #accountFilter: HTMLSelectElement
  readonly #typeFilter: HTMLSelectElement
  readonly #lightbox: Lightbox
  /** Account id → platform, for the viewer's "View on …" link. */
  #platforms = new Map<string, string>()
  #accounts: readonly AccountJson[] = []
  #items: MediaJson[] = []
  #cursor: string | null = null
  #loading: Promise<boolean> | null = null
  #filter: MediaFilter = {}
  #generation = 0
  /** A reload is under way: the tiles shown stay until its first page replaces them. */
  #replacing = false
  /** A first page is on its way: an empty grid means "loading", not "no media". */
  #firstPending = false
  #columns = 1
  #tile = MIN_TILE
  /** Mounted tiles, in index order: [first, first + mounted.length). */
  #first = 0
  #mounted: HTMLElement[] = []
  #frame = 0
  #hasAccounts = false
  /** A first page requested early (at boot, in parallel with the other calls). */
  #primed: Promise<MediaPage> | null = null
  #archivePoll = 0
  #archiveDelay = ARCHIVE_POLL_FIRST_MS
  /** The archive-full notice is given once per page. */
  #toldFull = false

  constructor() {
    this.#platformFilter = h(
      'select',
      { id: 'filter-platform' },
      h('option', { value: '' }, 'All platforms'),
    )
    this.#platformField = h(
      'label',
      { for: 'filter-platform', hidden: true },
      'Platform',
      this.#platformFilter,
    )
    this.#accountFilter = h(
      'select',
      { id: 'filter-account' },
      h('option', { value: '' }, 'All accounts'),
    )
    this.#typeFilter = h(
      'select',
      { id: 'filter-type' },
      h('option', { value: '' }, 'All media'),
      h('option', { value: 'IMAGE' }, 'Photos'),
      h('option', { value: 'VIDEO' }, 'Videos'),
      h('option', { value: 'CAROUSEL_ALBUM' }, 'Albums'),
    )
    for (const select of [this.#accountFilter, this.#typeFilter])
      select.addEventListener('change', () => void this.#applyFilters())
    // a platform narrows the account list to its accounts
    this.#platformFilter.addEventListener('change', () => {
      this.#renderFilters()
      void this.#applyFilters()
    })
    this.#wrap = h('div', { class: 'grid', role: 'list', 'aria-label': 'Media' })
    this.#status = h('div', { class: 'gallery-status', role: 'status' })
    this.#more = h('button', { type: 'button', class: 'load-more', hidden: true }, 'Load more')
    this.#more.addEventListener('click', () => void this.loadMore())
    this.element = h(
      'section',
      { class: 'gallery', 'aria-labelledby': 'gallery-title' },
      h(
        'div',
        { class: 'gallery-head' },
        h('h2', { id: 'gallery-title' }, 'Gallery'),
        this.#platformField,
        h('label', { for: 'filter-account' }, 'Account', this.#accountFilter),
        h('label', { for: 'filter-type' }, 'Type', this.#typeFilter),
      ),
      this.#status,
      this.#wrap,
      this.#more,
    )
    this.#lightbox = new Lightbox({
      count: () => this.#items.length,
      item: (i) => this.#items[i],
      more: () => this.loadMore(),
      focusTile: (i) => this.#focusTile(i),
      platformOf: (item) => this.#platforms.get(item.account_id) ?? '',
    })
    this.#wrap.addEventListener('keydown', (event) => this.#onKey(event))
    window.addEventListener('scroll', () => this.#schedule(), { passive: true })
    window.addEventListener('resize', () => {
      this.#measure()
      this.#schedule()
    })
    // a hidden page asks nothing; shown again, it asks at once
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.#watchArchive(true)
    })
  }

  /** Uses `page` as the unfiltered first page instead of fetching it again. */
  prime(page: Promise<MediaPage>): void {
    this.#primed = page
  }

  /** The filters follow the accounts (no reload unless a chosen one is gone). */
  setAccounts(accounts: readonly AccountJson[]): void {
    this.#hasAccounts = accounts.length > 0
    this.#accounts = accounts
    this.#platforms = new Map(accounts.map((a) => [a.id, a.platform]))
    this.relabel()
  }

  /** Platform names or accounts arrived: the filters' options and the tiles' badges say them. */
  relabel(): void {
    if (this.#renderFilters()) void this.#applyFilters()
    else if (this.#items.length > 0) {
      this.#unmountAll()
      this.#render()
    } else if (this.#loading === null) this.#update()
  }

  /**
   * Rebuilds the platform and account options, keeping the choices that still exist; true when a
   * choice had to be dropped (the grid then reloads).
   */
  #renderFilters(): boolean {
    const oauth = this.#accounts.filter((a) => a.account_type === 'oauth')
    const platforms = [...new Set(oauth.map((a) => a.platform))]
    const several = platforms.length > 1
    const platform = this.#platformFilter.value
    const account = this.#accountFilter.value
    this.#platformFilter.replaceChildren(
      h('option', { value: '' }, 'All platforms'),
      ...platforms.map((p) =>
        h('option', { value: p, selected: p === platform }, platformLabel(p)),
      ),
    )
    if (!several) this.#platformFilter.value = ''
    this.#platformField.hidden = !several
    const chosen = this.#platformFilter.value
    this.#accountFilter.replaceChildren(
      h('option', { value: '' }, 'All accounts'),
      ...oauth
        .filter((a) => chosen === '' || a.platform === chosen)
        .map((a) =>
          h(
            'option',
            { value: a.id, selected: a.id === account },
            several ? `@${a.username} (${platformLabel(a.platform)})` : `@${a.username}`,
          ),
        ),
    )
    return this.#platformFilter.value !== platform || this.#accountFilter.value !== account
  }

  /** Reloads the grid from its first page. */
  reload(): Promise<void> {
    return this.#applyFilters()
  }

  async #applyFilters(): Promise<void> {
    this.#filter = {
      ...(this.#platformFilter.value ? { platform: this.#platformFilter.value } : {}),
      ...(this.#accountFilter.value ? { account_id: this.#accountFilter.value } : {}),
      ...(this.#typeFilter.value ? { media_type: this.#typeFilter.value } : {}),
    }
    this.#generation++
    // the tiles shown stay (busy) until the new first page replaces them: no flash of an
    // empty gallery, and no false "no media" while a slow answer is on its way
    this.#replacing = true
    this.#firstPending = true
    this.#cursor = null
    this.#loading = null
    this.#update()
    await this.loadMore(true)
  }

  /** Fetches the next page; resolves true when items were added. */
  loadMore(first = false): Promise<boolean> {
    if (this.#loading !== null) return this.#loading
    if (!first && this.#cursor === null) return Promise.resolve(false)
    const generation = this.#generation
    if (first) this.#firstPending = true
    this.#more.disabled = true
    this.#more.textContent = 'Loading…'
    this.#wrap.setAttribute('aria-busy', 'true')
    const unfiltered = !this.#filtered()
    const primed = first && unfiltered ? this.#primed : null
    this.#primed = null
    this.#loading = (primed ?? api.media(this.#filter, this.#cursor, PAGE_SIZE))
      .then((page) => {
        if (generation !== this.#generation) return false
        if (this.#replacing) this.#clear()
        this.#firstPending = false
        this.#items.push(...page.items)
        this.#cursor = page.next_cursor
        this.#update()
        this.#watchArchive(true)
        this.#tellIfFull(page.items)
        return page.items.length > 0
      })
      .catch((error: unknown) => {
        if (generation === this.#generation) this.#firstPending = false
        if (generation === this.#generation && this.#replacing) {
          // what is shown belongs to other filters: say so rather than keep it
          this.#clear()
          this.#update()
          this.#status.textContent = 'Could not load media. Change a filter or reload to try again.'
        }
        notify(
          'error',
          'Could not load media',
          error instanceof Error ? error.message : String(error),
        )
        return false
      })
      .finally(() => {
        if (generation === this.#generation) this.#loading = null
        this.#more.disabled = false
        this.#more.textContent = 'Load more'
        this.#wrap.removeAttribute('aria-busy')
      })
    return this.#loading
  }

  #clear(): void {
    this.#replacing = false
    this.#items = []
    this.#measure() // the layout may have changed since (accounts added above the grid)
  }

  #update(): void {
    const rows = Math.ceil(this.#items.length / this.#columns)
    this.#wrap.style.height = `${Math.max(0, rows * (this.#tile + GAP) - GAP)}px`
    this.#more.hidden = this.#cursor === null
    if (this.#items.length === 0 && this.#firstPending) {
      this.#status.textContent = 'Loading…'
    } else if (this.#items.length === 0) {
      this.#status.textContent = this.#filtered()
        ? `No media match these filters. Choose ${this.#platformField.hidden ? '' : '“All platforms”, '}“All accounts” and “All media” to see everything.`
        : this.#hasAccounts
          ? 'No media yet. Press “Sync now” on an account to fetch its posts.'
          : 'Your gallery is empty. Connect an account above to fill it.'
    } else {
      this.#status.textContent = `${this.#items.length}${this.#cursor === null ? '' : '+'} items`
    }
    this.#render()
  }

  #filtered(): boolean {
    const { platform, account_id, media_type } = this.#filter
    return platform !== undefined || account_id !== undefined || media_type !== undefined
  }

  #measure(): void {
    const width = this.#wrap.clientWidth || this.element.clientWidth || 320
    this.#columns = Math.max(2, Math.floor((width + GAP) / (MIN_TILE + GAP)))
    this.#tile = Math.floor((width - GAP * (this.#columns - 1)) / this.#columns)
    this.#unmountAll()
    this.#update()
  }

  #schedule(): void {
    if (this.#frame !== 0) return
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0
      this.#render()
    })
  }

  /** Mounts the rows near the viewport, keeping DOM order equal to item order. */
  #render(): void {
    const rowHeight = this.#tile + GAP
    const top = this.#wrap.getBoundingClientRect().top
    const firstRow = Math.max(0, Math.floor(-top / rowHeight) - BUFFER_ROWS)
    const lastRow = Math.floor((window.innerHeight - top) / rowHeight) + BUFFER_ROWS
    const start = Math.min(this.#items.length, firstRow * this.#columns)
    const end = Math.min(this.#items.length, (lastRow + 1) * this.#columns)
    this.#mountRange(start, end)
    const totalRows = Math.ceil(this.#items.length / this.#columns)
    if (this.#cursor !== null && lastRow >= totalRows - BUFFER_ROWS) void this.loadMore()
  }

  #mountRange(start: number, end: number): void {
    const oldEnd = this.#first + this.#mounted.length
    if (end <= start || start >= oldEnd || end <= this.#first) {
      this.#unmountAll()
      this.#first = start
      for (let i = start; i < end; i++) this.#mounted.push(this.#tileFor(i))
      this.#wrap.append(...this.#mounted)
      return
    }
    while (this.#first < start) {
      this.#mounted.shift()?.remove()
      this.#first++
    }
    while (this.#first + this.#mounted.length > end) this.#mounted.pop()?.remove()
    for (let i = this.#first - 1; i >= start; i--) {
      const tile = this.#tileFor(i)
      this.#wrap.prepend(tile)
      this.#mounted.unshift(tile)
      this.#first = i
    }
    for (let i = this.#first + this.#mounted.length; i < end; i++) {
      const tile = this.#tileFor(i)
      this.#wrap.append(tile)
      this.#mounted.push(tile)
    }
  }

  #unmountAll(): void {
    for (const tile of this.#mounted) tile.remove()
    this.#mounted = []
    this.#first = 0
  }

  #tileFor(index: number): HTMLElement {
    const item = this.#items[index]
    if (item === undefined) return h('div')
    const x = (index % this.#columns) * (this.#tile + GAP)
    const y = Math.floor(index / this.#columns) * (this.#tile + GAP)
    const platform = this.#platforms.get(item.account_id) ?? ''
    const tile = h(
      'button',
      {
        type: 'button',
        class: 'tile',
        role: 'listitem',
        'data-index': index,
        'data-platform': platform,
        'aria-label': `Open ${describe(item)}`,
      },
      archivedPicture(
        previewArchive(item),
        item.caption ? item.caption.slice(0, 120) : describe(item),
        { sizes: `${this.#tile}px`, lazy: true, fit: 'cover' },
      ),
      ...tileBadges(item, platform),
    )
    // CSSOM, not a style attribute: the CSP allows no inline styles.
    tile.style.width = `${this.#tile}px`
    tile.style.height = `${this.#tile}px`
    tile.style.transform = `translate(${x}px, ${y}px)`
    tile.addEventListener('click', () => this.#lightbox.open(index))
    return tile
  }

  /**
   * Asks the server about the media the archive has not finished (the tiles on screen first),
   * after a delay that grows while nothing changes and starts again at 2 s when something did or
   * new items arrived (`fresh`). Stops when nothing is left to wait for, and while the page is
   * hidden.
   */
  #watchArchive(fresh = false): void {
    if (fresh) this.#archiveDelay = ARCHIVE_POLL_FIRST_MS
    if (this.#archivePoll !== 0) {
      if (!fresh) return
      window.clearTimeout(this.#archivePoll)
      this.#archivePoll = 0
    }
    if (document.visibilityState === 'hidden' || this.#awaiting().length === 0) return
    this.#archivePoll = window.setTimeout(() => {
      this.#archivePoll = 0
      void this.#pollArchive()
    }, this.#archiveDelay)
  }

  /** Once per page: some posts' copies were not kept because the archive is full. */
  #tellIfFull(items: readonly MediaJson[]): void {
    if (this.#toldFull || !items.some((m) => m.archive.reason === QUOTA_REASON)) return
    this.#toldFull = true
    notify(
      'error',
      'Your archive is full',
      'The newest posts are kept; older ones show “Not archived”. Disconnect an account you no longer need, or ask the operator for more room.',
    )
  }

  /** The ids of media still waiting for the archive, those of the mounted tiles first. */
  #awaiting(): string[] {
    const order = [
      ...this.#items.slice(this.#first, this.#first + this.#mounted.length),
      ...this.#items,
    ]
    const ids = new Set<string>()
    for (const item of order) {
      if (awaitsArchive(item)) ids.add(item.id)
      for (const child of item.children) if (awaitsArchive(child)) ids.add(child.id)
      if (ids.size >= ARCHIVE_POLL_IDS) break
    }
    return [...ids].slice(0, ARCHIVE_POLL_IDS)
  }

  async #pollArchive(): Promise<void> {
    const generation = this.#generation
    const ids = this.#awaiting()
    if (ids.length === 0) return
    let changed = false
    try {
      const { archives } = await api.archives(ids)
      if (generation !== this.#generation) return
      changed = this.#applyArchives(archives)
    } catch {
      // offline or signed out: ask again later (the page says what is wrong elsewhere)
    }
    this.#archiveDelay = changed
      ? ARCHIVE_POLL_FIRST_MS
      : Math.min(ARCHIVE_POLL_MAX_MS, Math.round(this.#archiveDelay * 1.5))
    this.#watchArchive()
  }

  /** Takes the new archive states in; redraws the tiles (and the viewer) they change. */
  #applyArchives(archives: Record<string, ArchiveJson>): boolean {
    const same = (a: ArchiveJson, b: ArchiveJson | undefined): boolean =>
      b === undefined || (a.state === b.state && a.video?.state === b.video?.state)
    let changed = false
    this.#items.forEach((item, index) => {
      let touched = false
      const own = archives[item.id]
      if (!same(item.archive, own) && own !== undefined) {
        item.archive = own
        touched = true
      }
      for (const child of item.children) {
        const next = archives[child.id]
        if (!same(child.archive, next) && next !== undefined) {
          child.archive = next
          touched = true
        }
      }
      if (!touched) return
      changed = true
      this.#redrawTile(index)
      this.#lightbox.archived(index)
    })
    return changed
  }

  /** Replaces a mounted tile by a fresh one (keeping the keyboard focus on it). */
  #redrawTile(index: number): void {
    const old = this.#mounted[index - this.#first]
    if (old === undefined) return
    const focused = document.activeElement === old
    const tile = this.#tileFor(index)
    old.replaceWith(tile)
    this.#mounted[index - this.#first] = tile
    if (focused) tile.focus()
  }

  #focusTile(index: number): void {
    const rowTop = Math.floor(index / this.#columns) * (this.#tile + GAP)
    const wrapTop = this.#wrap.getBoundingClientRect().top + window.scrollY
    const viewTop = window.scrollY
    const y = wrapTop + rowTop
    if (y < viewTop || y + this.#tile > viewTop + window.innerHeight)
      window.scrollTo({ top: y - 80 })
    this.#render()
    const tile = this.#mounted[index - this.#first]
    tile?.focus()
  }

  #onKey(event: KeyboardEvent): void {
    const target = event.target
    if (!(target instanceof HTMLElement) || !target.classList.contains('tile')) return
    const index = Number(target.dataset.index)
    const moves: Record<string, number> = {
      ArrowRight: 1,
      ArrowLeft: -1,
      ArrowDown: this.#columns,
      ArrowUp: -this.#columns,
      Home: -index,
      End: this.#items.length - 1 - index,
    }
    const step = moves[event.key]
    if (step === undefined) return
    event.preventDefault()
    const next = Math.max(0, Math.min(this.#items.length - 1, index + step))
    this.#focusTile(next)
    if (next >= this.#items.length - this.#columns) void this.loadMore()
  }
}
