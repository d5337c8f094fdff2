// Types of the parts of setup.mjs (plain Node: it runs before node_modules exists) that tests
// call: the TypeScript build of dist/, redone only when a source is newer than the last one.

/** The repository root. */
export const root: string;
/** Compiles operator/ and runtime/ to dist/ when any source is newer than the last build. */
export function ensureBuild(): void;
