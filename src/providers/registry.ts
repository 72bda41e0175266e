/**
 * @module providers/registry — the only list of platforms. Routes, the page's CSP, the providers
 * endpoint, the page's connect buttons, the configuration loader (each connectable platform reads
 * its own section) and the mounting of inbound routes (with their CSRF exemption) read it; nothing
 * else names a platform's folder.
 */
import type {
  ConfigReader,
  ConnectablePlatform,
  InboundRoute,
  PlatformInfo,
  ProviderConfig,
  ProviderId,
} from './types.ts'
import { instagramInfo, instagramPlatform } from './instagram/platform.ts'
import { tiktokInfo, tiktokPlatform } from './tiktok/platform.ts'
import { xInfo, xPlatform } from './x/platform.ts'
import { youtubeInfo, youtubePlatform } from './youtube/platform.ts'

/** Every platform, in the order the page lists them. */
export const PLATFORMS = {
  instagram: instagramInfo,
  youtube: youtubeInfo,
  tiktok: tiktokInfo,
  x: xInfo,
} as const satisfies Record<ProviderId, PlatformInfo>

/** The connectable platforms by id, each with its own settings type. */
const CONNECTABLE_BY_ID = {
  instagram: instagramPlatform,
  youtube: youtubePlatform,
  tiktok: tiktokPlatform,
  x: xPlatform,
} as const satisfies Partial<Record<ProviderId, ConnectablePlatform>>

/** The ids of the platforms people can connect through OAuth. */
export type ConnectableId = keyof typeof CONNECTABLE_BY_ID

/** The platforms people can connect through OAuth (the others: public profile links only). */
export const CONNECTABLE: readonly ConnectablePlatform[] = Object.values(CONNECTABLE_BY_ID)

/** `Config.providers`: each connectable platform's section, as its `readConfig` returns it. */
export type ProvidersConfig = {
  readonly [K in ConnectableId]: ReturnType<(typeof CONNECTABLE_BY_ID)[K]['readConfig']>
}

/** Every connectable platform's configuration section (called once, by `loadConfig`). */
export function readProvidersConfig(env: ConfigReader): ProvidersConfig {
  const sections: Partial<Record<ConnectableId, ProviderConfig<unknown>>> = {}
  for (const [id, platform] of Object.entries(CONNECTABLE_BY_ID))
    sections[id as ConnectableId] = platform.readConfig(env)
  return sections as ProvidersConfig
}

/** Every inbound route of every connectable platform, with the platform it belongs to. */
export function inboundRoutes(): readonly { platform: ProviderId; route: InboundRoute }[] {
  return CONNECTABLE.flatMap((platform) =>
    platform.inboundRoutes.map((route) => ({ platform: platform.info.id, route })),
  )
}

/**
 * `METHOD path` of the server-to-server inbound callbacks: the routes exempt from the same-origin
 * (CSRF) check, since a platform's servers send neither our cookie nor our `Origin`.
 */
export function serverToServerRoutes(): ReadonlySet<string> {
  return new Set(
    inboundRoutes()
      .filter(({ route }) => route.serverToServer)
      .map(({ route }) => `${route.method} ${route.path}`),
  )
}

export function isProviderId(value: string): value is ProviderId {
  return Object.hasOwn(PLATFORMS, value)
}
