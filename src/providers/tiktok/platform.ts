/**
 * @module providers/tiktok/platform — TikTok as the registry describes it. Profiles can be added
 * as public links today; connecting through Login Kit comes with its provider.
 */
import type { PlatformInfo } from '../types.ts'

export const tiktokInfo: PlatformInfo = {
  id: 'tiktok',
  label: 'TikTok',
  viewLabel: 'View on TikTok',
  iconPath:
    'M16.5 2h-3.3v13.2a2.9 2.9 0 1 1-2.9-2.9c.3 0 .6 0 .9.1V9a6.2 6.2 0 1 0 5.3 6.2V8.6a7.6 7.6 0 0 0 4.5 1.5V6.8a4.4 4.4 0 0 1-4.5-4.5z',
  profileUrl: (username) => `https://www.tiktok.com/@${username}`,
}
