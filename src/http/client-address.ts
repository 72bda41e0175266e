/**
 * @module http/client-address — the key a per-address limit counts a client under.
 *
 * An IPv4 address counts as itself; an IPv4-mapped IPv6 address (`::ffff:198.51.100.7`, how a
 * dual-stack socket reports IPv4 clients) as the IPv4 address it maps; any other IPv6 address as
 * its /64 network, because every IPv6 host holds at least a /64 and could otherwise rotate
 * through it for a fresh budget per address.
 */
import { isIPv4, isIPv6 } from 'node:net'

/** The /64 (or IPv4 address) of `address`; text that is not an IP address comes back unchanged. */
export function addressBucket(address: string): string {
  if (isIPv4(address)) return address
  const bare = address.replace(/%.*$/, '') // a zone index (fe80::1%eth0) names an interface
  if (!isIPv6(bare)) return address
  const groups = ipv6Groups(bare)
  const mapped =
    groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff
      ? `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`
      : null
  if (mapped !== null) return mapped
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`
}

/** The eight 16-bit groups of a valid IPv6 address (with `::` and a dotted IPv4 tail expanded). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase()
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((g) => parseInt(g, 16))
  const left = parse(head)
  const right = tail === undefined ? [] : parse(tail)
  const zeros: number[] = Array.from({ length: 8 - left.length - right.length }, () => 0)
  return [...left, ...zeros, ...right]
}
