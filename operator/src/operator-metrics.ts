import { RolloutMetrics } from "./controllers/churnmodel/rollout-metrics.js";
import { ScoringRunMetrics } from "./controllers/scoringrun/scoring-run-metrics.js";
import { TrainingRunMetrics } from "./controllers/trainingrun/training-run-metrics.js";
import { ControllerMetrics } from "./kube/controller-metrics.js";

/** The metrics of an operator process, all on one registry (the one its /metrics serves). */
export interface OperatorMetrics {
  /** controller-runtime's names and the process metrics; `registry` is the shared one. */
  controllers: ControllerMetrics;
  trainingRuns: TrainingRunMetrics;
  rollouts: RolloutMetrics;
  scoringRuns: ScoringRunMetrics;
}

/** Registers every metric an operator process exports (the manager's and the chart tests' one list). */
export function operatorMetrics(): OperatorMetrics {
  const controllers = new ControllerMetrics({ processMetrics: true });
  return {
    controllers,
    trainingRuns: new TrainingRunMetrics(controllers.registry),
    rollouts: new RolloutMetrics(controllers.registry),
    scoringRuns: new ScoringRunMetrics(controllers.registry),
  };
}
