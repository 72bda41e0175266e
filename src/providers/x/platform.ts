/**
 * @module providers/x/platform — X as the registry describes it. Profiles can be added as public
 * links today; connecting through OAuth 2.0 comes with its provider.
 */
import type { PlatformInfo } from '../types.ts'

export const xInfo: PlatformInfo = {
  id: 'x',
  label: 'X',
  viewLabel: 'View on X',
  iconPath:
    'M17.8 3h3.1l-6.8 7.7L22 21h-6.2l-4.9-6.4L5.3 21H2.2l7.2-8.3L2 3h6.4l4.4 5.8zm-1.1 16.2h1.7L7.4 4.7H5.6z',
  profileUrl: (username) => `https://x.com/${username}`,
}
