import type { SolverParameter } from "@deepspark/caffe"
import type { Logger } from "../train/logger.js"
import { AdaDeltaSolver } from "./adadelta.js"
import { AdaGradSolver } from "./adagrad.js"
import { AdamSolver } from "./adam.js"
import { NesterovSolver } from "./nesterov.js"
import { RmsPropSolver } from "./rmsprop.js"
import { SgdSolver } from "./sgd.js"
import type { SolverBase } from "./solver-base.js"
import type { UpdateSettings } from "./update-settings.js"
import { updateSettingsFrom } from "./update-settings.js"

/** The update rule named by the settings' `type` (settings are already checked). */
export const createUpdateSolver = (settings: UpdateSettings, log?: Logger): SolverBase => {
  switch (settings.type) {
    case "SGD":
      return new SgdSolver(settings, log)
    case "Nesterov":
      return new NesterovSolver(settings, log)
    case "AdaGrad":
      return new AdaGradSolver(settings, log)
    case "RMSProp":
      return new RmsPropSolver(settings, log)
    case "AdaDelta":
      return new AdaDeltaSolver(settings, log)
    case "Adam":
      return new AdamSolver(settings, log)
  }
}

/** Reads, checks and instantiates the update rule of a solver parameter. */
export const updateSolverFromParameter = (param: SolverParameter, log?: Logger): SolverBase =>
  createUpdateSolver(updateSettingsFrom(param), log)
