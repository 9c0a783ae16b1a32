import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { safeReturnTo } from '../src/auth/return-to.ts';

const config = { auth: { landingPath: '/home' }, cors: { origins: ['https://spa.example.test'] } };

describe('safeReturnTo', () => {
  it('keeps local paths, with their query and fragment', () => {
    for (const value of ['/', '/app', '/app/page?x=1&y=%2F', '/a#section', '/%2F%2Fstill-local']) {
      assert.equal(safeReturnTo(value, config), value, value);
    }
  });

  it('keeps URLs on a configured SPA origin only', () => {
    assert.equal(
      safeReturnTo('https://spa.example.test/after?x=1', config),
      'https://spa.example.test/after?x=1',
    );
    assert.equal(safeReturnTo('https://spa.example.test.evil.example/', config), '/home');
    assert.equal(safeReturnTo('http://spa.example.test/', config), '/home');
    assert.equal(safeReturnTo('https://user:pass@spa.example.test/', config), '/home');
  });

  it('falls back to the landing page for everything that could leave the site', () => {
    const hostile = [
      '//evil.example',
      '//evil.example/path',
      '/\\evil.example',
      '\\\\evil.example',
      '/\\/evil.example',
      // Dot segments that the URL parser collapses into a protocol-relative `//host`.
      '/.//evil.example',
      '/..//evil.example',
      '/a/..//evil.example',
      '/%2e//evil.example',
      '/%2E%2E//evil.example/x?y=1',
      'https://evil.example',
      'http://evil.example',
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'evil.example',
      '/ok\r\nSet-Cookie: planted=1',
      '/ok\nLocation: https://evil.example',
      '/\t/evil.example',
      '/ok\u0000',
      '/ok\u007f',
      '',
      `/${'a'.repeat(3_000)}`,
    ];
    for (const value of hostile) assert.equal(safeReturnTo(value, config), '/home', JSON.stringify(value));
  });

  it('falls back for anything that is not one string', () => {
    for (const value of [undefined, null, 42, ['/a', '/b'], { toString: () => '/a' }]) {
      assert.equal(safeReturnTo(value, config), '/home');
    }
  });
});
