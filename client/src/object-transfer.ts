import { KeywardenError, networkError, uploadError } from './errors.ts';
import { abortReason, type FetchLike } from './keywarden-api.ts';

/** The part of XMLHttpRequest used for uploads with byte progress (browsers, React Native). */
interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  getResponseHeader(name: string): string | null;
  send(body: Blob): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  readonly upload: { onprogress: ((event: { loaded: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}

export interface PutRequest {
  url: string;
  /** Headers signed into the URL, sent exactly as keywarden answered them. */
  headers?: Record<string, string> | undefined;
  body: Blob;
  signal: AbortSignal;
  /** Bytes of `body` sent so far; byte by byte with XMLHttpRequest, at the end with fetch. */
  onProgress?: ((loaded: number) => void) | undefined;
}

/** Content-Length comes from the body: browsers refuse it as a header, and it is signed as the body's size. */
function sendableHeaders(headers: Record<string, string> = {}): Array<[string, string]> {
  return Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'content-length');
}

function xhrConstructor(): (new () => XhrLike) | undefined {
  return (globalThis as { XMLHttpRequest?: new () => XhrLike }).XMLHttpRequest;
}

function putWithXhr(Xhr: new () => XhrLike, request: PutRequest): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const xhr = new Xhr();
    const onAbort = () => xhr.abort();
    const settle = (done: () => void) => {
      request.signal.removeEventListener('abort', onAbort);
      done();
    };
    xhr.open('PUT', request.url);
    for (const [name, value] of sendableHeaders(request.headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => request.onProgress?.(event.loaded);
    xhr.onload = () =>
      settle(() =>
        xhr.status >= 200 && xhr.status < 300
          ? resolve(xhr.getResponseHeader('etag'))
          : reject(uploadError(xhr.status, xhr.responseText, xhr.getResponseHeader('x-amz-request-id'))),
      );
    xhr.onerror = () => settle(() => reject(networkError(undefined)));
    xhr.onabort = () => settle(() => reject(abortReason(request.signal)));
    request.signal.addEventListener('abort', onAbort, { once: true });
    xhr.send(request.body);
  });
}

async function putWithFetch(fetchImpl: FetchLike, request: PutRequest): Promise<string | null> {
  let response: Response;
  try {
    response = await fetchImpl(request.url, {
      method: 'PUT',
      headers: sendableHeaders(request.headers),
      body: request.body,
      signal: request.signal,
    });
  } catch (error) {
    if (request.signal.aborted) throw abortReason(request.signal);
    throw networkError(error);
  }
  if (!response.ok) {
    throw uploadError(response.status, await response.text(), response.headers.get('x-amz-request-id'));
  }
  await response.body?.cancel();
  request.onProgress?.(request.body.size);
  return response.headers.get('etag');
}

/**
 * PUTs a body to a presigned URL and answers the ETag S3 returned (null when the browser may
 * not read it: the bucket's CORS configuration must expose `ETag`). XMLHttpRequest where
 * there is one and progress is wanted, because fetch reports no upload progress.
 */
export function putObject(fetchImpl: FetchLike, request: PutRequest): Promise<string | null> {
  if (request.signal.aborted) return Promise.reject(abortReason(request.signal));
  const Xhr = xhrConstructor();
  return Xhr && request.onProgress ? putWithXhr(Xhr, request) : putWithFetch(fetchImpl, request);
}

/**
 * Failures worth another try with a freshly signed URL: no answer, S3 busy or failing, a slow
 * body (RequestTimeout), or an expired URL. Not a refused signature or policy.
 */
export function isTransientUploadFailure(error: unknown): boolean {
  if (!(error instanceof KeywardenError)) return false;
  if (error.code === 'network_error') return true;
  if (error.code !== 'upload_failed') return false;
  return (
    error.status >= 500 ||
    error.status === 408 ||
    error.status === 429 ||
    error.s3Code === 'RequestTimeout' ||
    (error.status === 403 && /expired/i.test(error.message))
  );
}
