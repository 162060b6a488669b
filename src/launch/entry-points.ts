/**
 * Where the threads and child processes the runtime starts begin: from the build (dist/, plain
 * JavaScript: what `deepspark` runs) or from the TypeScript sources through tsx (development, tests and
 * scripts that import the sources). The build defines __DEEPSPARK_BUILT__ and puts every entry and chunk
 * side by side in dist/, so a built module finds `dist/<name>.js` next to itself.
 */
declare const __DEEPSPARK_BUILT__: boolean | undefined

/** True when this code runs from the build. */
export const runningFromBuild: boolean = typeof __DEEPSPARK_BUILT__ !== "undefined" && __DEEPSPARK_BUILT__ === true

/**
 * Sources that start threads from the build: the test suite sets DEEPSPARK_ENTRIES=dist after building
 * dist/ from the same sources (test/support/build-before-tests.ts), so worker threads skip tsx's
 * start-up; elsewhere source code starts source threads, which can never be stale.
 */
const useBuiltEntries = runningFromBuild || process.env.DEEPSPARK_ENTRIES === "dist"
/** Where the built entries are: beside this file in a build, dist/ at the root from the sources. */
const builtDir = runningFromBuild ? new URL("./", import.meta.url) : new URL("../../dist/", import.meta.url)

/** The source file of each entry, relative to this file. */
const sources = {
  "worker-entry": "../worker/worker-entry.ts",
  "evaluator-entry": "../center/evaluator-entry.ts",
  "trainer-child": "../worker/trainer-child.ts"
} as const

export type EntryName = keyof typeof sources

/** Registers tsx in a fresh thread, then imports workerData.entry (Node 20 does not carry loaders into threads). */
const sourceThreadBootstrap = new URL("./source-thread.mjs", import.meta.url)
/** Registers tsx in a fresh process, then imports the module named by its first argument. */
const sourceProcessBootstrap = new URL("./source-process.mjs", import.meta.url)

/**
 * A worker thread's start: the file to pass to `new Worker` and what to merge into its workerData.
 */
export const threadEntry = (name: EntryName): { readonly file: URL; readonly workerData: { readonly entry?: string } } =>
  useBuiltEntries
    ? { file: new URL(`${name}.js`, builtDir), workerData: {} }
    : { file: sourceThreadBootstrap, workerData: { entry: new URL(sources[name], import.meta.url).href } }

/** A child process's start: the module to fork and the arguments that go before its own. */
export const processEntry = (name: EntryName): { readonly file: URL; readonly args: ReadonlyArray<string> } =>
  useBuiltEntries
    ? { file: new URL(`${name}.js`, builtDir), args: [] }
    : { file: sourceProcessBootstrap, args: [new URL(sources[name], import.meta.url).href] }
