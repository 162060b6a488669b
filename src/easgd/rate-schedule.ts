import type { EasgdSettings } from "./settings.js"

/**
 * The center's rate schedule (DeepSpark): α decays by decay_rate every decay_step·N/period exchanges
 * down to decay_limit; server_factor likewise with the factor_* settings. N = number of workers.
 */
export const rateSchedule = (s: EasgdSettings, workers: number) => {
  const everyExchanges = (step: number) => (step > 0 ? Math.max(1, Math.round((step * workers) / s.period)) : 0)
  const alphaEvery = everyExchanges(s.decayStep)
  const factorEvery = everyExchanges(s.factorDecayStep)
  return {
    /** α after `exchanges` exchanges. */
    alpha(exchanges: number): number {
      if (!alphaEvery) return s.movingRate
      const a = s.movingRate * Math.pow(s.decayRate, Math.floor(exchanges / alphaEvery))
      return Math.max(a, s.decayLimit)
    },
    serverFactor(exchanges: number): number {
      if (!factorEvery) return s.serverFactor
      const f = s.serverFactor * Math.pow(s.factorDecayRate, Math.floor(exchanges / factorEvery))
      return Math.max(f, s.factorDecayLimit)
    },
    /** α_s, the rate the center moves by. */
    centerRate(exchanges: number): number {
      return Math.min(1, this.alpha(exchanges) * this.serverFactor(exchanges))
    }
  }
}
