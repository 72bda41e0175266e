/**
 * @module web/platforms — each platform's name, icon and post-link label, as the server's registry
 * describes them (`GET /api/socials/providers`), so the page never spells a platform out itself.
 */
import type { PlatformJson } from './api.ts'

const known = new Map<string, PlatformJson>()

export function setPlatforms(platforms: readonly PlatformJson[]): void {
  for (const platform of platforms) known.set(platform.platform, platform)
}

/** The platform's name; its id until the registry has answered. */
export function platformLabel(id: string): string {
  return known.get(id)?.label ?? id
}

/** The label of a link to a post ("View on Instagram"). */
export function viewLabel(id: string): string {
  return known.get(id)?.view_label ?? 'View the original post'
}

/** A 24 × 24 SVG path of the platform's mark (a plain square for an unknown one). */
export function iconPath(id: string): string {
  return known.get(id)?.icon_path ?? 'M4 4h16v16H4z'
}
