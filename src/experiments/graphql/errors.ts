// GraphQL shapes of the experiments' own expected failures (listed in the mutations' result unions).
import { encodeGlobalID } from '@pothos/plugin-relay';
import { ErrorInterface } from '../../schema/errors.js';
import { builder } from '../../schema/builder.js';
import { ExperimentExistsError, ExperimentNotReadyError, ExperimentRunningError, ExperimentStatusError, type UnkeyedOption } from '../errors.js';

const UnkeyedOptionType = builder.objectRef<UnkeyedOption>('UnkeyedOption').implement({
  description: 'A live option without a variant key.',
  fields: (t) => ({
    optionId: t.id({ resolve: (option) => encodeGlobalID('MultivariateOption', option.id) }),
    name: t.string({ nullable: true, resolve: (option) => option.name }),
  }),
});

builder.objectType(ExperimentNotReadyError, {
  name: 'ExperimentNotReadyError',
  description: 'EXPERIMENT_NOT_READY: the feature is archived, has no live option, or has live options without a variant key (listed).',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ExperimentNotReadyError,
  fields: (t) => ({
    options: t.field({ type: [UnkeyedOptionType], resolve: (error) => error.options }),
    path: t.stringList({ resolve: (error) => error.path.map(String) }),
  }),
});

builder.objectType(ExperimentRunningError, {
  name: 'ExperimentRunningError',
  description: 'EXPERIMENT_RUNNING: the write would change who gets what while this experiment runs; stop it first.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ExperimentRunningError,
  fields: (t) => ({
    experimentId: t.id({ resolve: (error) => encodeGlobalID('Experiment', error.experiment.id) }),
    experimentName: t.string({ resolve: (error) => error.experiment.name }),
    path: t.stringList({ resolve: (error) => error.path.map(String) }),
  }),
});

builder.objectType(ExperimentExistsError, {
  name: 'ExperimentExistsError',
  description: 'EXPERIMENT_EXISTS: the feature already has a DRAFT or RUNNING experiment in this environment.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ExperimentExistsError,
  fields: (t) => ({
    experimentId: t.id({ resolve: (error) => encodeGlobalID('Experiment', error.experiment.id) }),
    experimentName: t.string({ resolve: (error) => error.experiment.name }),
    path: t.stringList({ resolve: (error) => error.path.map(String) }),
  }),
});

builder.objectType(ExperimentStatusError, {
  name: 'ExperimentStatusError',
  description: 'INVALID_EXPERIMENT_STATUS: start needs a DRAFT or STOPPED experiment, stop a RUNNING one.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ExperimentStatusError,
  fields: (t) => ({
    status: t.string({ resolve: (error) => error.status }),
    path: t.stringList({ resolve: (error) => error.path.map(String) }),
  }),
});
