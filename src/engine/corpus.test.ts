import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { getEvaluationResult, prepareEnvironment, type EvaluationContext, type EvaluationResult } from './index.js';
import { readPythonJson } from '../../test/helpers/python-json.js';

const CORPUS_DIR = fileURLToPath(new URL('../../test/fixtures/flagsmith-engine-test-data/test_cases/', import.meta.url));

interface CorpusCase {
  context: EvaluationContext;
  result: EvaluationResult;
}

const corpusFiles = readdirSync(CORPUS_DIR)
  .filter((f) => f.endsWith('.json') || f.endsWith('.jsonc'))
  .sort();

function loadCase(file: string): CorpusCase {
  // Some cases start with `//` comments; numbers keep their JSON type (`2.0` is a float).
  return readPythonJson(readFileSync(CORPUS_DIR + file, 'utf8'), 'jsonc') as CorpusCase;
}

describe('Flagsmith engine-test-data corpus (v3.9.0)', () => {
  it('holds all 199 cases', () => {
    expect(corpusFiles).toHaveLength(199);
  });

  it.each(corpusFiles)('%s', (file) => {
    const { context, result } = loadCase(file);
    expect(getEvaluationResult(context)).toEqual(result);
  });

  it('gives the same results through a prepared environment, whole and per feature', () => {
    for (const file of corpusFiles) {
      const { context, result } = loadCase(file);
      const env = prepareEnvironment({ ...context, identity: undefined });
      expect(env.evaluate(context.identity), file).toEqual(result);
      const session = env.forIdentity(context.identity);
      for (const name of Object.keys(result.flags)) expect(session.flag(name), file).toEqual(result.flags[name]);
      expect(session.segments, file).toEqual(result.segments);
      expect(session.flag('no such feature')).toBeUndefined();
    }
  });
});
