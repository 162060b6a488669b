// Worker-thread entry: tsx's --import does not carry into worker_threads on Node 20, so register it
// here, then load the TypeScript module named in workerData.entry (default: the trainer worker).
import { register } from "tsx/esm/api"
import { workerData } from "node:worker_threads"

register()
await import(workerData?.entry ?? "./worker-entry.ts")
