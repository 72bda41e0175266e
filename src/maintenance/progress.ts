/**
 * @module maintenance/progress — progress of a long maintenance command. On a terminal one line
 * is redrawn in place (`\r`): `verify  1,234/5,000  24.6/s  ETA 2m33s`. Elsewhere (a log file, a
 * pipe, CI) the same line is written whole, every `everyItems` items or `everyMs`, whichever
 * comes first, so the output stays readable. The clock and the stream are given, for tests.
 */

/** Where progress goes: `process.stdout` or anything with `write` (and `isTTY`). */
export interface ProgressStream {
  write(text: string): unknown
  readonly isTTY?: boolean
}

export interface ProgressOptions {
  /** The command's word at the start of the line (`verify`). */
  readonly label: string
  /** How many items there are, when known (`null`: no ETA). */
  readonly total: number | null
  readonly stream: ProgressStream
  /** Epoch ms (default `Date.now`). */
  readonly now?: () => number
  /** Plain output: a line at least every this many items (default 1,000)… */
  readonly everyItems?: number
  /** …or this many ms (default 5 s). */
  readonly everyMs?: number
  /** A terminal: the line is redrawn at most this often (default 100 ms). */
  readonly redrawMs?: number
}

export interface Progress {
  /** `count` more items done (default 1). */
  tick(count?: number): void
  /** The total became known or changed. */
  setTotal(total: number | null): void
  /** Ends the line (a terminal's goes to a new line); `summary` is written after it. */
  done(summary?: string): void
  /** Items done so far. */
  readonly count: number
}

const numberFormat = new Intl.NumberFormat('en-US')

/** `1234567` → `1,234,567`. */
export function formatCount(value: number): string {
  return numberFormat.format(value)
}

/** A duration in ms as `45s`, `2m33s`, `1h05m`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000))
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`
}

/** Bytes as `0 B`, `1.5 KB`, `20.3 MB`, `1.2 GB` (powers of 1024). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`
}

export function createProgress(options: ProgressOptions): Progress {
  const now = options.now ?? Date.now
  const everyItems = Math.max(1, options.everyItems ?? 1000)
  const everyMs = options.everyMs ?? 5_000
  const redrawMs = options.redrawMs ?? 100
  const tty = options.stream.isTTY === true
  const started = now()
  let total = options.total
  let count = 0
  let lastAt = started
  let lastCount = 0
  let width = 0
  let ended = false

  function line(at: number): string {
    const elapsed = at - started
    const rate = elapsed > 0 ? (count * 1000) / elapsed : 0
    const parts = [
      options.label,
      total === null ? formatCount(count) : `${formatCount(count)}/${formatCount(total)}`,
      `${rate.toFixed(1)}/s`,
    ]
    if (total !== null && count < total && rate > 0)
      parts.push(`ETA ${formatDuration(((total - count) / rate) * 1000)}`)
    return parts.join('  ')
  }

  function draw(at: number): void {
    const text = line(at)
    if (tty) {
      // spaces over what a longer earlier line left
      options.stream.write(`\r${text}${' '.repeat(Math.max(0, width - text.length))}`)
      width = text.length
    } else options.stream.write(`${text}\n`)
    lastAt = at
    lastCount = count
  }

  return {
    tick(n = 1) {
      if (ended) return
      count += n
      const at = now()
      const due = tty
        ? at - lastAt >= redrawMs || (total !== null && count >= total)
        : count - lastCount >= everyItems || at - lastAt >= everyMs
      if (due) draw(at)
    },
    setTotal(value) {
      total = value
    },
    done(summary) {
      if (ended) return
      ended = true
      if (tty) {
        draw(now())
        options.stream.write('\n')
      } else if (count !== lastCount || count === 0) draw(now())
      if (summary !== undefined) options.stream.write(`${summary}\n`)
    },
    get count() {
      return count
    },
  }
}
