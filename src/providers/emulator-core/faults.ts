/**
 * @module providers/emulator-core/faults — the fault queue every emulator shares: faults are
 * plain objects with a `count` and an optional `path` (a substring of the request path); a request
 * takes the first matching one, which counts down and leaves the queue at zero. What a fault
 * does (a 5xx, a throttle in the platform's own error shape) is the platform's business.
 */
import { ControlError } from './control-input.ts'

/** What the queue needs of a fault; a platform's fault union extends it. */
export interface QueuedFault {
  count: number
  /** A substring of the request path; absent: any request. */
  path?: string
}

/** Takes the first fault matching `path`, decrementing its count. */
export function takeFault<F extends QueuedFault>(faults: F[], path: string): F | null {
  const index = faults.findIndex((f) => f.path === undefined || path.includes(f.path))
  if (index < 0) return null
  const fault = faults[index]
  if (fault === undefined) return null
  fault.count -= 1
  if (fault.count <= 0) faults.splice(index, 1)
  return fault
}

/** Queues a validated fault, at most `max` at once (else 400); returns how many are queued. */
export function queueFault<F extends QueuedFault>(faults: F[], fault: F, max: number): number {
  if (faults.length >= max)
    throw new ControlError(400, `at most ${max} faults can be queued; clear them first`)
  faults.push(fault)
  return faults.length
}
