/**
 * @module providers/emulator-core/control-input — the platform-neutral part of an emulator's
 * control input validation: the `ControlError` a refused operation throws, JSON bodies parsed
 * with a nesting bound checked before parsing, and input objects read by own fields only. Each
 * platform's `bounds.ts` builds its own rules on these (Instagram: `instagram/emulator/bounds.ts`).
 */

/** The bounds the helpers here need (a platform's limits carry more). */
export interface InputLimits {
  /** Nesting of one input: `{}` is depth 1, `{"a":[]}` depth 2. */
  readonly depth: number
}

/** A refused control operation: the HTTP API answers `status` with `{error: {code, message}}`. */
export class ControlError extends Error {
  readonly status: 400 | 404 | 409
  readonly code: 'ERR_VALIDATION' | 'ERR_NOT_FOUND' | 'ERR_CONFLICT'
  constructor(status: 400 | 404 | 409, message: string) {
    super(message)
    this.name = 'ControlError'
    this.status = status
    this.code =
      status === 400 ? 'ERR_VALIDATION' : status === 404 ? 'ERR_NOT_FOUND' : 'ERR_CONFLICT'
  }
}

const invalid = (message: string): ControlError => new ControlError(400, message)

/** Throws unless `value` is nested at most `max` levels deep (cycles stop at the bound too). */
export function assertShallow(value: unknown, max: number): void {
  const visit = (v: unknown, depth: number): void => {
    if (typeof v !== 'object' || v === null) return
    if (depth >= max) throw invalid(`input is nested deeper than ${max} levels`)
    for (const child of Array.isArray(v) ? v : Object.values(v)) visit(child, depth + 1)
  }
  visit(value, 0)
}

/**
 * The nesting depth of a JSON text, counted without parsing it (strings skipped), so that a body
 * of 30,000 nested brackets is refused before anything builds or serialises it.
 */
export function jsonDepth(text: string): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth)
    else if (c === 0x5d || c === 0x7d) depth--
  }
  return deepest
}

/** A JSON request body for the control API: `undefined` when empty; 400 when too deep or bad. */
export function parseJsonBody(text: string, limits: InputLimits): unknown {
  if (text.trim() === '') return undefined
  if (jsonDepth(text) > limits.depth)
    throw invalid(`JSON body is nested deeper than ${limits.depth} levels`)
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw invalid('body is not valid JSON')
  }
}

/** An input object (`undefined` counts as `{}`); 400 for anything else or when nested too deep. */
export function inputObject(
  value: unknown,
  what: string,
  limits: InputLimits,
): Readonly<Record<string, unknown>> {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${what} must be an object`)
  assertShallow(value, limits.depth)
  return value as Record<string, unknown>
}

/** An own field of an input object (never one inherited from `Object.prototype`). */
export function field(input: Readonly<Record<string, unknown>>, name: string): unknown {
  return Object.hasOwn(input, name) ? input[name] : undefined
}
