/**
 * @module web/lightbox — one post at a time in a modal <dialog>: ← → move through an album's
 * pictures and then to the neighbouring posts, Esc closes, focus returns to the tile.
 */
import type { MediaJson } from './api.ts'
import { formatDate, h } from './dom.ts'
import {
  durationOf,
  fullView,
  playerView,
  restriction,
  restrictionNote,
  spokenDuration,
} from './media.ts'
import { viewLabel } from './platforms.ts'

export interface LightboxSource {
  readonly count: () => number
  readonly item: (index: number) => MediaJson | undefined
  /** Loads more items when the viewer reaches the end; resolves false when there are none. */
  readonly more: () => Promise<boolean>
  readonly focusTile: (index: number) => void
  /** The platform the item comes from (for "View on …"). */
  readonly platformOf: (item: MediaJson) => string
}

/** What kind of post it is: "Photo", "Album of 3", "Video", "GIF", "Reel", "Short", "Live replay". */
export function kindOf(item: MediaJson): string {
  if (item.media_type === 'CAROUSEL_ALBUM') return `Album of ${item.children.length}`
  if (item.media_type !== 'VIDEO') return 'Photo'
  const product = item.media_product_type
  return product === 'ANIMATED_GIF'
    ? 'GIF'
    : product === 'SHORTS'
      ? 'Short'
      : product === 'LIVE'
        ? 'Live replay'
        : product === 'REELS'
          ? 'Reel'
          : 'Video'
}

/** The kind, with privacy and length when known: "Private short, 42 seconds". */
export function kindDetails(item: MediaJson): string {
  const kind = kindOf(item)
  const hidden = restriction(item)
  const seconds = durationOf(item)
  return (
    (hidden === null ? kind : `${hidden} ${kind.toLowerCase()}`) +
    (seconds === null ? '' : `, ${spokenDuration(seconds)}`)
  )
}

export function describe(item: MediaJson): string {
  const caption = item.caption ? `: ${item.caption.slice(0, 80)}` : ''
  return `${kindDetails(item)} from ${formatDate(item.timestamp)}${caption}`
}

export class Lightbox {
  readonly #dialog: HTMLDialogElement
  readonly #stage: HTMLElement
  readonly #info: HTMLElement
  readonly #position: HTMLElement
  readonly #prevChild: HTMLButtonElement
  readonly #nextChild: HTMLButtonElement
  readonly #close: HTMLButtonElement
  readonly #source: LightboxSource
  #index = 0
  #child = 0

  constructor(source: LightboxSource) {
    this.#source = source
    this.#stage = h('div', { class: 'lightbox-stage' })
    this.#info = h('div', { class: 'lightbox-info' })
    this.#position = h('span', { class: 'album-position', 'aria-live': 'polite' })
    this.#prevChild = h(
      'button',
      { type: 'button', 'aria-label': 'Previous picture in album' },
      '‹',
    )
    this.#nextChild = h('button', { type: 'button', 'aria-label': 'Next picture in album' }, '›')
    this.#close = h(
      'button',
      { type: 'button', class: 'lightbox-close', 'aria-label': 'Close viewer' },
      '×',
    )
    const prevPost = h(
      'button',
      { type: 'button', class: 'lightbox-prev', 'aria-label': 'Previous post' },
      '←',
    )
    const nextPost = h(
      'button',
      { type: 'button', class: 'lightbox-next', 'aria-label': 'Next post' },
      '→',
    )
    this.#dialog = h(
      'dialog',
      { class: 'lightbox', 'aria-label': 'Media viewer' },
      this.#close,
      prevPost,
      this.#stage,
      nextPost,
      h('div', { class: 'album-controls' }, this.#prevChild, this.#position, this.#nextChild),
      this.#info,
    )
    this.#close.addEventListener('click', () => this.close())
    prevPost.addEventListener('click', () => void this.#move(-1, false))
    nextPost.addEventListener('click', () => void this.#move(1, false))
    this.#prevChild.addEventListener('click', () => this.#moveChild(-1))
    this.#nextChild.addEventListener('click', () => this.#moveChild(1))
    this.#dialog.addEventListener('keydown', (event) => {
      if (event.key === 'ArrowLeft') {
        event.preventDefault()
        void this.#move(-1, true)
      } else if (event.key === 'ArrowRight') {
        event.preventDefault()
        void this.#move(1, true)
      }
    })
    // an embedded player would keep playing in the closed dialog: it goes as the dialog closes
    // (Esc fires `cancel` at once, `close` only a task later)
    this.#dialog.addEventListener('cancel', () => this.#stage.replaceChildren())
    this.#dialog.addEventListener('close', () => {
      this.#stage.replaceChildren()
      this.#source.focusTile(this.#index)
    })
    this.#dialog.addEventListener('click', (event) => {
      if (event.target === this.#dialog) this.close()
    })
    document.body.append(this.#dialog)
  }

  get isOpen(): boolean {
    return this.#dialog.open
  }

  open(index: number): void {
    this.#index = index
    this.#child = 0
    this.#render()
    if (!this.#dialog.open) this.#dialog.showModal()
    this.#close.focus()
  }

  /**
   * The archive finished the item at `index`: what the viewer shows of it is drawn again, unless
   * it is already playing or showing its archived copy.
   */
  archived(index: number): void {
    if (!this.#dialog.open || index !== this.#index) return
    if (this.#stage.querySelector('video, iframe, .pic.loaded') !== null) return
    this.#render()
  }

  close(): void {
    this.#stage.replaceChildren()
    if (this.#dialog.open) this.#dialog.close()
  }

  #moveChild(step: number): boolean {
    const item = this.#source.item(this.#index)
    if (item === undefined || item.children.length === 0) return false
    const next = this.#child + step
    if (next < 0 || next >= item.children.length) return false
    this.#child = next
    this.#render()
    return true
  }

  /** With `throughAlbum`, arrows page through an album before leaving it (as on Instagram). */
  async #move(step: number, throughAlbum: boolean): Promise<void> {
    if (throughAlbum && this.#moveChild(step)) return
    let next = this.#index + step
    if (next < 0) return
    if (next >= this.#source.count() && !(await this.#source.more())) return
    next = Math.min(next, this.#source.count() - 1)
    this.#index = next
    const item = this.#source.item(next)
    this.#child =
      step < 0 && throughAlbum && item !== undefined && item.children.length > 0
        ? item.children.length - 1
        : 0
    this.#render()
  }

  #render(): void {
    const item = this.#source.item(this.#index)
    if (item === undefined) return
    const child = item.children[this.#child]
    const shown = item.media_type === 'CAROUSEL_ALBUM' && child !== undefined ? child : item
    const alt = item.caption ? item.caption.slice(0, 120) : describe(item)
    const platform = this.#source.platformOf(item)
    // a video with no file of its own (YouTube's, TikTok's) never becomes an empty <video>
    this.#stage.replaceChildren(
      shown === item && item.media_type === 'VIDEO' && item.media_url === null
        ? playerView(item, platform, alt)
        : fullView(shown, alt),
    )
    const isAlbum = item.children.length > 0
    this.#prevChild.hidden = !isAlbum
    this.#nextChild.hidden = !isAlbum
    this.#prevChild.disabled = this.#child === 0
    this.#nextChild.disabled = this.#child >= item.children.length - 1
    this.#position.textContent = isAlbum
      ? `Picture ${this.#child + 1} of ${item.children.length}`
      : ''
    this.#info.replaceChildren(
      item.caption ? h('p', { class: 'caption' }, item.caption) : '',
      h(
        'p',
        { class: 'meta' },
        h('time', { datetime: item.timestamp }, formatDate(item.timestamp)),
        ' · ',
        kindDetails(item),
      ),
      restriction(item) === null
        ? ''
        : h('p', { class: 'meta' }, restrictionNote(item, platform) ?? ''),
      item.permalink
        ? h(
            'a',
            { href: item.permalink, target: '_blank', rel: 'noopener noreferrer' },
            viewLabel(platform),
          )
        : '',
    )
  }
}
