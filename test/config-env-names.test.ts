import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { z } from 'zod';
import { ConfigError, loadConfig, readEnvLayer } from '../src/config/load.ts';
import { configSchema } from '../src/config/schema.ts';

/**
 * "Every value can come from the environment": this walks the whole config schema, every
 * option under every object, under each record (with sample keys, one provider of each
 * kind) and every list, and sets each one through its documented environment name
 * (docs/configuration.md), both as `KEYWARDEN_<NAME>=value` and as `KEYWARDEN_<NAME>_FILE=/path`.
 * The name is spelled here from the documented rule, not by asking the loader.
 */

type Schema = z.core.$ZodType;
type Tree = Record<string, unknown>;

/** The documented rule: levels joined by `__`, each camelCase level in SCREAMING_SNAKE. */
function documentedEnvName(optionPath: readonly string[]): string {
  return `KEYWARDEN_${optionPath.map((level) => level.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__')}`;
}

// ---- a base config in which every record entry below exists and parses --------------------

const pem = (label: string, body: string) =>
  `-----BEGIN ${label}-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----`;
const certificateA = pem('CERTIFICATE', randomBytes(300).toString('base64'));
const certificateB = pem('CERTIFICATE', randomBytes(300).toString('base64'));
const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString()
  .trim();

/**
 * Objects whose fields are all required (a sentinel setup, a rate-limit rule) exist here
 * whole, as a config file would give them, so that each field can be overridden alone.
 */
const BASE: Tree = {
  store: {
    redis: {
      sentinel: { masterName: 'main', sentinels: [{ host: 'sentinel-0', port: 26379 }] },
      cluster: { rootNodes: [{ host: 'redis-0', port: 6379 }] },
    },
  },
  auth: {
    providers: {
      corp: { kind: 'oidc', issuer: 'https://idp.example/corp', clientId: 'keywarden' },
      lab: {
        kind: 'saml',
        idpEntityId: 'https://idp.example/lab',
        ssoUrl: 'https://idp.example/lab/sso',
        idpCertificates: [certificateA],
      },
    },
  },
  bearer: {
    issuers: {
      mobile: { issuer: 'https://idp.example/mobile', audiences: ['api'], claims: { extra: {} } },
    },
  },
  rateLimit: {
    groups: {
      uploads: { perIp: { points: 5, windowSeconds: 5 }, perIdentity: { points: 5, windowSeconds: 5 } },
    },
  },
  aws: { pool: { principalTags: { department: 'dept' } } },
  credentials: {
    roles: { admin: { arn: 'arn:aws:iam::123456789012:role/admin' } },
    scopes: { read: { policy: { Version: '2012-10-17', Statement: [] } } },
  },
  portal: {
    accounts: { '123456789012': 'Production' },
    device: { userCodeAttempts: { points: 5, windowSeconds: 5 } },
  },
};

/** The entries the walk enters under each record (a `*` stands for any key above it). */
const RECORD_KEYS: Record<string, string[]> = {
  'auth.providers': ['corp', 'lab'],
  'auth.providers.*.authParams': ['prompt'],
  'bearer.issuers': ['mobile'],
  'bearer.issuers.*.claims.extra': ['department'],
  'rateLimit.groups': ['uploads'],
  'aws.pool.principalTags': ['department'],
  'credentials.roles': ['admin'],
  'credentials.scopes': ['read'],
  'portal.accounts': ['123456789012'],
  'localAws.rolePolicies': ['admin'],
};

/** Values the generic generator cannot guess (formats, patterns, PEM). */
const SAMPLES: Record<string, unknown> = {
  'server.bodyLimit': '128kb',
  'store.redis.url': 'rediss://redis.example:6380',
  'auth.landingPath': '/app',
  'auth.devIdp.provider': 'corp',
  'auth.providers.*.authParams.*': 'login',
  'auth.providers.*.scopes': ['openid', 'groups'],
  'auth.providers.*.privateKey': privateKey,
  'auth.providers.*.privateKeyAlg': 'PS256',
  'auth.providers.*.issuer': 'https://idp.example/other',
  'auth.providers.*.postLogoutRedirectUri': 'https://app.example/bye',
  'auth.providers.*.ssoUrl': 'https://idp.example/other/sso',
  'auth.providers.*.sloUrl': 'https://idp.example/other/slo',
  'auth.providers.*.idpCertificates': [certificateB],
  'auth.providers.*.spCertificate': certificateB,
  'auth.providers.*.spPrivateKey': privateKey,
  'auth.providers.*.decryptionCertificate': certificateB,
  'auth.providers.*.decryptionPrivateKey': privateKey,
  'auth.providers.*.nameIdFormat': null,
  'auth.providers.*.maxMessageBytes': 64 * 1024,
  'auth.providers.*.signatureAlgorithm': 'sha512',
  'bearer.issuers.*.issuer': 'https://idp.example/other',
  'bearer.issuers.*.jwksUri': 'https://idp.example/jwks',
  'bearer.issuers.*.algorithms': ['PS256'],
  'bearer.issuers.*.provider': 'corp',
  'cors.origins': ['https://app.example'],
  'session.cookieName': 'kw',
  'session.secret': 'x'.repeat(40),
  'session.previousSecrets': ['y'.repeat(40)],
  'aws.region': 'eu-west-1',
  'aws.endpoint': 'http://127.0.0.1:4566',
  'aws.pool.identityPoolId': 'eu-west-1:0f0e0d0c-0b0a-0908-0706-050403020100',
  'credentials.roles.*.arn': 'arn:aws:iam::123456789012:role/other',
  'credentials.roleRules': [{ claim: 'groups', match: 'equals', value: 'admins', role: 'admin' }],
  'credentials.defaultRole': 'admin',
  'credentials.guestRole': 'admin',
  'credentials.defaultScope': 'read',
  'credentials.scopes.*.policy': { Version: '2012-10-17', Statement: [{ Effect: 'Deny' }] },
  'localAws.rolePolicies.*': {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::uploads-bucket/*' }],
  },
  'cache.keys': [`k1:${randomBytes(32).toString('base64url')}`],
  'presign.buckets': [{ name: 'uploads-bucket', region: 'eu-west-1' }],
  'portal.federationEndpoint': 'https://signin.example/federation',
  'portal.consoleUrl': 'https://console.example/',
  'portal.device.clientIds': ['my-cli'],
  'admin.revokeIssuedCredentials.maxPolicyChars': 6_144,
};

// ---- walking the schema ----------------------------------------------------------------

interface Leaf {
  path: string[];
  pattern: string;
  schema: Schema;
}

function unwrap(schema: Schema): Schema {
  let current = schema;
  for (;;) {
    const def = current._zod.def as { type: string; innerType?: Schema; in?: Schema; out?: Schema };
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe') current = def.in!._zod.def.type === 'transform' ? def.out! : def.in!;
    else return current;
  }
}

function getPath(tree: unknown, keys: readonly string[]): unknown {
  let node = tree;
  for (const key of keys) node = (node as Tree | undefined)?.[key];
  return node;
}

function parses(schema: Schema, value: unknown): boolean {
  return (schema as z.ZodType).safeParse(value).success;
}

function walk(schema: Schema, at: string[], pattern: string[], out: Leaf[]): void {
  const inner = unwrap(schema);
  const def = inner._zod.def as z.core.$ZodTypeDef;
  if (def.type === 'object') {
    const shape = (def as z.core.$ZodObjectDef).shape;
    // An IAM policy document (`Version`, `Statement`) is one value: its keys are AWS's, not
    // options, and the SCREAMING_SNAKE rule cannot spell PascalCase. It is set whole, as JSON.
    if (Object.keys(shape).some((key) => /^[A-Z]/.test(key))) {
      out.push({ path: at, pattern: pattern.join('.'), schema });
      return;
    }
    for (const [key, child] of Object.entries(shape)) {
      walk(child, [...at, key], [...pattern, key], out);
    }
    return;
  }
  if (def.type === 'record') {
    const record = def as z.core.$ZodRecordDef;
    if (unwrap(record.valueType)._zod.def.type === 'unknown') {
      out.push({ path: at, pattern: pattern.join('.'), schema });
      return;
    }
    const keys = RECORD_KEYS[pattern.join('.')];
    assert.ok(keys, `no sample key for the record ${pattern.join('.')}: add one to RECORD_KEYS`);
    for (const key of keys) walk(record.valueType, [...at, key], [...pattern, '*'], out);
    return;
  }
  const union = def as z.core.$ZodUnionDef & { discriminator?: string };
  if (def.type === 'union' && union.discriminator) {
    // A provider: walk the variant the base config gives this entry.
    const chosen = getPath(BASE, [...at, union.discriminator]);
    const option = union.options.find((candidate) =>
      parses(candidate, { ...(getPath(BASE, at) as Tree), [union.discriminator!]: chosen }),
    );
    assert.ok(option, `no variant of ${at.join('.')} fits BASE`);
    walk(option, at, pattern, out);
    return;
  }
  out.push({ path: at, pattern: pattern.join('.'), schema });
}

const leaves: Leaf[] = [];
walk(configSchema, [], [], leaves);

// ---- sample values -----------------------------------------------------------------------

const STRING_CANDIDATES = ['sample-text', 'https://sample.example/path', 'sampletext'];
const NUMBER_CANDIDATES = [7, 100, 301, 1_001, 20_000, 900_001];

/** A valid value for the option, unlike its default, or undefined when none is guessed. */
function generated(schema: Schema, pattern: string, fallback: unknown): unknown {
  if (pattern in SAMPLES) return SAMPLES[pattern];
  const inner = unwrap(schema);
  const def = inner._zod.def as z.core.$ZodTypeDef;
  const candidates: unknown[] = [];
  switch (def.type) {
    case 'boolean':
      candidates.push(!fallback);
      break;
    case 'number':
      candidates.push(...NUMBER_CANDIDATES);
      break;
    case 'string':
      candidates.push(...STRING_CANDIDATES);
      break;
    case 'enum':
      candidates.push(...Object.values((def as z.core.$ZodEnumDef).entries));
      break;
    case 'literal':
      return (def as z.core.$ZodLiteralDef<string>).values[0];
    case 'array': {
      const element = generated((def as z.core.$ZodArrayDef).element, `${pattern}[]`, undefined);
      candidates.push([element]);
      break;
    }
    case 'object': {
      const value: Tree = {};
      for (const [key, child] of Object.entries((def as z.core.$ZodObjectDef).shape)) {
        value[key] = generated(child, `${pattern}.${key}`, undefined);
      }
      candidates.push(value);
      break;
    }
    case 'union':
      for (const option of (def as z.core.$ZodUnionDef).options) {
        candidates.push(generated(option, pattern, fallback));
      }
      break;
  }
  return candidates.find(
    (candidate) => parses(schema, candidate) && JSON.stringify(candidate) !== JSON.stringify(fallback),
  );
}

/** What a value looks like in an environment variable or a secret file. */
function asEnvText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const baseParsed = configSchema.parse(structuredClone(BASE)) as Tree;

function mergeInto(base: Tree, layer: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(layer)) {
    const current = out[key];
    const bothTrees =
      typeof current === 'object' && current !== null && !Array.isArray(current) && typeof value === 'object';
    out[key] =
      bothTrees && value !== null && !Array.isArray(value)
        ? mergeInto(current as Tree, value as Tree)
        : value;
  }
  return out;
}

/** Sets one variable, then parses the base config with the environment layer over it. */
function parsedWith(env: NodeJS.ProcessEnv): { data?: Tree; problems: string[] } {
  const problems: string[] = [];
  const layer = readEnvLayer(env, problems);
  const result = configSchema.safeParse(mergeInto(structuredClone(BASE), layer));
  if (!result.success) {
    problems.push(...result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  return result.success ? { data: result.data as Tree, problems } : { problems };
}

const dir = mkdtempSync(path.join(tmpdir(), 'kw-env-names-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('every option can be set from its documented environment name', () => {
  it('walks a schema of the expected size', () => {
    // A guard on the walk itself: every section, both provider kinds, record entries.
    assert.ok(leaves.length > 150, `only ${leaves.length} options found`);
    const found = new Set(leaves.map((leaf) => leaf.path.join('.')));
    for (const option of [
      'server.port',
      'auth.providers.lab.idpMetadataFile',
      'auth.providers.corp.clientSecret',
      'auth.providers.corp.authParams.prompt',
      'bearer.issuers.mobile.jwks.timeoutMs',
      'credentials.scopes.read.policy',
      'portal.accounts.123456789012',
      'presign.buckets',
    ]) {
      assert.ok(found.has(option), option);
    }
  });

  for (const leaf of leaves) {
    const name = documentedEnvName(leaf.path);
    it(`${leaf.path.join('.')} ← ${name}`, () => {
      const fallback = getPath(baseParsed, leaf.path);
      const sample = generated(leaf.schema, leaf.pattern, fallback);
      assert.notEqual(sample, undefined, `no sample value for ${leaf.pattern}: add one to SAMPLES`);
      const expected = (leaf.schema as z.ZodType).parse(sample);
      if (unwrap(leaf.schema)._zod.def.type !== 'literal') {
        assert.notDeepEqual(expected, fallback, 'the sample must differ from the base value');
      }

      const direct = parsedWith({ [name]: asEnvText(sample) });
      assert.deepEqual(direct.problems, []);
      assert.deepEqual(getPath(direct.data, leaf.path), expected);

      const file = path.join(dir, `${name}.txt`);
      writeFileSync(file, `${asEnvText(sample)}\n`);
      const fromFile = parsedWith({ [`${name}_FILE`]: file });
      assert.deepEqual(fromFile.problems, []);
      assert.deepEqual(getPath(fromFile.data, leaf.path), expected);
    });
  }
});

describe('the _FILE rule', () => {
  it('no option x sits next to an option xFile, so both spellings always reach an option', () => {
    const siblings = new Map<string, Set<string>>();
    for (const leaf of leaves) {
      const parent = leaf.path.slice(0, -1).join('.');
      if (!siblings.has(parent)) siblings.set(parent, new Set());
      siblings.get(parent)!.add(leaf.path.at(-1)!);
    }
    const clashes = [...siblings].flatMap(([parent, names]) =>
      [...names].filter((n) => names.has(`${n}File`)).map((n) => `${parent}.${n} / ${n}File`),
    );
    assert.deepEqual(clashes, []);
  });

  it('IDP_METADATA_FILE sets idpMetadataFile (the path), and IDP_METADATA_FILE_FILE reads it from a file', () => {
    const direct = parsedWith({ KEYWARDEN_AUTH__PROVIDERS__LAB__IDP_METADATA_FILE: '/etc/idp/metadata.xml' });
    assert.deepEqual(direct.problems, []);
    assert.equal(
      getPath(direct.data, ['auth', 'providers', 'lab', 'idpMetadataFile']),
      '/etc/idp/metadata.xml',
    );

    const file = path.join(dir, 'metadata-path');
    writeFileSync(file, '/etc/idp/from-file.xml\n');
    const indirect = parsedWith({ KEYWARDEN_AUTH__PROVIDERS__LAB__IDP_METADATA_FILE_FILE: file });
    assert.deepEqual(indirect.problems, []);
    assert.equal(
      getPath(indirect.data, ['auth', 'providers', 'lab', 'idpMetadataFile']),
      '/etc/idp/from-file.xml',
    );
  });

  it('a full start-up takes a SAML provider whose metadata file is named in the environment (was exit 78)', () => {
    const metadata = path.join(dir, 'idp-metadata.xml');
    writeFileSync(metadata, '<EntityDescriptor/>');
    const config = loadConfig({
      env: {
        NODE_ENV: 'test',
        KEYWARDEN_AUTH__PROVIDERS__LAB__KIND: 'saml',
        KEYWARDEN_AUTH__PROVIDERS__LAB__IDP_ENTITY_ID: 'https://idp.example/lab',
        KEYWARDEN_AUTH__PROVIDERS__LAB__SSO_URL: 'https://idp.example/lab/sso',
        KEYWARDEN_AUTH__PROVIDERS__LAB__IDP_METADATA_FILE: metadata,
      },
    });
    const lab = config.auth.providers.lab;
    assert.equal(lab?.kind, 'saml');
    assert.equal(lab.kind === 'saml' ? lab.idpMetadataFile : undefined, metadata);
  });

  it('text options are taken verbatim: a PEM keeps its line breaks, digits stay a string', () => {
    const result = parsedWith({
      KEYWARDEN_AUTH__PROVIDERS__LAB__SP_PRIVATE_KEY: privateKey,
      KEYWARDEN_AUTH__PROVIDERS__LAB__SP_CERTIFICATE: certificateB,
      KEYWARDEN_AUTH__PROVIDERS__CORP__CLIENT_ID: '0123',
    });
    assert.deepEqual(result.problems, []);
    assert.equal(getPath(result.data, ['auth', 'providers', 'lab', 'spPrivateKey']), privateKey);
    assert.equal(getPath(result.data, ['auth', 'providers', 'corp', 'clientId']), '0123');
  });

  it('a secret file keeps its content but not its final newline', () => {
    const secret = 'z'.repeat(48);
    const file = path.join(dir, 'session-secret');
    writeFileSync(file, `${secret}\n`);
    const result = parsedWith({ KEYWARDEN_SESSION__SECRET_FILE: file });
    assert.equal(getPath(result.data, ['session', 'secret']), secret);
    assert.equal(readFileSync(file, 'utf8'), `${secret}\n`);
  });

  it('an unknown name is still reported by its path', () => {
    assert.throws(
      () => loadConfig({ env: { NODE_ENV: 'test', KEYWARDEN_SERVER__NO_SUCH_OPTION_FILE: '/nonexistent' } }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.some((p) => p.startsWith('KEYWARDEN_SERVER__NO_SUCH_OPTION_FILE: cannot read')),
    );
    assert.throws(
      () => loadConfig({ env: { NODE_ENV: 'test', KEYWARDEN_SERVER__NO_SUCH_OPTION: '1' } }),
      (error: unknown) =>
        error instanceof ConfigError && error.problems.includes('server.noSuchOption: unknown option'),
    );
  });
});
