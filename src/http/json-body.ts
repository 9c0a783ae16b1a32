import type { Request } from 'express';
import type { z } from 'zod';
import { BadRequestError, UnsupportedMediaTypeError } from './errors.ts';

/**
 * The request's JSON body, or undefined when it sent no body. express.json parses only JSON
 * and leaves `req.body` undefined for anything else, so a body of another media type (a
 * text/plain form post, say) is refused here with 415 rather than taken for "no body".
 */
export function jsonBodyOf(req: Request): unknown {
  if (req.body !== undefined) return req.body;
  if (Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding')) {
    throw new UnsupportedMediaTypeError();
  }
  return undefined;
}

/** `raw` as `schema` parses it, or 400 `invalid_request` with `message` and each issue's path and message. */
export function validRequest<T>(schema: z.ZodType<T>, raw: unknown, message: string): T {
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new BadRequestError(message, 'invalid_request', {
      extensions: {
        errors: result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
      },
    });
  }
  return result.data;
}
