/**
 * @module providers/x/platform — X as the registry describes it: name, links, icon, the media
 * CDNs, its configuration reader and its wiring. X calls nothing of ours.
 */
import type { ConnectablePlatform, PlatformInfo } from '../types.ts'
import { X_NOT_CONFIGURED_MESSAGE, readXConfig, type XConfig } from './config.ts'
import { X_SECRET_SHAPES } from './parse.ts'
import { wireX } from './wiring.ts'

export const xInfo: PlatformInfo = {
  id: 'x',
  label: 'X',
  viewLabel: 'View on X',
  iconPath:
    'M17.8 3h3.1l-6.8 7.7L22 21h-6.2l-4.9-6.4L5.3 21H2.2l7.2-8.3L2 3h6.4l4.4 5.8zm-1.1 16.2h1.7L7.4 4.7H5.6z',
  profileUrl: (username) => `https://x.com/${username}`,
}

export const xPlatform: ConnectablePlatform<XConfig> = {
  info: xInfo,
  // photos and video posters, and the MP4 variants (providers.md §3)
  mediaOrigins: ['https://pbs.twimg.com', 'https://video.twimg.com'],
  connectPath: '/api/socials/connect/x',
  secretShapes: X_SECRET_SHAPES,
  readConfig: readXConfig,
  inboundRoutes: [],
  notConfiguredMessage: X_NOT_CONFIGURED_MESSAGE,
  wire: wireX,
}
