/**
 * @module http/host-check — answers only requests addressed to this service by name.
 *
 * A page on `attacker.example` whose DNS name is re-pointed at 127.0.0.1 (DNS rebinding) reaches
 * a developer's server as same-origin for the browser; its requests still carry
 * `Host: attacker.example`. Refusing every `Host` but PUBLIC_URL's, the loopback names and
 * `ALLOWED_HOSTS` (config `allowedHosts`) with 421 Misdirected Request blunts that.
 */
import type { FastifyRequest } from 'fastify'
import { GalleryError } from '../errors.ts'

/** The host name of a `Host` header value (`name`, `name:port`, `[v6]`, `[v6]:port`), lower case. */
export function hostName(header: string): string | null {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]\s]+)(?::\d{1,5})?$/i.exec(header.trim())
  return match?.[1]?.toLowerCase().replace(/\.$/, '') ?? null
}

/** @throws ERR_MISDIRECTED when `allowed` is on and the request's `Host` is not in it. */
export function checkHost(request: FastifyRequest, allowed: ReadonlySet<string> | null): void {
  if (allowed === null) return
  const name = hostName(request.headers.host ?? '')
  if (name !== null && allowed.has(name)) return
  throw new GalleryError(
    'ERR_MISDIRECTED',
    'This server does not answer to that host name; use the address in PUBLIC_URL (or add the name to ALLOWED_HOSTS)',
  )
}
