import { createHash, timingSafeEqual } from "node:crypto"

/**
 * The dashboard's token (`--dashboard-token` / DEEPSPARK_DASHBOARD_TOKEN; required off loopback): every
 * request must carry it, as `?token=T` (a browser opening the page; the page passes its query on to
 * `/events`) or `Authorization: Bearer T` (a Prometheus scrape), and is answered 401 before the server
 * does anything else. Both sides are hashed to 32 bytes first, so the comparison's time depends neither
 * on where they differ nor on their lengths.
 */
const digest = (s: string) => createHash("sha256").update(s, "utf8").digest()

const bearer = (authorization: string | undefined) => {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")
  return m ? m[1] : undefined
}

export type DashboardAuthorizer = (url: URL, authorization: string | undefined) => boolean

export const dashboardAuthorizer = (token: string | undefined): DashboardAuthorizer => {
  if (token === undefined) return () => true
  const expected = digest(token)
  return (url, authorization) => {
    const given = url.searchParams.get("token") ?? bearer(authorization)
    // Compared even when absent, so an absent token takes as long as a wrong one.
    return timingSafeEqual(digest(given ?? ""), expected) && given !== undefined
  }
}
