// GraphQL of targeting: one file per node type, with its fields, queries and mutations.
import './errors.js';

export { IdentityOverrideType, IdentityType } from './identity.js';
export { SegmentType } from './segment.js';
export { SegmentOverrideType } from './segment-override.js';
