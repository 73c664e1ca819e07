// Regenerates proto/test/vectors/frames.json from proto/test/frame-examples.ts.
// Run after a deliberate wire change: `node --import tsx scripts/gen-frame-vectors.ts`.
// The golden test then pins those bytes; review the diff like any protocol change.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FrameCodec } from '../proto/src/index.ts';
import { FRAME_EXAMPLES } from '../proto/test/frame-examples.ts';
import { frameToJson } from '../proto/test/frame-json.ts';

const codec = new FrameCodec();
const vectors = FRAME_EXAMPLES.map((frame) => ({
  frame: frameToJson(frame),
  hex: Buffer.from(codec.encode(frame)).toString('hex'),
}));
const target = fileURLToPath(new URL('../proto/test/vectors/frames.json', import.meta.url));
writeFileSync(target, `${JSON.stringify(vectors, null, 1)}\n`);
console.log(`wrote ${vectors.length} vectors to ${target}`);
