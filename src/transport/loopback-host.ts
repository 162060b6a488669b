/** True for addresses only this machine can reach (what may listen without authentication). */
export const isLoopbackHost = (host: string): boolean =>
  host === "localhost" || host === "::1" || /^127(?:\.\d{1,3}){3}$/.test(host) || host === "::ffff:127.0.0.1"
