/**
 * Everything presigning needs from the AWS SDK for S3, in one module that presign-service.ts
 * imports at the first presign rather than at start-up: the S3 client and its presigners are
 * the largest part of the SDK keywarden loads (start-up time and idle memory).
 */
export { completedUploadEtag } from './completed-upload.ts';
export { ObjectUrlSigner } from './object-url-signer.ts';
export {
  abortMultipartUpload,
  completeMultipartUpload,
  createCallerS3Client,
  createMultipartUpload,
  listUploadedParts,
  presignPostObject,
} from './s3-presigner.ts';
