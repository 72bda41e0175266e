/**
 * @module http/page-cache — rendered media pages kept in memory, each with the user's gallery
 * version it was rendered at (`Store.getGalleryVersion`). A page is served again only while that
 * version is still the stored one, which database triggers move in the same transaction as any
 * change to the user's media or accounts: never stale, on any number of instances, at the price
 * of one indexed lookup instead of the media queries and the rendering.
 *
 * Bounded by total size (least recently used pages go first).
 */
export class PageCache {
  readonly #maxBytes: number
  readonly #pages = new Map<string, { version: number; body: string }>()
  #bytes = 0

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes
  }

  /** The page under `key` if it was rendered at `version`. */
  get(key: string, version: number): string | undefined {
    const page = this.#pages.get(key)
    if (page === undefined) return undefined
    this.#pages.delete(key)
    if (page.version !== version) {
      this.#bytes -= page.body.length
      return undefined
    }
    this.#pages.set(key, page) // most recently used last
    return page.body
  }

  set(key: string, version: number, body: string): void {
    if (body.length > this.#maxBytes / 8) return // a page that big is not worth keeping
    const old = this.#pages.get(key)
    if (old !== undefined) {
      this.#pages.delete(key)
      this.#bytes -= old.body.length
    }
    this.#pages.set(key, { version, body })
    this.#bytes += body.length
    for (const [oldest, page] of this.#pages) {
      if (this.#bytes <= this.#maxBytes) break
      this.#pages.delete(oldest)
      this.#bytes -= page.body.length
    }
  }

  get size(): { pages: number; bytes: number } {
    return { pages: this.#pages.size, bytes: this.#bytes }
  }
}
