/** An AbortSignal fired by the first SIGINT/SIGTERM (the handlers go away when `dispose` is called). */
export const abortOnSignals = (): { signal: AbortSignal; dispose: () => void } => {
  const controller = new AbortController()
  const on = () => controller.abort()
  process.once("SIGINT", on)
  process.once("SIGTERM", on)
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", on)
      process.off("SIGTERM", on)
    }
  }
}
