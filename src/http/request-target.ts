// The path of a request target (`req.url`) without parsing it as a URL when that cannot change it.

const PLAIN_PATH = /^\/(?!\/)[\w\-.~/]*$/;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

/**
 * The target's path as `new URL(target, 'http://localhost').pathname` reads it, when the target is
 * an origin-form path of letters, digits, `-._~` and `/` (nothing WHATWG URL parsing would
 * percent-encode, resolve or take as an authority: no `//` at the start, no dot segments, no
 * backslash, no percent-encoding), which is every path this server answers; undefined otherwise
 * (then the URL parser decides).
 */
export function plainPath(target: string): string | undefined {
  const query = target.indexOf('?');
  const path = query < 0 ? target : target.slice(0, query);
  return PLAIN_PATH.test(path) && !DOT_SEGMENT.test(path) ? path : undefined;
}
