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
 * How many workers' worth of progress downpour's center adds per round of N arrivals, once warmed up:
 * progress_gain G with up to G + 1 workers, then shrinking as G(G+1)/N down to one worker's worth (their
 * mean). Measured on LeNet at Caffe's lr (quiet machine): 3 of 3 runs of 8 workers trained with one
 * worker's worth and one diverged with 2; 4 workers with 2 workers' worth trained twice and diverged once
 * (asynchrony adds momentum as N grows, so the safe step shrinks). G = 0: no bound (the plain sum).
 */
export const progressBound = (gain: number, workers: number): number =>
  gain > 0 ? Math.max(1, Math.min(gain, (gain * (gain + 1)) / workers)) : workers

/**
 * downpour's factor on a worker's progress Δ after `exchanges` exchanges of N workers exchanging every τ
 * iterations: min(1, progressBound / N) once warmed up (the sum of the workers' progress, bounded), ramped
 * linearly from 1/N (their mean) over the first progress_warmup local iterations per worker (≈
 * exchanges · τ / N of them have passed). N is the number of workers present, so a run that lost a
 * worker, or whose workers are still starting, adds the progress of those that train.
 */
export const progressScaleAt = (s: Pick<EasgdSettings, "period" | "progressWarmup" | "progressGain">, workers: number, exchanges: number): number => {
  if (workers <= 1) return 1
  const full = Math.min(1, progressBound(s.progressGain, workers) / workers)
  if (s.progressWarmup <= 0) return full
  const done = Math.min(1, (exchanges * s.period) / (workers * s.progressWarmup))
  return 1 / workers + (full - 1 / workers) * done
}
