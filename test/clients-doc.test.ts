import { readFileSync } from 'node:fs';
import path from 'node:path';

// docs/clients.md quotes the web client: each block introduced by "From [`web/...`](../web/...):"
// must still be in that file, line for line (its indentation aside), so the guide stays true.

const root = path.resolve(__dirname, '..');
const guide = readFileSync(path.join(root, 'docs', 'clients.md'), 'utf8');
const quotes = [...guide.matchAll(/^From \[`([^`]+)`\]\(\.\.\/\1\):\n\n```tsx?\n([\s\S]*?)\n```$/gm)].map((match) => ({ file: match[1]!, lines: match[2]!.split('\n') }));

/** Whether `lines` appear consecutively in `source`, all shifted by the same indentation. */
function quotedIn(source: string[], lines: string[]): boolean {
  return source.some((first, start) => {
    if (!first.endsWith(lines[0]!)) return false;
    const indent = first.slice(0, first.length - lines[0]!.length);
    if (indent.trim() !== '') return false;
    return lines.every((line, offset) => source[start + offset] === (line === '' ? '' : indent + line));
  });
}

describe('docs/clients.md', () => {
  test('quotes the web client', () => {
    expect(quotes.length).toBeGreaterThanOrEqual(8);
  });

  test.each(quotes.map((quote) => [quote.file, quote.lines.length, quote] as const))('its quote of %s (%i lines) is still in that file', (file, _count, quote) => {
    const source = readFileSync(path.join(root, file), 'utf8').split('\n');
    expect(quotedIn(source, quote.lines)).toBe(true);
  });
});
