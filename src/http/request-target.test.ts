import { describe, expect, it } from 'vitest';
import { plainPath } from './request-target.js';

const parsed = (target: string) => new URL(target, 'http://localhost').pathname;

describe('plainPath', () => {
  it('is the path URL parsing reads, for plain targets', () => {
    for (const target of [
      '/',
      '/?a=b',
      '/graphql',
      '/graphql?query=%7B__typename%7D',
      '/ofrep/v1/evaluate/flags',
      '/ofrep/v1/evaluate/flags/',
      '/ofrep/v1/evaluate/flags/my-flag_1.x~y',
      '/ofrep/v1/events?environmentKey=env_x',
      '/graphiql/render.js',
      '/a//b',
      '/a/.b/..c/...',
      '/a?b/../c',
      '/a?#x',
    ]) {
      expect({ target, path: plainPath(target) }).toEqual({ target, path: parsed(target) });
    }
  });

  it('leaves to the URL parser what it could read otherwise', () => {
    for (const target of [
      '',
      '*',
      '//host/path',
      'http://localhost/graphql',
      '/a/../graphql',
      '/a/./b',
      '/a/..',
      '/a/.',
      '/.',
      '/%2e%2e/graphql',
      '/a%2Fb',
      '/a\\..\\graphql',
      '/a#b',
      '/a b',
      '/a"b',
      '/a{b}',
      '/a`b',
      '/a^b',
      '/a|b',
      '/é',
    ]) {
      expect({ target, path: plainPath(target) }).toEqual({ target, path: undefined });
    }
  });
});
