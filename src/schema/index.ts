// Builds the GraphQL schema from every domain's types.
import './errors.js';
import '../evaluation/graphql.js';
import '../features/graphql/index.js';
import '../targeting/graphql/index.js';
import '../experiments/graphql/index.js';
import '../projects/graphql.js';
import '../tokens/graphql.js';
import '../analytics/graphql.js';
import '../exposures/graphql/index.js';
import { auditMutations } from '../audit/graphql.js';
import { builder, staticComplexities } from './builder.js';
import './nodes.js';

builder.queryField('viewer', (t) =>
  t.field({
    type: builder.objectRef<{ kind: string; scopes: string[] }>('Viewer').implement({
      fields: (f) => ({
        kind: f.exposeString('kind', { description: '`anonymous`, `client` or `token`.' }),
        scopes: f.exposeStringList('scopes'),
      }),
    }),
    description: 'Who the server takes the caller to be (no credentials needed).',
    resolve: (_parent, _args, context) => ({
      kind: context.caller.kind,
      scopes: context.caller.kind === 'token' ? context.caller.scopes : context.caller.kind === 'client' ? ['CLIENT'] : [],
    }),
  }),
);


// Every mutation runs in an audit scope: its admin writes record who changed what. Costs that
// no argument changes are computed once.
export const schema = auditMutations(staticComplexities(builder.toSchema({ sortSchema: true })));
