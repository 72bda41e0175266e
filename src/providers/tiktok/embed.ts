/**
 * @module providers/tiktok/embed — TikTok's official embed player, framed by the page only when
 * TikTok is reached for real (the sandbox's emulator has no player, and the CSP's `frame-src`
 * admits `https://www.tiktok.com` only then).
 *
 * What this relies on, from TikTok for Developers, "Embed Player"
 * (https://developers.tiktok.com/doc/embed-player/):
 * - the player is an iframe at `https://www.tiktok.com/player/v1/{tiktok_post_id}`, the post id
 *   being the number at the end of `https://www.tiktok.com/@user/video/{id}` (the `id` the
 *   Display API's video list gives);
 * - it is customised by query parameters, each `1` (show) or `0` (hide): `controls` (progress
 *   bar and every control button; on by default), `music_info`, `description`, `rel` (related
 *   videos), `autoplay`, `loop` and the single controls (`progress_bar`, `play_button`,
 *   `volume_control`, `fullscreen_button`, `timestamp`, `native_context_menu`, `closed_caption`).
 * The gallery asks for the controls and no related videos (`rel=0`, as the open-source
 * `tiktok-video-element` of muxinc/media-elements also does); it never autoplays (the visitor
 * presses play), and leaves music and description off: the lightbox shows the caption itself.
 */
import type { ConnectablePlatform, EmbedFrame } from '../types.ts'
import { TIKTOK_VIDEO_ID } from './parse.ts'

export const TIKTOK_PLAYER_ORIGIN = 'https://www.tiktok.com'

/** The player URL of a post, `{id}` standing for its (digits-only) video id. */
export const TIKTOK_PLAYER_TEMPLATE = `${TIKTOK_PLAYER_ORIGIN}/player/v1/{id}?controls=1&rel=0`

/**
 * How the page frames it: portrait (TikTok's videos are 9:16), `fullscreen` for its fullscreen
 * button and nothing else it may ask for (no autoplay, camera, sensors…); sandboxed to what a
 * cross-origin player needs: its scripts, its own origin (its storage and API calls to
 * tiktok.com; being cross-origin, it still cannot reach the gallery's page), and popups for its
 * links to tiktok.com, which open unsandboxed. No top navigation, no forms, no modals.
 */
export const TIKTOK_PLAYER_FRAME: EmbedFrame = {
  portrait: true,
  allow: 'fullscreen',
  sandbox: 'allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox',
}

/** The contract's `embed` of TikTok (`ConnectablePlatform.embed`). */
export const TIKTOK_EMBED: NonNullable<ConnectablePlatform<unknown>['embed']> = {
  origin: TIKTOK_PLAYER_ORIGIN,
  urlTemplate: TIKTOK_PLAYER_TEMPLATE,
  idPattern: TIKTOK_VIDEO_ID,
  frame: TIKTOK_PLAYER_FRAME,
}

/**
 * The player URL of one TikTok video, or `null` when the id is not a TikTok video id (digits
 * only): nothing else ever goes into the URL. The page builds the same URL from the template and
 * the pattern it is given (`web/src/platforms.ts`).
 */
export function tiktokPlayerUrl(videoId: string): string | null {
  if (!TIKTOK_VIDEO_ID.test(videoId)) return null
  return TIKTOK_PLAYER_TEMPLATE.replace('{id}', videoId)
}
