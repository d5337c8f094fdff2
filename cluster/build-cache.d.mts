// Types of build-cache.mjs (plain Node, read by the set-up before node_modules exists).

export declare const GO_MIN_VERSION: string;
export declare const GO_BUILDS: Readonly<{
  etcd: string;
  k8s: string;
  helm: string;
  promtool: string;
  weed: string;
}>;
export type GoBuildName = keyof typeof GO_BUILDS;
export declare function cacheRoot(env?: NodeJS.ProcessEnv): string;
export declare function goBuildBinDir(name: GoBuildName, env?: NodeJS.ProcessEnv): string;
export declare function isBuilt(name: GoBuildName, env?: NodeJS.ProcessEnv): boolean;
