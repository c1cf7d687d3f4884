// Expected failures of targeting that carry more than a code and a path: every problem of a
// rule tree, the priority already taken, the overrides that keep a segment in use.
import { AppError, type ErrorPath } from '../errors/app-errors.js';

export interface RuleProblem {
  /** Path into the input, e.g. ["rules", 0, "conditions", 2, "value"]. */
  path: ErrorPath;
  message: string;
}

/** INVALID_SEGMENT_RULES: `path` is the first problem's, `problems` lists them all. */
export class SegmentRulesError extends AppError {
  declare readonly code: 'INVALID_SEGMENT_RULES';
  constructor(readonly problems: RuleProblem[]) {
    const first = problems[0];
    super('INVALID_SEGMENT_RULES', `Invalid segment rules at ${describe(first.path)}: ${first.message}.`, first.path);
  }
}

function describe(path: ErrorPath): string {
  return path.length ? path.join('.') : 'rules';
}

/** DUPLICATE_PRIORITY: another segment override of the feature in that environment has this priority. */
export class DuplicatePriorityError extends AppError {
  declare readonly code: 'DUPLICATE_PRIORITY';
  constructor(
    readonly priority: number,
    path: ErrorPath = ['priority'],
  ) {
    super('DUPLICATE_PRIORITY', `Another segment override of this feature in this environment has priority ${priority}.`, path);
  }
}

/** SEGMENT_IN_USE: the segment overrides features; deleting it needs `force: true`. */
export class SegmentInUseError extends AppError {
  declare readonly code: 'SEGMENT_IN_USE';
  constructor(
    readonly overrides: number,
    path: ErrorPath = ['id'],
  ) {
    super(
      'SEGMENT_IN_USE',
      `The segment overrides features (${overrides} override${overrides === 1 ? '' : 's'}); delete it with force: true to remove them too.`,
      path,
    );
  }
}
