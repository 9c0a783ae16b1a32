import type { MultipartRequest, MultipartResult, PresignRequest, PresignResult } from './api-types.ts';
import type { KeywardenApi } from './keywarden-api.ts';

/** A presigned GET or PUT URL, or a POST form, for `key` under the caller's own prefix. */
export function presign(
  api: KeywardenApi,
  request: PresignRequest,
  signal?: AbortSignal,
): Promise<PresignResult> {
  return api.call<PresignResult>({ method: 'POST', path: '/presign', body: request, signal });
}

/** One multipart action (create, signParts, complete, abort, listParts); `upload()` uses these. */
export function presignMultipart(
  api: KeywardenApi,
  request: MultipartRequest,
  signal?: AbortSignal,
): Promise<MultipartResult> {
  return api.call<MultipartResult>({ method: 'POST', path: '/presign/multipart', body: request, signal });
}
