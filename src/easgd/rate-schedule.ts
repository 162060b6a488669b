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

/**
 * downpour's factor on a worker's progress Δ after `exchanges` exchanges of N workers exchanging every τ
 * iterations: min(1, progress_gain / N) once warmed up (1 when progress_gain is 0) (the sum of the workers' progress, bounded to
 * progress_gain workers' worth), ramped linearly from 1/N (their mean) over the first progress_warmup
 * local iterations per worker (≈ exchanges · τ / N of them have passed).
 */
export const progressScaleAt = (s: Pick<EasgdSettings, "period" | "progressWarmup" | "progressGain">, workers: number, exchanges: number): number => {
  if (workers <= 1) return 1
  const full = s.progressGain > 0 ? Math.min(1, s.progressGain / workers) : 1
  if (s.progressWarmup <= 0) return full
  const done = Math.min(1, (exchanges * s.period) / (workers * s.progressWarmup))
  return 1 / workers + (full - 1 / workers) * done
}
