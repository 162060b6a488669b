// Worker-thread entry: tsx's --import does not carry into worker_threads on Node 20, so register it
// here, then load the TypeScript worker.
import { register } from "tsx/esm/api"

register()
await import("./worker-entry.ts")
