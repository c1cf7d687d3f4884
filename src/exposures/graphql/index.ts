// The exposure log's GraphQL: the `Exposure` node and the recording mutations.
import './exposure.js';
import './mutations.js';
