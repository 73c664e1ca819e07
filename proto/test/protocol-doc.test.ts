import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { APP_ERROR_CODES, FRAME_TYPES, PROTO_ERROR_CODES } from '../src/index.ts';

const doc = readFileSync(new URL('../PROTOCOL.md', import.meta.url), 'utf8');

describe('PROTOCOL.md matches the code', () => {
  it('documents every frame type', () => {
    expect(FRAME_TYPES.filter((type) => !doc.includes(`\`${type}\``))).toEqual([]);
  });

  it('documents every error code', () => {
    const codes = [...PROTO_ERROR_CODES, ...APP_ERROR_CODES];
    expect(codes.filter((code) => !doc.includes(`\`${code}\``))).toEqual([]);
  });
});
