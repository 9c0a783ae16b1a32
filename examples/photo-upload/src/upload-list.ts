import { type KeywardenClient, KeywardenError } from '@keywarden/client';
import { formatBytes } from './dom.ts';
import { uploadKey } from './photo-library.ts';

/**
 * Uploads files with `@keywarden/client`'s `upload()`: a presigned PUT, or a multipart
 * upload for files over 16 MiB, each row with a progress bar fed byte by byte.
 */
export async function uploadFiles(
  keywarden: KeywardenClient,
  files: readonly File[],
  list: HTMLUListElement,
  onUploaded: () => Promise<void>,
): Promise<void> {
  // One at a time: each multipart upload already sends four parts at once.
  for (const file of files) {
    const row = uploadRow(file);
    list.append(row.item);
    try {
      const result = await keywarden.upload(file, {
        key: uploadKey(file.name),
        contentType: file.type || 'application/octet-stream',
        onProgress: ({ loaded, total }) => row.progress(loaded, total),
      });
      row.done(result.uploadId ? 'uploaded in parts' : 'uploaded');
      await onUploaded();
    } catch (error) {
      row.failed(error);
    }
  }
}

function uploadRow(file: File) {
  const item = document.createElement('li');
  const name = document.createElement('span');
  name.textContent = file.name;
  const bar = document.createElement('progress');
  bar.max = 1;
  bar.value = 0;
  bar.setAttribute('aria-label', `Upload of ${file.name}`);
  const status = document.createElement('span');
  status.className = 'muted';
  status.textContent = `0 of ${formatBytes(file.size)}`;
  item.append(name, bar, status);
  item.dataset.state = 'uploading';
  return {
    item,
    progress(loaded: number, total: number) {
      bar.value = total === 0 ? 1 : loaded / total;
      status.textContent = `${formatBytes(loaded)} of ${formatBytes(total)}`;
    },
    done(how: string) {
      bar.value = 1;
      status.textContent = `${formatBytes(file.size)}, ${how}`;
      item.dataset.state = 'done';
    },
    failed(error: unknown) {
      status.textContent = `failed: ${describeError(error)}`;
      item.dataset.state = 'failed';
    },
  };
}

/** keywarden's stable error code when there is one (`content_type_not_allowed`…), else the message. */
export function describeError(error: unknown): string {
  if (error instanceof KeywardenError) return error.code;
  return error instanceof Error ? error.message : String(error);
}
