// Benchmark baseline (b): a bare Yoga + Pothos server answering a constant list of 100
// objects of 5 scalar fields with plain graphql-js execution (no JIT, no database, no auth).
// Usage: PORT=4811 tsx bench/baseline-server.ts
import { createServer } from 'node:http';
import SchemaBuilder from '@pothos/core';
import { createYoga } from 'graphql-yoga';

interface Item {
  name: string;
  enabled: boolean;
  value: string;
  variant: string | null;
  reason: string;
}

const items: Item[] = Array.from({ length: 100 }, (_, i) => ({
  name: `feature_${String(i).padStart(3, '0')}`,
  enabled: i % 2 === 0,
  value: `value ${i}`,
  variant: i < 20 ? 'variant_a' : null,
  reason: i < 20 ? 'SPLIT; weight=34' : 'DEFAULT',
}));

// The project's Pothos plugins augment the builder's option types globally; this bare
// builder uses no plugin, hence the cast.
const builder = new SchemaBuilder<{ DefaultFieldNullability: false }>({ defaultFieldNullability: false } as never);
const ItemType = builder.objectRef<Item>('Item').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    enabled: t.exposeBoolean('enabled'),
    value: t.exposeString('value'),
    variant: t.exposeString('variant', { nullable: true }),
    reason: t.exposeString('reason'),
  }),
});
builder.queryType({
  fields: (t) => ({
    items: t.field({ type: [ItemType], args: { identifier: t.arg.string() }, resolve: () => items }),
  }),
});

const yoga = createYoga({ schema: builder.toSchema(), graphqlEndpoint: '/graphql', logging: false, landingPage: false, graphiql: false });
const server = createServer(yoga);
const port = Number(process.env.PORT ?? 4811);
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => console.log(`baseline listening on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
