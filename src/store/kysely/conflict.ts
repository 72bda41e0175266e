/**
 * @module store/kysely/conflict — a backend's unique-constraint violation as `ERR_CONFLICT`.
 */
import { GalleryError } from '../../errors.ts'
import type { KyselyStoreOptions } from './options.ts'

/** Throws `ERR_CONFLICT` with `message` for a unique violation, and any other error as it is. */
export function conflict(
  options: Pick<KyselyStoreOptions, 'isUniqueViolation'>,
  error: unknown,
  message: string,
): never {
  if (options.isUniqueViolation(error))
    throw new GalleryError('ERR_CONFLICT', message, { cause: error })
  throw error
}
