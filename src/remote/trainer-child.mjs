// The trainer child process of `deepspark worker`: registers tsx (so the TypeScript runtime loads as it
// is, as src/local/worker-bootstrap.mjs does for threads), then runs the trainer.
import { register } from "tsx/esm/api"

register()
await import("./trainer-child.ts")
