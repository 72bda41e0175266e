/**
 * @module clock — time as a dependency, so tests (and the emulator) can move it.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
}

export const systemClock: Clock = Object.freeze({ now: () => Date.now() })

/** A clock that starts at real time (or `startMs`) and can be moved forward or set. */
export interface ManualClock extends Clock {
  advance(ms: number): void
  set(ms: number): void
}

export function createManualClock(startMs: number = Date.now()): ManualClock {
  let offset = startMs - Date.now()
  return {
    now: () => Date.now() + offset,
    advance(ms) {
      offset += ms
    },
    set(ms) {
      offset = ms - Date.now()
    },
  }
}
