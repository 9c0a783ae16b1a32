import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type RequestHandler, Router } from 'express';
import type { PortalConfig } from '../../config/portal-schema.ts';

/**
 * The mark in the portal's header and the site's favicon: keywarden's own (a key on a blue
 * square) unless `portal.logoFile` names the operator's. Both are served from this origin,
 * because the portal's CSP allows images from 'self' only, and are mounted ahead of the rate
 * limiter and the session middleware: a browser asks for /favicon.ico on every visit, and the
 * answer is a fixed file that needs no state.
 */

/** The default mark (32×32 user units; it scales). */
export const DEFAULT_MARK_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' +
  '<rect width="32" height="32" rx="7" fill="#0b5cad"/>' +
  '<circle cx="12" cy="13" r="5.5" fill="none" stroke="#fff" stroke-width="3"/>' +
  '<path d="M16 17l9 9m-4.5-4.5 3-3m0 6 3-3" fill="none" stroke="#fff" stroke-width="3" ' +
  'stroke-linecap="round" stroke-linejoin="round"/></svg>\n';

/** DEFAULT_MARK_SVG rendered at 32×32 (transparent corners), for the .ico every browser reads. */
const DEFAULT_MARK_PNG_32 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAADjElEQVR4nMSXaUgUYRjH/zM7bl7lqpRZgR1aVqwdRncfKsKMDuzA' +
    'MDuoMDopKos+VBBEGSHYAZaVhJofjE20PKLsg5lSeWZ55ZHlRZZHee9O7zuLs4ozJsPu+oNlnvea5z/Pezz7chjIPp3Gvld/ilhL' +
    'GYaZT54TYB6aeJ7PJ8/sDhtVOKIDWvobmH7DfpfOHzBEMQwmwYLwPOoA9mBHbECKKMAhKMEPLJMKK8Lz7AYqgkFQsrM9211MlLjD' +
    'itBIdPTotZwd073X2s4pdKrt1Ko9HEsWHEYJ6pvj6YofppOTvQ1O+Hth0QxnaD00Ql1RTQtyKn4h4kU5/nT1QSmCb4fgp7xch3U+' +
    'bogMWYQJTmMk2+t/dyEk8gMyipugFFauYa3WDbqzK2SdU9ydbZF0fqUgVCmcVKWGhP1eiK9Yfp5bj/DkMnz50SaUZ08ehzObZ2H9' +
    '/IlC+e5BXywMTUe7gumQjMCuVR5w09gKdkpeAwLD3yG7vBmtHb3Cj9rbb2YhLb9B6EMjEUTGKEFSwGIvF9EOSyyRHXztmaltqZcr' +
    'lCA5BUs8TS/7/L1VdnBFQ7toL5upTIBkBNQcK2kPh42KgRIk315QIyYreLmPlR08sC2vugVmE1D0zRT2s5u9ZQeHBc8T7cIaMwqI' +
    'elWJtk7jlvJfMBEJp5djCVmY4+w4uDiqBTvzyhrhdKR09xnw4HUVlCB7Em7ynYQnJ0eeJm6nVuB8bKFYDt3ijf2rp+FmUinukw+S' +
    'Q3aFJX2sQ8CNt2hq7ZYd3NmjF+1j6z1xPdhHsOnUXNw+B1Nc7XA1SIvhUKl9Ai/LNVY2/kX0m2r06Xn0kDBrHNTCaZdd1oz4rFrs' +
    'vpUDR1uOTIXx3Fjs6YKNJHIbfU3ZPSyxFJklP+VcYNhkNFLoFx/xmzGkPiKlHBfiishCnoUDa6ZLTsfINvl/CI0pQOTLr4Pq7qRV' +
    'CM6puEs75spOBwczcfpxgfA8tM4YiaN+nljlPR4+Hk5iHxoBiwmQEjHQOY3IwNxhEQFSIvqdn4splOyvUmsDD5M/544wI+kFjXAd' +
    'qx60Oz7VtqK0rn1wRx6NLNkC+bAANBKPMkynIyORq6hvjmf4fAaMHyzA8Yd5yK0y5ojE93VDBVDftjt1U1WcIY+UNbAuLfo+dgHb' +
    'FR9QbeCxH1aGNzD7qG/hIOqM3aajdzXjxdHCjokP4V4YtzWRlgcvjVG4nv8DAAD//+LTWbYAAAAGSURBVAMAPnpIDiDo4XAAAAAA' +
    'SUVORK5CYII=',
  'base64',
);

/** An ICO file holding one PNG image (a form every browser since IE 11 reads). */
function icoWithPng(png: Buffer, size: number): Buffer {
  const header = Buffer.alloc(6 + 16);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(1, 4); // one image
  header.writeUInt8(size, 6); // width (0 would mean 256)
  header.writeUInt8(size, 7); // height
  header.writeUInt8(0, 8); // no palette
  header.writeUInt8(0, 9); // reserved
  header.writeUInt16LE(1, 10); // colour planes
  header.writeUInt16LE(32, 12); // bits per pixel
  header.writeUInt32LE(png.length, 14); // image size
  header.writeUInt32LE(header.length, 18); // image offset
  return Buffer.concat([header, png]);
}

export const LOGO_PATH = '/portal/assets/logo';
export const FAVICON_PATH = '/favicon.ico';

/**
 * Image types a logo file may have, by extension (the type is never sniffed from content);
 * the config check (src/config/portal-schema.ts) refuses other extensions and files over 256 KiB.
 */
const LOGO_TYPES: Readonly<Record<string, string>> = {
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.ico': 'image/x-icon',
};

interface ImageAsset {
  readonly contentType: string;
  readonly body: Buffer;
  readonly etag: string;
}

function imageAsset(contentType: string, body: Buffer): ImageAsset {
  return {
    contentType,
    body,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`,
  };
}

/** The logo and favicon this configuration serves. Reads `portal.logoFile` once, at start-up. */
export function brandImages(portal: Pick<PortalConfig, 'logoFile'>): {
  logo: ImageAsset;
  favicon: ImageAsset;
} {
  if (!portal.logoFile) {
    return {
      logo: imageAsset('image/svg+xml', Buffer.from(DEFAULT_MARK_SVG)),
      favicon: imageAsset('image/x-icon', icoWithPng(DEFAULT_MARK_PNG_32, 32)),
    };
  }
  const type = LOGO_TYPES[path.extname(portal.logoFile).toLowerCase()];
  if (!type) throw new Error(`portal.logoFile: not an image type keywarden serves: ${portal.logoFile}`);
  const logo = imageAsset(type, readFileSync(portal.logoFile));
  return { logo, favicon: logo };
}

/**
 * An SVG can carry script. Shown through <img> it never runs, but opened directly it would
 * run in this origin; the sandbox CSP keeps it inert either way.
 */
const IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

function serveImage(image: ImageAsset): RequestHandler {
  return (req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.setHeader('ETag', image.etag);
    res.setHeader('Content-Security-Policy', IMAGE_CSP);
    if (req.get('if-none-match') === image.etag) {
      res.status(304).end();
      return;
    }
    res.type(image.contentType).send(image.body);
  };
}

/** GET /favicon.ico and the header logo: fixed files, no session, no rate limit, cached a day. */
export function brandRoutes(portal: Pick<PortalConfig, 'logoFile'>): Router {
  const { logo, favicon } = brandImages(portal);
  const router = Router();
  router.get(FAVICON_PATH, serveImage(favicon));
  router.get(LOGO_PATH, serveImage(logo));
  return router;
}
