import { resolve } from 'node:path';

/** The repository root (testing/src → ../..): child processes run from here, as `npm run` would. */
export const REPO_ROOT = resolve(import.meta.dirname, '../..');
