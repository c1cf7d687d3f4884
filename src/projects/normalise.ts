// Pure validation and normalisation of project and environment inputs. No I/O: names taken
// and projects that exist are checked by service.ts.
import { DuplicateNameError, ValidationError } from '../errors/app-errors.js';
import { echo } from '../errors/echo.js';

export const DEFAULT_ENVIRONMENTS = ['development', 'production'] as const;
const NAME_MAX = 100;
export const ENVIRONMENTS_PER_INPUT_MAX = 100;

/** Project and environment names: trimmed, 1-100 characters, no control characters. */
export function normaliseName(raw: string, path: (string | number)[], what: string): string {
  const name = raw.trim();
  if (name.length < 1 || name.length > NAME_MAX || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new ValidationError('INVALID_NAME', `${what} name must be 1-${NAME_MAX} printable characters.`, path);
  }
  return name;
}

/** A new project's name and its environments' names (default `development`, `production`), none listed twice. */
export function normaliseNewProject(input: { name: string; environments?: string[] | null }): { name: string; environments: string[] } {
  const name = normaliseName(input.name, ['name'], 'A project');
  if (input.environments && input.environments.length > ENVIRONMENTS_PER_INPUT_MAX) {
    throw new ValidationError('INVALID_INPUT', `At most ${ENVIRONMENTS_PER_INPUT_MAX} environments per project input.`, ['environments']);
  }
  const environments = (input.environments ?? [...DEFAULT_ENVIRONMENTS]).map((env, index) =>
    normaliseName(env, ['environments', index], 'An environment'),
  );
  if (environments.length === 0) {
    throw new ValidationError('INVALID_INPUT', 'A project needs at least one environment.', ['environments']);
  }
  const seen = new Set<string>();
  environments.forEach((env, index) => {
    if (seen.has(env)) {
      throw new DuplicateNameError('DUPLICATE_NAME', `Environment "${echo(env)}" is listed twice.`, env, ['environments', index]);
    }
    seen.add(env);
  });
  return { name, environments };
}
