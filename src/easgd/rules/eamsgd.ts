import type { AsyncRule } from "../update-rule.js"
import { easgd } from "./easgd.js"

/**
 * eamsgd (Zhang et al. 2015): easgd's elastic exchange, and the workers' local optimiser is Nesterov
 * momentum with δ = eamsgd_momentum (default 0.99) in place of the solver prototxt's type and momentum.
 */
export const eamsgd: AsyncRule<"eamsgd"> = {
  ...easgd,
  name: "eamsgd",
  summary: "easgd's exchange with Nesterov-momentum local steps (δ = eamsgd_momentum)",
  settings: [...easgd.settings, "eamsgd_momentum"],
  localSolver: (s) => ({ type: "Nesterov", momentum: s.eamsgdMomentum })
}
