#!/usr/bin/env node
// The `pulse-chat` command: loads tsx's ESM hooks (the workspace runs TypeScript
// from source, no build step), then the CLI itself.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
