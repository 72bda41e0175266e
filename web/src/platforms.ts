/**
 * @module web/platforms — each platform's name, icon and post-link label, as the server's registry
 * describes them (`GET /api/socials/providers`), so the page never spells a platform out itself.
 */
import type { PlatformJson, PlayerFrame, Provider } from './api.ts'

const known = new Map<string, PlatformJson>()

/** A platform's player as the registry describes it (real mode only). */
interface Player {
  /** Its URL template (`…/embed/{id}`, `…/player/v1/{id}?…`). */
  readonly template: string
  /** The whole shape of an id it takes; `null` when the registry's pattern did not compile. */
  readonly id: RegExp | null
  /** How to frame it; `null`: as YouTube's. */
  readonly frame: PlayerFrame | null
}

/** Platform → its player, for the platforms reached for real. */
const players = new Map<string, Player>()
/** Platforms reached through the built-in emulator. */
const sandboxed = new Set<string>()

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

/** Remembers which platforms can play their videos here (`embed_url`, real mode only). */
export function setPlayers(providers: readonly Provider[]): void {
  players.clear()
  sandboxed.clear()
  realPlayers.clear()
  for (const provider of providers) {
    if (typeof provider.embed_url === 'string')
      players.set(provider.platform, {
        template: provider.embed_url,
        id: idShape(provider.embed_id_pattern),
        frame: provider.embed_frame ?? null,
      })
    if (provider.has_player) realPlayers.add(provider.platform)
    if (provider.sandbox) sandboxed.add(provider.platform)
  }
}

/** Whether the platform's videos can be played here (its player is known). */
export function hasPlayer(platform: string): boolean {
  return players.has(platform)
}

/**
 * The platforms whose player the page embeds when they are reached for real (YouTube's), as the
 * registry says (`has_player`): in the sandbox the page then explains why a video does not play.
 */
const realPlayers = new Set<string>()

/** Whether the platform's videos would play here if it were reached for real. */
export function playsHereForReal(platform: string): boolean {
  return players.has(platform) || realPlayers.has(platform)
}

/** Whether the platform is the built-in emulator here (its videos have no player). */
export function isSandboxed(platform: string): boolean {
  return sandboxed.has(platform)
}

/**
 * A video id as YouTube spells them: 11 characters of base64url, the shape when the registry
 * gives none. Anything else gets no frame.
 */
const VIDEO_ID = /^[A-Za-z0-9_-]{11}$/

/** The registry's id pattern, anchored whole (`null`: YouTube's); a broken one admits nothing. */
function idShape(pattern: string | null | undefined): RegExp | null {
  if (pattern === null || pattern === undefined) return VIDEO_ID
  try {
    return new RegExp(`^(?:${pattern})$`)
  } catch {
    return null
  }
}

/**
 * The https address of the platform's player for one video, or `null`: no player known (the
 * sandbox, or the providers have not answered yet), an id of the wrong shape (TikTok's: digits
 * only), or a template that is not an https URL with `{id}` in it.
 */
export function playerUrl(platform: string, id: string): string | null {
  const player = players.get(platform)
  if (player === undefined || !player.template.includes('{id}')) return null
  if (player.id === null || !player.id.test(id)) return null
  try {
    const url = new URL(player.template.replace('{id}', encodeURIComponent(id)))
    return url.protocol === 'https:' ? url.href : null
  } catch {
    return null
  }
}

/** How the platform's player is framed (TikTok's: portrait and sandboxed); `null`: as YouTube's. */
export function playerFrame(platform: string): PlayerFrame | null {
  return players.get(platform)?.frame ?? null
}
