/**
 * The `Kms` interface: the KMS 2016-01-20 actions kmsenv uses, with the
 * request and response fields spelled exactly as the RPC API spells them
 * (PascalCase), so there is no translation layer to get wrong. The HTTP
 * client (`src/kms/client.ts`) implements it; the emulator serves it.
 *
 * @module
 */

import { KmsenvError } from "../errors.ts";

/** Encryption context: a flat string → string map (KMS-API.md §3.0). */
export type EncryptionContext = Record<string, string>;

export type KeyState = "Enabled" | "Disabled" | "PendingDeletion" | "PendingImport";

/** KeyMetadata as returned by CreateKey and DescribeKey. */
export interface KeyMetadata {
  KeyId: string;
  Arn: string;
  CreationDate: string;
  Creator: string;
  Description: string;
  KeySpec: string;
  KeyUsage: string;
  KeyState: string;
  Origin: string;
  ProtectionLevel: string;
  PrimaryKeyVersion: string;
  LastRotationDate: string;
  AutomaticRotation: string;
  DeleteDate?: string | undefined;
  MaterialExpireTime?: string | undefined;
  DeletionProtection?: string | undefined;
  RotationInterval?: string | undefined;
  NextRotationDate?: string | undefined;
}

interface WithRequestId {
  RequestId: string;
}

export interface CreateKeyRequest {
  Description?: string | undefined;
  KeySpec?: string | undefined;
  KeyUsage?: string | undefined;
  Origin?: string | undefined;
  ProtectionLevel?: string | undefined;
}
export interface KeyMetadataResponse extends WithRequestId {
  KeyMetadata: KeyMetadata;
}

export interface ListKeysRequest {
  PageNumber?: number | undefined;
  PageSize?: number | undefined;
}
export interface ListKeysResponse extends WithRequestId {
  Keys: { Key: { KeyId: string; KeyArn: string }[] };
  TotalCount: number;
  PageNumber: number;
  PageSize: number;
}
export interface AliasEntry {
  AliasName: string;
  AliasArn: string;
  KeyId: string;
}
export interface ListAliasesResponse extends WithRequestId {
  Aliases: { Alias: AliasEntry[] };
  TotalCount: number;
  PageNumber: number;
  PageSize: number;
}

export interface GenerateDataKeyRequest {
  /** Key id, `alias/…`, or key ARN. */
  KeyId: string;
  KeySpec?: "AES_256" | "AES_128" | undefined;
  NumberOfBytes?: number | undefined;
  EncryptionContext?: EncryptionContext | undefined;
}
export interface GenerateDataKeyResponse extends WithRequestId {
  KeyId: string;
  KeyVersionId: string;
  CiphertextBlob: string;
  /** Base64 of the raw data key. */
  Plaintext: string;
}
export interface CiphertextResponse extends WithRequestId {
  KeyId: string;
  KeyVersionId: string;
  CiphertextBlob: string;
}
export interface EncryptRequest {
  KeyId: string;
  /** Base64 of the bytes to encrypt (at most 6 KiB of data). */
  Plaintext: string;
  EncryptionContext?: EncryptionContext | undefined;
}
export interface DecryptRequest {
  CiphertextBlob: string;
  EncryptionContext?: EncryptionContext | undefined;
}
export interface DecryptResponse extends WithRequestId {
  KeyId: string;
  KeyVersionId: string;
  /** Base64, exactly as given to Encrypt / as generated. */
  Plaintext: string;
}
export interface ReEncryptRequest {
  CiphertextBlob: string;
  DestinationKeyId: string;
  SourceEncryptionContext?: EncryptionContext | undefined;
  DestinationEncryptionContext?: EncryptionContext | undefined;
}

/** The KMS actions kmsenv uses. One instance talks to one region. */
export interface Kms {
  /** The region this client talks to, e.g. `cn-hangzhou`. */
  readonly region: string;
  createKey(req?: CreateKeyRequest): Promise<KeyMetadataResponse>;
  describeKey(req: { KeyId: string }): Promise<KeyMetadataResponse>;
  listKeys(req?: ListKeysRequest): Promise<ListKeysResponse>;
  listAliases(req?: ListKeysRequest): Promise<ListAliasesResponse>;
  createAlias(req: { AliasName: string; KeyId: string }): Promise<WithRequestId>;
  updateAlias(req: { AliasName: string; KeyId: string }): Promise<WithRequestId>;
  deleteAlias(req: { AliasName: string }): Promise<WithRequestId>;
  generateDataKey(req: GenerateDataKeyRequest): Promise<GenerateDataKeyResponse>;
  generateDataKeyWithoutPlaintext(req: GenerateDataKeyRequest): Promise<CiphertextResponse>;
  encrypt(req: EncryptRequest): Promise<CiphertextResponse>;
  decrypt(req: DecryptRequest): Promise<DecryptResponse>;
  reEncrypt(req: ReEncryptRequest): Promise<CiphertextResponse>;
  enableKey(req: { KeyId: string }): Promise<WithRequestId>;
  disableKey(req: { KeyId: string }): Promise<WithRequestId>;
  scheduleKeyDeletion(
    req: { KeyId: string; PendingWindowInDays: number },
  ): Promise<WithRequestId>;
  cancelKeyDeletion(req: { KeyId: string }): Promise<WithRequestId>;
}

/** Details of an error answered by KMS (or by the network on the way). */
export interface KmsApiErrorDetails {
  /** KMS error code, e.g. `Forbidden.AliasNotFound`; `NetworkError` / `Timeout` for transport failures. */
  code: string;
  /** HTTP status; 0 when no response arrived. */
  status: number;
  requestId?: string | undefined;
  action: string;
  region: string;
  hint?: string | undefined;
  /** How many attempts were made before giving up. */
  attempts?: number | undefined;
  cause?: unknown;
}

/** An error answered by KMS. The message never contains secrets. */
export class KmsApiError extends KmsenvError {
  readonly code: string;
  readonly status: number;
  readonly requestId: string | undefined;
  readonly action: string;
  readonly region: string;
  readonly attempts: number;
  constructor(message: string, details: KmsApiErrorDetails) {
    super(message, { hint: details.hint, cause: details.cause });
    this.code = details.code;
    this.status = details.status;
    this.requestId = details.requestId;
    this.action = details.action;
    this.region = details.region;
    this.attempts = details.attempts ?? 1;
  }
}
