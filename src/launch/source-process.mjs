// A child process started from the TypeScript sources (development and tests): registers tsx (and the
// workspace's "source" condition), then loads the module whose URL is the first argument; the module
// sees the remaining arguments as process.argv[2…]. Built code forks dist/<entry>.js directly instead.
import { registerSourceLoader } from "./source-loader.mjs"

registerSourceLoader()
const [entry, ...rest] = process.argv.slice(2)
process.argv = [process.argv[0], entry, ...rest]
await import(entry)
