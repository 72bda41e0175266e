/** Bundles `entryPoints` (name → source path from the repository root) into `outdir` as .mjs. */
export function bundleServer(entryPoints: Record<string, string>, outdir?: string): Promise<void>
