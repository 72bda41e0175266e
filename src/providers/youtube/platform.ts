/**
 * @module providers/youtube/platform — YouTube as the registry describes it. Channels can be
 * added as public profile links today; connecting through Google OAuth comes with its provider.
 */
import type { PlatformInfo } from '../types.ts'

export const youtubeInfo: PlatformInfo = {
  id: 'youtube',
  label: 'YouTube',
  viewLabel: 'View on YouTube',
  iconPath:
    'M21.6 7.2a2.5 2.5 0 0 0-1.8-1.8C18.2 5 12 5 12 5s-6.2 0-7.8.4A2.5 2.5 0 0 0 2.4 7.2 26 26 0 0 0 2 12a26 26 0 0 0 .4 4.8 2.5 2.5 0 0 0 1.8 1.8C5.8 19 12 19 12 19s6.2 0 7.8-.4a2.5 2.5 0 0 0 1.8-1.8A26 26 0 0 0 22 12a26 26 0 0 0-.4-4.8zM10 15V9l5.2 3z',
  profileUrl: (username) => `https://www.youtube.com/@${username}`,
}
