// GraphQL shapes of targeting's own expected failures (listed in the mutations' result unions).
import { ErrorInterface } from '../../schema/errors.js';
import { builder } from '../../schema/builder.js';
import { DuplicatePriorityError, type RuleProblem, SegmentInUseError, SegmentRulesError } from '../errors.js';

const SegmentRuleProblemType = builder.objectRef<RuleProblem>('SegmentRuleProblem').implement({
  description: 'One problem of a segment rule tree.',
  fields: (t) => ({
    path: t.stringList({ description: 'Path into the input, e.g. ["rules", "0", "conditions", "2", "value"].', resolve: (problem) => problem.path.map(String) }),
    message: t.exposeString('message'),
  }),
});

builder.objectType(SegmentRulesError, {
  name: 'SegmentRulesError',
  description: "INVALID_SEGMENT_RULES: the rules are not valid Flagsmith rule trees; `path` is the first problem's, `problems` lists them all.",
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof SegmentRulesError,
  fields: (t) => ({
    path: t.stringList({ resolve: (error) => error.path.map(String) }),
    problems: t.field({ type: [SegmentRuleProblemType], resolve: (error) => error.problems }),
  }),
});

builder.objectType(DuplicatePriorityError, {
  name: 'DuplicatePriorityError',
  description: 'DUPLICATE_PRIORITY: another segment override of the feature in that environment has this priority.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof DuplicatePriorityError,
  fields: (t) => ({
    priority: t.int({ resolve: (error) => error.priority }),
    path: t.stringList({ resolve: (error) => error.path.map(String) }),
  }),
});

builder.objectType(SegmentInUseError, {
  name: 'SegmentInUseError',
  description: 'SEGMENT_IN_USE: the segment overrides features; `force: true` deletes it with its overrides.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof SegmentInUseError,
  fields: (t) => ({
    overrides: t.int({ description: 'How many overrides use the segment.', resolve: (error) => error.overrides }),
    path: t.stringList({ resolve: (error) => error.path.map(String) }),
  }),
});
