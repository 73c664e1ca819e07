import { loadNodePrimitives, noblePrimitives, type Primitives, webCryptoPrimitives } from '../src/primitives/index.ts';

/** Every primitives implementation, so one suite runs against all of them. */
export const ALL_PRIMITIVES: Primitives[] = [noblePrimitives, webCryptoPrimitives, loadNodePrimitives()!];
