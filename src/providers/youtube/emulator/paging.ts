/**
 * @module providers/youtube/emulator/paging — YouTube's list paging: `maxResults` (0 to 50, 5 by
 * default, anything else a 400 like Google's), opaque `pageToken`s (`nextPageToken` absent on
 * the last page, `prevPageToken` absent on the first) and `pageInfo`. A token encodes the offset
 * it starts at; one the emulator did not issue answers 400 `invalidPageToken`.
 */
import { one } from '../../emulator-core/query.ts'
import { apiError, invalidParameter } from './errors.ts'

export const DEFAULT_MAX_RESULTS = 5
export const MAX_RESULTS = 50

const PREFIX = 'EAAa'

export function pageToken(offset: number): string {
  return `${PREFIX}${Buffer.from(`PT:${offset}`).toString('base64url')}`
}

function offsetOf(token: string): number | null {
  if (!token.startsWith(PREFIX) || token.length > 40) return null
  const decoded = Buffer.from(token.slice(PREFIX.length), 'base64url').toString('utf8')
  const match = /^PT:(\d{1,7})$/.exec(decoded)
  return match === null || pageToken(Number(match[1])) !== token ? null : Number(match[1])
}

export interface Page<T> {
  readonly items: readonly T[]
  /** The fields of the list answer besides `items`: tokens and `pageInfo`. */
  readonly fields: Record<string, unknown>
}

/** One page of `all` as `query` (`maxResults`, `pageToken`) asks. */
export function pageOf<T>(all: readonly T[], query: unknown): Page<T> {
  const raw = one(query, 'maxResults')
  let max = DEFAULT_MAX_RESULTS
  if (raw !== undefined) {
    if (!/^\d{1,6}$/.test(raw) || Number(raw) > MAX_RESULTS)
      throw invalidParameter(
        'maxResults',
        `Invalid value '${raw.slice(0, 40)}'. Values must be within the range: [0, ${MAX_RESULTS}]`,
      )
    max = Number(raw)
  }
  const token = one(query, 'pageToken')
  let start = 0
  if (token !== undefined && token !== '') {
    const offset = offsetOf(token)
    if (offset === null)
      throw apiError(400, 'The request specifies an invalid page token.', {
        message: 'The request specifies an invalid page token.',
        domain: 'youtube.parameter',
        reason: 'invalidPageToken',
        location: 'pageToken',
        locationType: 'parameter',
      })
    start = offset
  }
  const items = all.slice(start, start + max)
  const fields: Record<string, unknown> = {}
  if (max > 0 && start + max < all.length) fields.nextPageToken = pageToken(start + max)
  if (max > 0 && start > 0) fields.prevPageToken = pageToken(Math.max(0, start - max))
  fields.pageInfo = { totalResults: all.length, resultsPerPage: max }
  return { items, fields }
}
