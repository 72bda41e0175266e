/**
 * @module providers/registry — the only list of platforms. Routes, the page's CSP, the providers
 * endpoint and the page's connect buttons read it; nothing else names a platform's folder.
 */
import type { ConnectablePlatform, PlatformInfo, ProviderId } from './types.ts'
import { instagramInfo, instagramPlatform } from './instagram/platform.ts'
import { tiktokInfo } from './tiktok/platform.ts'
import { xInfo } from './x/platform.ts'
import { youtubeInfo } from './youtube/platform.ts'

/** Every platform, in the order the page lists them. */
export const PLATFORMS = {
  instagram: instagramInfo,
  youtube: youtubeInfo,
  tiktok: tiktokInfo,
  x: xInfo,
} as const satisfies Record<ProviderId, PlatformInfo>

/** The platforms people can connect through OAuth (the others: public profile links only). */
export const CONNECTABLE: readonly ConnectablePlatform[] = [instagramPlatform]

export function isProviderId(value: string): value is ProviderId {
  return Object.hasOwn(PLATFORMS, value)
}
