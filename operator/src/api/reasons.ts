/**
 * Every condition reason and Event reason the operator writes, in one place. Each transition
 * has its own reason, so `kubectl get events --field-selector reason=...` finds exactly it.
 */
export const Reasons = {
  // TrainingRun
  JobCreated: "JobCreated",
  TrainerPending: "TrainerPending",
  ValidatingData: "ValidatingData",
  TrainerRunning: "TrainerRunning",
  TrainerRetrying: "TrainerRetrying",
  DataValidated: "DataValidated",
  DataValidationFailed: "DataValidationFailed",
  Trained: "Trained",
  TrainingFailed: "TrainingFailed",
  GatesPassed: "GatesPassed",
  GateFailed: "GateFailed",
  ParityFailed: "ParityFailed",
  Succeeded: "Succeeded",
  DeadlineExceeded: "DeadlineExceeded",
  BackoffLimitExceeded: "BackoffLimitExceeded",
  /** The trainer could not publish to the S3 model store (keys refused, bucket missing, ...). */
  ModelStoreUnavailable: "ModelStoreUnavailable",
  TrainerCrashed: "TrainerCrashed",
  OutcomeUnreadable: "OutcomeUnreadable",
  JobLost: "JobLost",
  NotStarted: "NotStarted",
  InvalidSpec: "InvalidSpec",
  // ChurnModel
  SourceResolved: "SourceResolved",
  SourceNotFound: "SourceNotFound",
  SourceNotReady: "SourceNotReady",
  SourceFailed: "SourceFailed",
  NoCandidate: "NoCandidate",
  NewVersionSelected: "NewVersionSelected",
  DeploymentApplied: "DeploymentApplied",
  ServiceApplied: "ServiceApplied",
  VariantRemoved: "VariantRemoved",
  RollingOut: "RollingOut",
  RolloutComplete: "RolloutComplete",
  RolloutStalled: "RolloutStalled",
  /** A serving pod refused its s3:// artifact (digest mismatch, no manifest, keys refused). */
  ArtifactRejected: "ArtifactRejected",
  ReplicasUnavailable: "ReplicasUnavailable",
  AllReplicasReady: "AllReplicasReady",
  ScaledToZero: "ScaledToZero",
  // Rollouts
  RolloutStarted: "RolloutStarted",
  StepAdvanced: "StepAdvanced",
  AnalysisPassed: "AnalysisPassed",
  AnalysisFailed: "AnalysisFailed",
  AnalysisInconclusive: "AnalysisInconclusive",
  RolledBack: "RolledBack",
  Promoted: "Promoted",
  Aborted: "Aborted",
  Retried: "Retried",
  Superseded: "Superseded",
  ActionIgnored: "ActionIgnored",
  // ScoringRun (JobCreated, NotStarted, Succeeded, DeadlineExceeded, JobLost as above)
  ModelResolved: "ModelResolved",
  ModelNotResolved: "ModelNotResolved",
  ShardsRunning: "ShardsRunning",
  ShardRetrying: "ShardRetrying",
  ShardFailed: "ShardFailed",
  ScoringUnusable: "ScoringUnusable",
  /** The S3 store refused the keys of the input or output (the credentials Secret's). */
  S3CredentialsRefused: "S3CredentialsRefused",
  /** The input object (or its bucket) does not exist. */
  S3ObjectNotFound: "S3ObjectNotFound",
  /** The keys are valid but may not read or write that object. */
  S3AccessDenied: "S3AccessDenied",
  RejectLimitExceeded: "RejectLimitExceeded",
  /** Shards listed different objects under input.s3.prefix: it changed during the run. */
  InputChanged: "InputChanged",
  ScoringFailed: "ScoringFailed",
  RunScheduled: "RunScheduled",
  ScheduleMissed: "ScheduleMissed",
} as const;

/** One of the operator's reason strings. */
export type Reason = (typeof Reasons)[keyof typeof Reasons];
