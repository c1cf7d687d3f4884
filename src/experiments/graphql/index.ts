// GraphQL of experiments.
import './errors.js';

export { ExperimentIterationType, ExperimentType } from './experiment.js';
