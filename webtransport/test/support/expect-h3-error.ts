/** The assertion every HTTP/3 and QPACK error test makes: the typed error, its stable code and its wire code. */
import { expect } from 'vitest';
import { H3_ERROR, H3Error, type H3ErrorName } from '../../src/h3/errors.ts';

/** `run` throws an H3Error with `code` and its wire code. */
export function expectH3Error(run: () => unknown, code: H3ErrorName): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(H3Error.is(thrown), `expected ${code}, got ${String(thrown)}`).toBe(true);
  expect((thrown as H3Error).code).toBe(code);
  expect((thrown as H3Error).wireCode).toBe(H3_ERROR[code]);
}
