// Running the TypeScript sources directly: tsx compiles them, and a resolve hook adds the "source"
// export condition so `@deepspark/caffe` etc. resolve to their src/index.ts instead of their dist/.
import { register as registerTsx } from "tsx/esm/api"
import { register } from "node:module"

let registered = false

export const registerSourceLoader = () => {
  if (registered) return
  registered = true
  register(new URL("./source-condition-hook.mjs", import.meta.url))
  registerTsx()
}
