/**
 * @module store/leases — lease owners and the heartbeat that keeps a lease while its work runs.
 *
 * Every lease (a sync, a token renewal, a webhook attempt) names its owner, `<instance id>:<run
 * id>`: the instance id is made once per app (`buildApp`), the run id once per claim. Claims write
 * the owner; every write made under the lease is conditional on it (the store methods take the
 * owner and say whether they applied); a stopping instance releases the leases whose owner starts
 * with its instance id (`releaseOwned`).
 */
import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.ts'

/** Instance ids are plain (letters, digits, `-`) so that `<id>:%` matches exactly their owners. */
const INSTANCE_ID = /^[A-Za-z0-9-]{1,64}$/

/** A fresh instance id (one per app). */
export function newInstanceId(): string {
  return randomUUID()
}

/** Whether `id` can be an instance id (see `INSTANCE_ID`). */
export function isInstanceId(id: string): boolean {
  return INSTANCE_ID.test(id)
}

/** The owner of one run's lease: `<instance id>:<run id>`. */
export function leaseOwner(instanceId: string, runId: string = randomUUID()): string {
  if (!isInstanceId(instanceId))
    throw new Error(`not an instance id: ${JSON.stringify(instanceId)}`)
  return `${instanceId}:${runId}`
}

export interface Heartbeat {
  /** The lease was found held by someone else: the work stops at its next step. */
  readonly lost: boolean
  /** Records that the lease was just renewed by another write (a page's progress). */
  renewed(): void
  /** Records that a conditional write did not apply: the lease is gone. */
  lose(): void
  stop(): void
}

export interface HeartbeatOptions {
  readonly clock: Clock
  readonly leaseMs: number
  /** Renews the lease until `leaseUntil` if this run still owns it; `false` when it does not. */
  readonly renew: (leaseUntil: number) => Promise<boolean>
  /** A renewal that failed (the store unreachable): the lease may lapse; the next one retries. */
  readonly onError?: (error: unknown) => void
  /** Called once when the lease is found lost. */
  readonly onLost?: () => void
}

/**
 * Renews a lease every third of its length while the work holding it runs. The timer ticks at
 * least every second and renews once a third of the lease has passed on `clock` (so a test clock
 * moved forward renews at the next tick, as real time would), one renewal at a time.
 */
export function startHeartbeat(options: HeartbeatOptions): Heartbeat {
  const { clock, leaseMs } = options
  const every = leaseMs / 3
  let last = clock.now()
  let lost = false
  let busy = false
  const lose = (): void => {
    if (lost) return
    lost = true
    clearInterval(timer)
    options.onLost?.()
  }
  const timer = setInterval(
    () => {
      if (busy || lost || clock.now() - last < every) return
      busy = true
      const at = clock.now()
      options
        .renew(at + leaseMs)
        .then((held) => {
          if (held) last = at
          else lose()
        })
        .catch((error: unknown) => options.onError?.(error))
        .finally(() => {
          busy = false
        })
    },
    Math.max(10, Math.min(1000, every)),
  )
  timer.unref()
  return {
    get lost() {
      return lost
    },
    renewed() {
      last = clock.now()
    },
    lose,
    stop() {
      clearInterval(timer)
    },
  }
}
