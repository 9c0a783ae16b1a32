import { VendingNotConfiguredError } from '../broker/vending-readiness.ts';
import { BadRequestError } from '../http/errors.ts';
import type { PresignService } from './presign-service.ts';

/**
 * The presign service of a server with no `presign.buckets`: every request names a bucket
 * that is not configured, or, on a server that cannot vend credentials at all, says that
 * first. It stands in for the real service so that the S3 SDK and the presigners are never
 * loaded by a configuration that cannot use them.
 */
export function noBucketsPresignService(options: { vendingConfigured: boolean }): PresignService {
  const refuse = (): never => {
    if (!options.vendingConfigured) throw new VendingNotConfiguredError();
    throw new BadRequestError('No such bucket is configured.', 'unknown_bucket');
  };
  return { presign: async () => refuse(), multipart: async () => refuse(), bucketFor: refuse };
}
