import type { UpdateSettings } from "./update-settings.js"

const f32 = Math.fround

export interface RateAtIteration {
  /** The rate (float32) used for the update at this iteration. */
  readonly rate: number
  /** Caffe's current_step after this call (step: iter/stepsize; multistep: advanced by at most one). */
  readonly currentStep: number
  /** True when multistep advanced (Caffe logs "MultiStep Status: Iteration N, step = K"). */
  readonly advanced: boolean
}

/**
 * Caffe's SGDSolver::GetLearningRate for `iter` completed updates, with Caffe's mix of float and
 * double arithmetic: float fields (base_lr, gamma, power) stay float32, `pow(float, int)` is computed
 * in double (C++11 promotes it), `pow(float, float)` and `exp(float)` in float, and the rate is stored
 * as float. Multistep moves `currentStep` by at most one per call, as Caffe does.
 */
export const learningRate = (s: UpdateSettings, iter: number, currentStep: number): RateAtIteration => {
  switch (s.lrPolicy) {
    case "fixed":
      return { rate: s.baseLr, currentStep, advanced: false }
    case "step": {
      const step = Math.floor(iter / s.stepsize)
      return { rate: f32(s.baseLr * Math.pow(s.gamma, step)), currentStep: step, advanced: false }
    }
    case "exp":
      return { rate: f32(s.baseLr * Math.pow(s.gamma, iter)), currentStep, advanced: false }
    case "inv": {
      const base = f32(1 + f32(s.gamma * f32(iter)))
      return { rate: f32(s.baseLr * f32(Math.pow(base, -s.power))), currentStep, advanced: false }
    }
    case "multistep": {
      let step = currentStep
      let advanced = false
      if (step < s.stepvalue.length && iter >= s.stepvalue[step]!) {
        step++
        advanced = true
      }
      return { rate: f32(s.baseLr * Math.pow(s.gamma, step)), currentStep: step, advanced }
    }
    case "poly": {
      const frac = f32(1 - f32(f32(iter) / f32(s.maxIter)))
      return { rate: f32(s.baseLr * f32(Math.pow(frac, s.power))), currentStep, advanced: false }
    }
    case "sigmoid": {
      const e = f32(Math.exp(f32(-s.gamma * f32(f32(iter) - f32(s.stepsize)))))
      return { rate: f32(s.baseLr * f32(1 / f32(1 + e))), currentStep, advanced: false }
    }
  }
}
