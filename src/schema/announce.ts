// How a resolver tells the config caches (here and in other processes) what its committed write
// changed. The write has committed, so a failure here is only logged: caches catch up within
// their TTL.
import type { Context } from '../context.js';

export async function announce(context: Context, environmentIds: number[]): Promise<void> {
  try {
    await context.services.configChanges.announce(environmentIds);
  } catch (error) {
    context.logger.error({ err: error, environmentIds }, 'announcing a config change failed');
  }
}
