/**
 * @module providers/emulator-core/query — reading request parameters the way emulators do: one
 * string value or nothing (a repeated or structured parameter counts as absent).
 */

/** The string value of `name` in a parsed query or form body, else `undefined`. */
export function one(query: unknown, name: string): string | undefined {
  if (typeof query !== 'object' || query === null) return undefined
  const value = (query as Record<string, unknown>)[name]
  return typeof value === 'string' ? value : undefined
}
