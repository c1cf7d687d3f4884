// Relay global ids as the API encodes them (base64 of `Type:id`), for tests that need to
// reach a row directly or name one that does not exist.
export function globalId(type: string, id: number | bigint | string): string {
  return Buffer.from(`${type}:${id}`).toString('base64');
}

export function databaseId(id: string): number {
  return Number(Buffer.from(id, 'base64').toString().split(':')[1]);
}
