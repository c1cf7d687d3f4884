// How error messages quote what the caller sent: a short prefix, never the whole input
// (an oversized value would otherwise come back in full, in every error about it).

/** At most this many characters of an input appear in a message. */
export const ECHO_MAX = 64;

/** The input shortened to ECHO_MAX characters, with characters that cannot travel replaced. */
export function echo(value: string): string {
  const shown = value.length > ECHO_MAX ? `${value.slice(0, ECHO_MAX)}…` : value;
  return shown.replace(/[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '?');
}

/** A whole message: every quoted part longer than ECHO_MAX shortened, the total bounded. */
export function shortenMessage(message: string, max = 600): string {
  if (message.length <= ECHO_MAX * 2) return message;
  // A quoted part cut off by the bound below ends at the end of the text.
  const quoted = new RegExp(`"((?:[^"\\\\]|\\\\.){${ECHO_MAX}})(?:[^"\\\\]|\\\\.)+("|$)`, 'g');
  // Bounded before the scan, so its cost does not grow with the input.
  const head = message.length > 20_000 ? message.slice(0, 20_000) : message;
  const shortened = head.replace(quoted, '"$1…$2');
  return shortened.length > max ? `${shortened.slice(0, max)}…` : shortened;
}
