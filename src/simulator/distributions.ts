import type { Rng } from "@deepspark/engine"

/** A delay or duration distribution in virtual seconds. */
export type Distribution =
  | { readonly kind: "fixed"; readonly value: number }
  | { readonly kind: "uniform"; readonly min: number; readonly max: number }
  | { readonly kind: "exponential"; readonly mean: number }
  | { readonly kind: "lognormal"; readonly median: number; readonly sigma: number }

export const fixed = (value: number): Distribution => ({ kind: "fixed", value })

export const sample = (d: Distribution, rng: Rng): number => {
  switch (d.kind) {
    case "fixed":
      return d.value
    case "uniform":
      return rng.uniform(d.min, d.max)
    case "exponential":
      return -d.mean * Math.log(1 - rng.nextDouble())
    case "lognormal":
      return d.median * Math.exp(d.sigma * rng.gaussian(0, 1))
  }
}

export const mean = (d: Distribution): number => {
  switch (d.kind) {
    case "fixed":
      return d.value
    case "uniform":
      return (d.min + d.max) / 2
    case "exponential":
      return d.mean
    case "lognormal":
      return d.median * Math.exp((d.sigma * d.sigma) / 2)
  }
}
