/**
 * @module providers/instagram/emulator/paging — Graph edge paging: `limit` (25 by default, at
 * most 100), `after` cursors (base64 of a media id), `paging.cursors` and a token-bearing
 * `paging.next` URL, as Meta's `/me/media` and `/{id}/children` answer.
 */
import { one } from '../../emulator-core/query.ts'
import { graphError } from './errors.ts'
import { serializeFields, type FieldTree } from './fields.ts'
import type { EmulatorMedia } from './state.ts'

/** Renders one media node with the requested fields (see `graph-routes.ts`). */
export type RenderMedia = (
  media: EmulatorMedia,
  fields: FieldTree,
  isChild: boolean,
) => Record<string, unknown>

export type PageOf = (
  items: EmulatorMedia[],
  query: Record<string, unknown>,
  nodePath: string,
  fields: FieldTree,
  version: string,
  token: string,
  isChild: boolean,
) => Record<string, unknown>

export function createPager(baseUrl: () => string, renderMedia: RenderMedia): PageOf {
  function pageOf(
    items: EmulatorMedia[],
    query: Record<string, unknown>,
    nodePath: string,
    fields: FieldTree,
    version: string,
    token: string,
    isChild: boolean,
  ): Record<string, unknown> {
    const limitRaw = one(query, 'limit')
    let limit = 25
    if (limitRaw !== undefined) {
      if (!/^\d{1,6}$/.test(limitRaw)) throw graphError(100, '(#100) Param limit must be a number')
      limit = Math.min(100, Math.max(1, Number(limitRaw)))
    }
    const after = one(query, 'after')
    let start = 0
    if (after !== undefined) {
      const id = Buffer.from(after, 'base64').toString('utf8')
      const index = items.findIndex((m) => m.id === id)
      if (index < 0) throw graphError(100, 'Invalid cursor', { error_subcode: 2018 })
      start = index + 1
    }
    const slice = items.slice(start, start + limit)
    const data = slice.map((m) => renderMedia(m, fields, isChild))
    const first = slice[0]
    const last = slice[slice.length - 1]
    if (first === undefined || last === undefined) return { data }
    const cursors = {
      before: Buffer.from(first.id).toString('base64'),
      after: Buffer.from(last.id).toString('base64'),
    }
    const paging: Record<string, unknown> = { cursors }
    if (start + limit < items.length) {
      const next = new URL(`${baseUrl()}/graph/${version}/${nodePath}`)
      next.searchParams.set('access_token', token)
      next.searchParams.set('fields', serializeFields(fields))
      next.searchParams.set('limit', String(limit))
      next.searchParams.set('after', cursors.after)
      paging.next = next.toString()
    }
    return { data, paging }
  }

  return pageOf
}
