/**
 * @module providers/instagram/platform — Instagram as the registry describes it: name, links,
 * icon, the CDN origins of its signed media URLs, its configuration reader and the routes Meta
 * calls on us.
 */
import type { ConnectablePlatform, PlatformInfo } from '../types.ts'
import { readInstagramConfig, type InstagramConfig } from './config.ts'
import { INSTAGRAM_INBOUND_ROUTES } from './inbound.ts'
import { NOT_CONFIGURED_MESSAGE } from '../../socials/messages.ts'
import { wireInstagram } from './wiring.ts'

export const instagramInfo: PlatformInfo = {
  id: 'instagram',
  label: 'Instagram',
  viewLabel: 'View on Instagram',
  iconPath:
    'M7 2h10a5 5 0 0 1 5 5v10a5 5 0 0 1-5 5H7a5 5 0 0 1-5-5V7a5 5 0 0 1 5-5zm0 2a3 3 0 0 0-3 3v10a3 3 0 0 0 3 3h10a3 3 0 0 0 3-3V7a3 3 0 0 0-3-3zm5 3.5a4.5 4.5 0 1 1 0 9 4.5 4.5 0 0 1 0-9zm0 2a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5zM17.5 6a1 1 0 1 1 0 2 1 1 0 0 1 0-2z',
  profileUrl: (username) => `https://www.instagram.com/${username}/`,
}

export const instagramPlatform: ConnectablePlatform<InstagramConfig> = {
  info: instagramInfo,
  // Meta serves media from signed URLs on these CDNs (instagram-api.md §4)
  mediaOrigins: ['https://*.cdninstagram.com', 'https://*.fbcdn.net'],
  connectPath: '/api/socials/connect/instagram',
  secretShapes: [
    /\bIG[A-Za-z0-9]{2}[A-Za-z0-9_\-.]{16,}/g, // access tokens (IGAA…, IGQV…)
    /\bAQ[A-Za-z0-9_-]{40,}/g, // authorization codes
  ],
  readConfig: readInstagramConfig,
  // deauthorize and data-deletion (signed by Meta, CSRF-exempt) and the deletion status page
  inboundRoutes: INSTAGRAM_INBOUND_ROUTES,
  notConfiguredMessage: NOT_CONFIGURED_MESSAGE,
  wire: wireInstagram,
}
