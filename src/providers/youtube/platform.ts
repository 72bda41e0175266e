/**
 * @module providers/youtube/platform — YouTube as the registry describes it: name, links, icon,
 * the thumbnail CDN, the privacy-enhanced player, its configuration reader and its wiring.
 * Channels connect through Google OAuth; no route of ours is called by Google.
 */
import type { ConnectablePlatform, PlatformInfo } from '../types.ts'
import { YOUTUBE_NOT_CONFIGURED_MESSAGE, readYoutubeConfig, type YoutubeConfig } from './config.ts'
import { GOOGLE_SECRET_SHAPES, YOUTUBE_EXPIRED_MESSAGE } from './parse.ts'
import { wireYoutube } from './wiring.ts'

export const youtubeInfo: PlatformInfo = {
  id: 'youtube',
  label: 'YouTube',
  viewLabel: 'View on YouTube',
  iconPath:
    'M21.6 7.2a2.5 2.5 0 0 0-1.8-1.8C18.2 5 12 5 12 5s-6.2 0-7.8.4A2.5 2.5 0 0 0 2.4 7.2 26 26 0 0 0 2 12a26 26 0 0 0 .4 4.8 2.5 2.5 0 0 0 1.8 1.8C5.8 19 12 19 12 19s6.2 0 7.8-.4a2.5 2.5 0 0 0 1.8-1.8A26 26 0 0 0 22 12a26 26 0 0 0-.4-4.8zM10 15V9l5.2 3z',
  profileUrl: (username) => `https://www.youtube.com/@${username}`,
}

export const youtubePlatform: ConnectablePlatform<YoutubeConfig> = {
  info: youtubeInfo,
  // thumbnails (video posters) and channel avatars
  mediaOrigins: [
    'https://i.ytimg.com',
    'https://yt3.ggpht.com',
    'https://yt3.googleusercontent.com',
  ],
  connectPath: '/api/socials/connect/youtube',
  secretShapes: GOOGLE_SECRET_SHAPES,
  readConfig: readYoutubeConfig,
  inboundRoutes: [],
  notConfiguredMessage: YOUTUBE_NOT_CONFIGURED_MESSAGE,
  expiredMessage: YOUTUBE_EXPIRED_MESSAGE,
  // the player that sets no cookie until the visitor plays (YouTube's privacy-enhanced mode)
  embed: {
    origin: 'https://www.youtube-nocookie.com',
    urlTemplate: 'https://www.youtube-nocookie.com/embed/{id}',
  },
  wire: wireYoutube,
}
