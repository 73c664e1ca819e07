/**
 * What a sealed message carries once opened (libsignal UnidentifiedSenderMessageContent,
 * sealed_sender.proto `UnidentifiedSenderMessage.Message`):
 *   type = 1: enum, senderCertificate = 2: bytes, content = 3: bytes, contentHint = 4: enum (absent
 *   for Default), groupId = 5: bytes (absent when empty)
 * `content` is the inner message (a Double Ratchet message the caller decrypts with its
 * SessionRecord, or a sender-key message); the certificate names who sent it.
 */
import { expectBytes } from '../bytes.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { ProtoFields, ProtoWriter } from './protobuf.ts';
import { SenderCertificate } from './sender-certificate.ts';

/**
 * The inner message's kind. Wire values are sealed_sender.proto's: PREKEY_MESSAGE = 1,
 * MESSAGE = 2, SENDERKEY_MESSAGE = 7, PLAINTEXT_CONTENT = 8 (3 to 6 reserved).
 */
export type SealedContentType = 'prekey' | 'message' | 'senderkey' | 'plaintext';

const TYPE_TO_WIRE: Readonly<Record<SealedContentType, number>> = {
  prekey: 1,
  message: 2,
  senderkey: 7,
  plaintext: 8,
};
const WIRE_TO_TYPE = new Map<number, SealedContentType>(
  Object.entries(TYPE_TO_WIRE).map(([name, wire]) => [wire, name as SealedContentType]),
);

/** libsignal ContentHint: what the recipient should do when it cannot decrypt (0 when absent). */
export const ContentHint = Object.freeze({
  /** Show an error at once: the sender will not resend. */
  Default: 0,
  /** The sender will resend: delay any error. */
  Resendable: 1,
  /** Show nothing (typing indicators, receipts). */
  Implicit: 2,
});

export interface SealedContentFields {
  readonly type: SealedContentType;
  readonly senderCertificate: SenderCertificate;
  /** The inner message's bytes. */
  readonly content: Uint8Array;
  /** A u32; ContentHint values or any other (kept as given, as libsignal's Unknown(u32)). Default 0. */
  readonly contentHint?: number;
  /** Set for group messages; an empty one is not written (as libsignal). */
  readonly groupId?: Uint8Array;
}

export class UnidentifiedSenderMessageContent {
  readonly type: SealedContentType;
  readonly senderCertificate: SenderCertificate;
  readonly content: Uint8Array;
  readonly contentHint: number;
  readonly groupId: Uint8Array | undefined;
  readonly #serialized: Uint8Array;

  constructor(fields: SealedContentFields, serialized?: Uint8Array) {
    if (!(fields.type in TYPE_TO_WIRE)) {
      throw new CryptoError(CryptoErrorCode.InvalidArgument, `unknown sealed content type '${String(fields.type)}'`);
    }
    if (!(fields.senderCertificate instanceof SenderCertificate)) {
      throw new CryptoError(CryptoErrorCode.InvalidArgument, 'senderCertificate must be a SenderCertificate');
    }
    const hint = fields.contentHint ?? ContentHint.Default;
    if (!Number.isInteger(hint) || hint < 0 || hint > 0xffffffff) {
      throw new CryptoError(CryptoErrorCode.InvalidArgument, 'content hint must be a u32');
    }
    this.type = fields.type;
    this.senderCertificate = fields.senderCertificate;
    this.content = expectBytes(fields.content, undefined, 'sealed content').slice();
    this.contentHint = hint;
    this.groupId =
      fields.groupId === undefined ? undefined : expectBytes(fields.groupId, undefined, 'group id').slice();
    this.#serialized = serialized ?? this.#encode();
  }

  #encode(): Uint8Array {
    const writer = new ProtoWriter()
      .uint(1, TYPE_TO_WIRE[this.type])
      .bytes(2, this.senderCertificate.serialize())
      .bytes(3, this.content);
    // libsignal ContentHint::to_proto: Default is absent; others are written as i32.
    if (this.contentHint !== ContentHint.Default) writer.int32(4, this.contentHint);
    if (this.groupId?.length) writer.bytes(5, this.groupId);
    return writer.finish();
  }

  static deserialize(bytes: Uint8Array): UnidentifiedSenderMessageContent {
    expectBytes(bytes, undefined, 'sealed content');
    const fields = ProtoFields.decode(bytes, [1, 2, 3, 4, 5], 'sealed content');
    const wireType = fields.uint32(1);
    const type = wireType === undefined ? undefined : WIRE_TO_TYPE.get(wireType);
    if (!type) throw new CryptoError(CryptoErrorCode.MalformedMessage, 'sealed content: unknown or missing type');
    const senderCertificate = SenderCertificate.deserialize(fields.requiredBytes(2));
    const content = fields.requiredBytes(3);
    // `raw as u32`: a negative int32 on the wire keeps its low 32 bits.
    const rawHint = fields.varint(4);
    const contentHint = rawHint === undefined ? ContentHint.Default : Number(rawHint & 0xffffffffn);
    const groupId = fields.bytes(5);
    return new UnidentifiedSenderMessageContent(
      { type, senderCertificate, content, contentHint, ...(groupId ? { groupId } : {}) },
      bytes.slice(),
    );
  }

  serialize(): Uint8Array {
    return this.#serialized.slice();
  }
}
