/**
 * @module providers/tiktok/platform — TikTok as the registry describes it: name, links, icon, the
 * CDN of its signed covers, its embed player, its configuration reader, its wiring and the
 * webhook TikTok calls.
 */
import type { ConnectablePlatform, PlatformInfo } from '../types.ts'
import { TIKTOK_EMBED } from './embed.ts'
import { TIKTOK_NOT_CONFIGURED_MESSAGE, readTiktokConfig, type TiktokConfig } from './config.ts'
import { TIKTOK_INBOUND_ROUTES } from './inbound.ts'
import { TIKTOK_SECRET_SHAPES } from './parse.ts'
import { wireTiktok } from './wiring.ts'

export const tiktokInfo: PlatformInfo = {
  id: 'tiktok',
  label: 'TikTok',
  viewLabel: 'View on TikTok',
  iconPath:
    'M16.5 2h-3.3v13.2a2.9 2.9 0 1 1-2.9-2.9c.3 0 .6 0 .9.1V9a6.2 6.2 0 1 0 5.3 6.2V8.6a7.6 7.6 0 0 0 4.5 1.5V6.8a4.4 4.4 0 0 1-4.5-4.5z',
  profileUrl: (username) => `https://www.tiktok.com/@${username}`,
}

export const tiktokPlatform: ConnectablePlatform<TiktokConfig> = {
  info: tiktokInfo,
  // signed cover images and avatars (providers.md §2)
  mediaOrigins: ['https://*.tiktokcdn.com', 'https://*.tiktokcdn-us.com'],
  connectPath: '/api/socials/connect/tiktok',
  secretShapes: TIKTOK_SECRET_SHAPES,
  readConfig: readTiktokConfig,
  // the signed `authorization.removed` webhook (CSRF-exempt: its signature is its proof)
  inboundRoutes: TIKTOK_INBOUND_ROUTES,
  notConfiguredMessage: TIKTOK_NOT_CONFIGURED_MESSAGE,
  // TikTok's embed player (www.tiktok.com/player/v1/{id}), framed only when TikTok is real
  embed: TIKTOK_EMBED,
  wire: wireTiktok,
}
