// Runs `prisma generate` offline. Prisma's CLI downloads its native schema engine at the
// start of every command unless PRISMA_SCHEMA_ENGINE_BINARY names an existing file;
// generation never executes that engine, so any file will do (see DEVELOPERS.md).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const schema = fileURLToPath(new URL('./schema.prisma', import.meta.url));
const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY || !existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = fileURLToPath(import.meta.url);
}
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
// Generators such as prisma-pothos-types are found on PATH, as npm scripts would set it.
env.PATH = [fileURLToPath(new URL('../node_modules/.bin', import.meta.url)), env.PATH].join(delimiter);
env.CHECKPOINT_DISABLE = '1';

const prismaCli = createRequire(import.meta.url).resolve('prisma/build/index.js');
const result = spawnSync(process.execPath, [prismaCli, 'generate', '--schema', schema], {
  env,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
