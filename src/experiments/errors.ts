// Expected failures of experiments (SPEC.md section 9): a feature not ready for one, a write
// refused while one runs, a second open experiment, a transition its status does not allow.
import { AppError, type ErrorPath } from '../errors/app-errors.js';

export interface UnkeyedOption {
  id: number;
  name: string | null;
}

/** EXPERIMENT_NOT_READY: the feature has no live option, or live options without a variant key (listed). */
export class ExperimentNotReadyError extends AppError {
  declare readonly code: 'EXPERIMENT_NOT_READY';
  constructor(
    message: string,
    readonly options: UnkeyedOption[],
    path: ErrorPath = ['feature'],
  ) {
    super('EXPERIMENT_NOT_READY', message, path);
  }
}

/** EXPERIMENT_RUNNING: the write would change who gets what while this experiment runs. */
export class ExperimentRunningError extends AppError {
  declare readonly code: 'EXPERIMENT_RUNNING';
  constructor(
    readonly experiment: { id: number; name: string },
    path: ErrorPath = [],
  ) {
    super(
      'EXPERIMENT_RUNNING',
      `Experiment "${experiment.name}" is running on this feature in this environment: stop it before changing who gets what.`,
      path,
    );
  }
}

/** EXPERIMENT_EXISTS: the feature already has a DRAFT or RUNNING experiment in this environment. */
export class ExperimentExistsError extends AppError {
  declare readonly code: 'EXPERIMENT_EXISTS';
  constructor(
    readonly experiment: { id: number; name: string },
    path: ErrorPath = ['feature'],
  ) {
    super('EXPERIMENT_EXISTS', `Experiment "${experiment.name}" of this feature in this environment is not stopped yet.`, path);
  }
}

/** INVALID_EXPERIMENT_STATUS: start needs DRAFT or STOPPED, stop needs RUNNING. */
export class ExperimentStatusError extends AppError {
  declare readonly code: 'INVALID_EXPERIMENT_STATUS';
  constructor(
    readonly status: 'DRAFT' | 'RUNNING' | 'STOPPED',
    action: 'start' | 'stop',
    path: ErrorPath = ['id'],
  ) {
    super('INVALID_EXPERIMENT_STATUS', `A ${status} experiment cannot ${action === 'start' ? 'start' : 'stop'}.`, path);
  }
}
