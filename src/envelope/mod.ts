/**
 * The kmsenv v1 envelope format: pure cryptography and encoding, no KMS calls
 * and no file-path policy. See docs/FORMAT.md for the normative spec.
 *
 * @module
 */

export { checkContext, type ContextMatch } from "./context.ts";
export { DataKey } from "./data_key.ts";
export { DecryptError, type DecryptErrorKind, isNotKmsenv } from "./errors.ts";
export {
  canonicalContextJson,
  DEFAULT_SEGMENT_SIZE,
  encodeHeader,
  type Header,
  type HeaderFields,
  type KeySlot,
  MAX_SEGMENT_SIZE,
  MAX_SLOTS,
  MIN_SEGMENT_SIZE,
  readHeader,
  type ReadHeaderResult,
  withSlots,
} from "./header.ts";
export { checkSegmentSize } from "./segments.ts";
export {
  decryptBytes,
  decryptFile,
  type DecryptFileResult,
  decryptStream,
  encryptBytes,
  encryptFile,
  type EncryptFileResult,
  type EncryptOptions,
  encryptStream,
  inspectFile,
  type InspectResult,
  type ProgressOptions,
  type ResolveKey,
  rewriteSlots,
  type RewriteSlotsResult,
} from "./stream.ts";
