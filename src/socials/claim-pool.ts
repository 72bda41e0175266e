/**
 * @module socials/claim-pool — the way background work is taken: workers start one by one, only
 * while there is work, and each claims just the item it will handle at once (its lease is never
 * held by an item waiting in a queue). A pass with nothing due costs one claim.
 */

export interface ClaimPoolOptions<T> {
  /** Workers at most (at least one). */
  readonly concurrency: number
  /** Items started at most in this pass. */
  readonly max: number
  /** Checked before every claim: once true, no worker claims again. */
  readonly stopped: () => boolean
  /** Leases one item; `undefined` when nothing is due. */
  readonly claim: () => Promise<T | undefined>
  /** Handles a claimed item; its errors end that worker's pass (the caller records outcomes). */
  readonly work: (item: T) => Promise<void>
}

/** Runs the pass; resolves when every worker is done, with how many items were started. */
export async function drainClaims<T>(options: ClaimPoolOptions<T>): Promise<number> {
  let started = 0
  const workers = new Set<Promise<void>>()
  const spawn = (): void => {
    const promise: Promise<void> = worker().finally(() => workers.delete(promise))
    workers.add(promise)
  }
  const worker = async (): Promise<void> => {
    while (started < options.max && !options.stopped()) {
      const item = await options.claim()
      if (item === undefined) return
      started++
      if (workers.size < Math.max(1, options.concurrency)) spawn()
      await options.work(item)
    }
  }
  spawn()
  while (workers.size > 0) await Promise.all([...workers])
  return started
}
