// GraphQL of features: one file per node type, with its fields, queries and mutations.
import './errors.js';

export { FeatureType } from './feature.js';
export { FeatureStateType } from './feature-state.js';
export { MultivariateOptionType } from './option.js';
