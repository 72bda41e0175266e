/**
 * @module store/kysely/outage — backend outages as one clear, retryable error.
 */
import { GalleryError } from '../../errors.ts'

/**
 * Every store method, with backend outages turned into one clear, retryable error: a request
 * during a database restart answers 503 with the JSON envelope, and recovers by itself after.
 */
export function reportingOutages<T extends object>(
  store: T,
  isUnavailable: (error: unknown) => boolean,
): T {
  const wrapped: Record<string, unknown> = {}
  for (const [name, method] of Object.entries(store) as [string, (...a: unknown[]) => unknown][]) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await method(...args)
      } catch (error) {
        if (error instanceof GalleryError || !isUnavailable(error)) throw error
        throw new GalleryError('ERR_STORE', 'The database is unavailable; try again in a moment', {
          cause: error,
          retryAfterSeconds: 5,
        })
      }
    }
  }
  return wrapped as T
}
