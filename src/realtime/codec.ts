// Event payloads cross Redis as JSON. Dates must come back as Dates, without guessing from
// string shapes (a message body may look like a date): the encoder lists where the Dates
// are, and the decoder turns exactly those strings back. Plain JSON.stringify/parse with no
// per-value callback: an event is encoded once per publish and decoded once per instance.
//
//   {"p": <payload, Dates as ISO strings>, "d": [["message", "createdAt"], ...]}

type Path = Array<string | number>;

function findDates(value: unknown, path: Path, found: Path[]): void {
  if (value === null || typeof value !== 'object') return;
  if (value instanceof Date) {
    found.push(path.slice());
    return;
  }
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) {
      path.push(index);
      findDates(value[index], path, found);
      path.pop();
    }
    return;
  }
  for (const key in value) {
    path.push(key);
    findDates((value as Record<string, unknown>)[key], path, found);
    path.pop();
  }
}

export function encodeEvent(payload: unknown): string {
  const dates: Path[] = [];
  findDates(payload, [], dates);
  return `{"d":${JSON.stringify(dates)},"p":${JSON.stringify(payload) ?? 'null'}}`;
}

export function decodeEvent<T = unknown>(text: string | Buffer): T {
  const { d: dates, p: payload } = JSON.parse(typeof text === 'string' ? text : text.toString('utf8')) as { d: Path[]; p: unknown };
  if (dates.length === 0) return payload as T;
  if (dates[0].length === 0) return new Date(payload as string) as T;
  for (const path of dates) {
    let parent = payload as Record<string | number, unknown>;
    for (let index = 0; index < path.length - 1; index += 1) parent = parent[path[index]] as Record<string | number, unknown>;
    const last = path[path.length - 1];
    parent[last] = new Date(parent[last] as string);
  }
  return payload as T;
}
