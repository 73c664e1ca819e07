import { MemoryStore } from './helpers/memory-store.ts';
import { storageSuite } from './storage-suite.ts';

// The tests' in-memory store keeps the same contract as SQLite (so core tests on it mean something).
storageSuite('memory', () => new MemoryStore());
