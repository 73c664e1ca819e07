import { FrameCodec, protoLimits } from '@pulse/proto';

/**
 * The codec of the test clients: limits far above any server's, so a test can
 * send (and receive) what the server must refuse, and see the server refuse it.
 */
export const TEST_CODEC = new FrameCodec(
  protoLimits({ maxFrameBytes: 8 * 1024 * 1024, maxPayloadBytes: 8 * 1024 * 1024 }),
);
