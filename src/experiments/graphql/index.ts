// GraphQL of experiments.
import './errors.js';
import './timeline.js';

export { ExperimentIterationType, ExperimentType } from './experiment.js';
