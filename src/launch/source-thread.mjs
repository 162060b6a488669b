// A worker thread started from the TypeScript sources (development and tests): tsx's loader does not
// carry into worker_threads on Node 20, so register it (and the workspace's "source" condition) here,
// then load the module named in workerData.entry. Built code starts dist/<entry>.js directly instead.
import { workerData } from "node:worker_threads"
import { registerSourceLoader } from "./source-loader.mjs"

registerSourceLoader()
await import(workerData.entry)
