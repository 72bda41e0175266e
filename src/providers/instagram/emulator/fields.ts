/**
 * @module providers/instagram/emulator/fields — Graph API `fields` parameter parsing, with field
 * expansion (`children{id,media_url}`) as Meta's Graph API accepts it.
 */
export type FieldTree = Map<string, FieldTree | null>

/** Parses `a,b{c,d},e`. Returns `null` on a syntax error. */
export function parseFields(text: string): FieldTree | null {
  let pos = 0
  function parseList(depth: number): FieldTree | null {
    const tree: FieldTree = new Map()
    for (;;) {
      const match = /^[a-z_][a-z0-9_]*/i.exec(text.slice(pos))
      if (match === null) return null
      const name = match[0]
      pos += name.length
      let sub: FieldTree | null = null
      if (text[pos] === '{') {
        pos++
        sub = parseList(depth + 1)
        if (sub === null || text[pos] !== '}') return null
        pos++
      }
      tree.set(name, sub)
      if (text[pos] === ',') {
        pos++
        continue
      }
      if (depth > 0 ? text[pos] === '}' : pos === text.length) return tree
      return null
    }
  }
  if (text.length === 0 || text.length > 2000) return null
  return parseList(0)
}

export function serializeFields(tree: FieldTree): string {
  return [...tree.entries()]
    .map(([name, sub]) => (sub === null ? name : `${name}{${serializeFields(sub)}}`))
    .join(',')
}
