import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { APP_ERROR_CODES, FRAME_TYPES, PROTO_ERROR_CODES, REQUEST_ANSWERS } from '../src/index.ts';

const doc = readFileSync(new URL('../PROTOCOL.md', import.meta.url), 'utf8');

/** The text of one `## heading` section, up to the next heading of the same level. */
function section(heading: string): string {
  const start = doc.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`PROTOCOL.md has no "## ${heading}" section`);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

const cellsOf = (line: string) =>
  line
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());

/** The first cell of every body row of the Markdown tables in `text` whose header row is `header`. */
function firstCells(text: string, header: readonly string[]): string[] {
  return bodyRows(text, header).map((row) => row[0] ?? '');
}

/** The body rows, as cells, of the Markdown tables in `text` whose header row is `header`. */
function bodyRows(text: string, header: readonly string[]): string[][] {
  const rows: string[][] = [];
  let inTable = false;
  let wanted = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) {
      inTable = false;
      continue;
    }
    const row = cellsOf(line);
    if (!inTable) {
      inTable = true;
      wanted = row.join('|') === header.join('|');
    } else if (wanted && !/^-+$/.test(row[0] ?? '')) {
      rows.push(row);
    }
  }
  return rows;
}

/** Backticked names in a cell: `ping` / `pong` → ping, pong. */
const namesIn = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');

describe('PROTOCOL.md matches the code', () => {
  it('has one row in a frame table for every frame type, and none for a type that does not exist', () => {
    const documented = [
      ...firstCells(section('Frames'), ['frame', 'dir', 'fields', 'answer']),
      ...firstCells(section('Frames'), ['frame', 'dir', 'fields']),
    ].flatMap(namesIn);
    expect([...documented].sort()).toEqual([...FRAME_TYPES].sort());
  });

  it('lists every error code in the Errors table, and no code the code does not have', () => {
    const documented = firstCells(section('Errors'), ['code', 'meaning']).flatMap(namesIn);
    expect([...documented].sort()).toEqual([...PROTO_ERROR_CODES, ...APP_ERROR_CODES].sort());
  });

  it("names each request's answer in the answer column, as the request table has it", () => {
    const rows = bodyRows(section('Frames'), ['frame', 'dir', 'fields', 'answer']);
    for (const [request, answer] of Object.entries(REQUEST_ANSWERS)) {
      const row = rows.find((cells) => namesIn(cells[0] ?? '').includes(request));
      expect(row?.[1], request).toBe('C');
      expect(namesIn(row?.[3] ?? ''), request).toContain(answer);
    }
  });
});
