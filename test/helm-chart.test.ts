// Packaging checks for the Dockerfile and the helm chart in helm/keywarden.
//
// Static checks: values.yaml is validated against values.schema.json with ajv (draft-07),
// every `.Values.x.y` path used by the templates must exist in values.yaml, Chart.yaml and
// the Dockerfile are inspected. Then a real helm binary (HELM_BIN; `bash .ci/run` installs
// one) lints, renders and dry-run-installs the chart exactly as shipped: no copy, no stub
// subchart, nothing fetched. (A real `helm install` needs a cluster; `--dry-run=client` runs
// everything short of talking to one.)

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import * as ajvFormats from 'ajv-formats';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { readEnvLayer } from '../src/config/load.ts';
import { configSchema } from '../src/config/schema.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const chartDir = join(root, 'helm', 'keywarden');
const templatesDir = join(chartDir, 'templates');

const read = (path: string): string => readFileSync(path, 'utf8');
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

const values = parseYaml(read(join(chartDir, 'values.yaml'))) as JsonObject;
const schema = JSON.parse(read(join(chartDir, 'values.schema.json'))) as JsonObject;
const chart = parseYaml(read(join(chartDir, 'Chart.yaml'))) as JsonObject;

// ajv-formats is CommonJS; depending on interop its plugin is the namespace's default or default.default.
type FormatsPlugin = (ajv: Ajv) => Ajv;
const formatsNs = ajvFormats as unknown as { default: FormatsPlugin | { default: FormatsPlugin } };
const addFormats: FormatsPlugin =
  typeof formatsNs.default === 'function' ? formatsNs.default : formatsNs.default.default;

const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
addFormats(ajv);
const validate = ajv.compile(schema);

function errorsFor(candidate: unknown): string[] {
  if (validate(candidate)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}

/** Deep merge like helm's values coalescing (objects merge, everything else replaces). */
function merge(base: JsonObject, override: JsonObject): JsonObject {
  const out = clone(base);
  for (const [k, v] of Object.entries(override)) {
    const cur = out[k];
    out[k] = isObject(cur) && isObject(v) ? merge(cur, v) : clone(v);
  }
  return out;
}

/** values with a mutation applied to a deep copy. */
function withValues(mutate: (v: JsonObject) => void): JsonObject {
  const v = clone(values);
  mutate(v);
  return v;
}

function obj(v: Json | undefined): JsonObject {
  assert.ok(isObject(v), `expected an object, got ${JSON.stringify(v)}`);
  return v;
}

// Values whose contents are free-form (rendered with toYaml or passed to a subchart):
// template paths below these are not required to exist in values.yaml.
const FREE_FORM = new Set([
  'config',
  'global',
  'podAnnotations',
  'podLabels',
  'resources',
  'nodeSelector',
  'tolerations',
  'affinity',
  'topologySpreadConstraints',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'extraEnv',
  'extraEnvFrom',
  'extraVolumes',
  'extraVolumeMounts',
  'imagePullSecrets',
  'service.annotations',
  'serviceAccount.annotations',
  'autoscaling.behavior',
  'serviceMonitor.labels',
  'podSecurityContext',
  'securityContext',
]);

const templateFiles = readdirSync(templatesDir)
  .filter((f) => /\.(ya?ml|tpl|txt)$/.test(f))
  .sort();
const templates = new Map(templateFiles.map((f) => [f, read(join(templatesDir, f))]));

function referencedValuePaths(): Map<string, string> {
  const found = new Map<string, string>();
  const re = /\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g;
  for (const [file, text] of templates) {
    for (const m of text.matchAll(re)) {
      const path = m[1]!.slice(1);
      if (!found.has(path)) found.set(path, file);
    }
  }
  return found;
}

function lookup(path: string): { ok: boolean; missingAt?: string } {
  const parts = path.split('.');
  let node: Json | undefined = values;
  for (let i = 0; i < parts.length; i++) {
    const prefix = parts.slice(0, i).join('.');
    if (i > 0 && FREE_FORM.has(prefix)) return { ok: true };
    if (!isObject(node) || !(parts[i]! in node))
      return { ok: false, missingAt: parts.slice(0, i + 1).join('.') };
    node = node[parts[i]!];
  }
  return { ok: true };
}

function resolveRef(node: JsonObject): JsonObject {
  const ref = node.$ref;
  if (typeof ref !== 'string') return node;
  let target: Json | undefined = schema;
  for (const seg of ref.replace(/^#\//, '').split('/')) target = obj(target)[seg];
  return resolveRef(obj(target));
}

describe('values.schema.json', () => {
  it('is a draft-07 schema that compiles in strict mode', () => {
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.equal(typeof validate, 'function');
  });

  it('accepts the default values.yaml', () => {
    assert.deepEqual(errorsFor(values), []);
  });

  it('describes every key of values.yaml (free-form objects excepted)', () => {
    const undocumented: string[] = [];
    const walk = (v: JsonObject, s: JsonObject, path: string) => {
      const node = resolveRef(s);
      for (const [k, child] of Object.entries(v)) {
        const p = path ? `${path}.${k}` : k;
        const props = isObject(node.properties) ? node.properties : {};
        const childSchema = props[k];
        if (!isObject(childSchema)) {
          if (node.additionalProperties === false || !path) undocumented.push(p);
          continue;
        }
        if (isObject(child) && !FREE_FORM.has(p)) walk(child, childSchema, p);
      }
    };
    walk(values, schema, '');
    assert.deepEqual(undocumented, []);
  });

  it('closes the top level and the main objects with additionalProperties: false', () => {
    assert.equal(schema.additionalProperties, false);
    const props = obj(schema.properties);
    for (const key of [
      'image',
      'service',
      'serviceAccount',
      'externalRedis',
      'podSecurityContext',
      'securityContext',
      'strategy',
      'autoscaling',
      'podDisruptionBudget',
      'networkPolicy',
      'serviceMonitor',
    ]) {
      assert.equal(resolveRef(obj(props[key])).additionalProperties, false, key);
    }
  });

  it('accepts a realistic production override', () => {
    const prod = merge(values, {
      replicaCount: 3,
      image: { tag: '0.1.0', digest: `sha256:${'a'.repeat(64)}` },
      existingSecret: 'keywarden-secrets',
      secretFiles: [
        { envVar: 'KEYWARDEN_SESSION__SECRET_FILE', key: 'session-secret' },
        { envVar: 'KEYWARDEN_AUTH__PROVIDERS__GOOGLE__CLIENT_SECRET_FILE', key: 'oidc-google-client-secret' },
      ],
      externalRedis: { existingSecret: 'keywarden-redis', existingSecretKey: 'url' },
      serviceAccount: { roleArn: 'arn:aws:iam::123456789012:role/keywarden' },
      config: { server: { shutdownGraceMs: 15000 }, anything: { goes: ['here'] } },
      autoscaling: { enabled: true, targetMemoryUtilizationPercentage: 80, behavior: { scaleDown: {} } },
      podDisruptionBudget: { maxUnavailable: '25%' },
      networkPolicy: {
        ingress: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
        egress: { redisPorts: [6379, 26379] },
      },
      serviceMonitor: { enabled: true, labels: { release: 'prometheus' }, interval: '15s' },
      global: { imageRegistry: 'registry.example.com' },
    });
    assert.deepEqual(errorsFor(prod), []);
  });

  const invalid: Array<[string, (v: JsonObject) => void]> = [
    ['replicaCount as a string', (v) => (v.replicaCount = 'two')],
    ['an unknown top-level key', (v) => (v.replicas = 2)],
    ['a typo inside image', (v) => (obj(v.image).tga = 'latest')],
    [
      'securityContext without readOnlyRootFilesystem',
      (v) => delete obj(v.securityContext).readOnlyRootFilesystem,
    ],
    ['securityContext.runAsNonRoot false', (v) => (obj(v.securityContext).runAsNonRoot = false)],
    ['allowPrivilegeEscalation true', (v) => (obj(v.securityContext).allowPrivilegeEscalation = true)],
    [
      'capabilities that do not drop ALL',
      (v) => (obj(obj(v.securityContext).capabilities).drop = ['NET_RAW']),
    ],
    ['podSecurityContext running as root', (v) => (obj(v.podSecurityContext).runAsUser = 0)],
    ['an invalid pullPolicy', (v) => (obj(v.image).pullPolicy = 'Sometimes')],
    ['an image digest that is not sha256', (v) => (obj(v.image).digest = 'latest')],
    ['a containerPort out of range', (v) => (v.containerPort = 70000)],
    ['a secretFiles env var without _FILE', (v) => (v.secretFiles = [{ envVar: 'KEYWARDEN_X', key: 'x' }])],
    ['a secretFiles entry without key', (v) => (v.secretFiles = [{ envVar: 'KEYWARDEN_X_FILE' }])],
    ['a non-redis externalRedis.url', (v) => (obj(v.externalRedis).url = 'http://redis:6379')],
    ['a malformed IRSA role ARN', (v) => (obj(v.serviceAccount).roleArn = 'keywarden-role')],
    ['a redis key (no Redis is bundled)', (v) => (v.redis = { enabled: true })],
    ['autoscaling CPU target above 100', (v) => (obj(v.autoscaling).targetCPUUtilizationPercentage = 150)],
    ['a bad PDB maxUnavailable', (v) => (obj(v.podDisruptionBudget).maxUnavailable = 'half')],
    ['an unknown networkPolicy.egress key', (v) => (obj(obj(v.networkPolicy).egress).https = true)],
    ['an invalid serviceMonitor interval', (v) => (obj(v.serviceMonitor).interval = 'often')],
    ['a podAnnotations value that is not a string', (v) => (v.podAnnotations = { a: 1 })],
    ['an unknown anti-affinity preset', (v) => (v.podAntiAffinityPreset = 'maybe')],
  ];
  for (const [name, mutate] of invalid) {
    it(`rejects ${name}`, () => {
      assert.notDeepEqual(errorsFor(withValues(mutate)), [], `${name} should be invalid`);
    });
  }
});

describe('templates', () => {
  it('only reference .Values paths that exist in values.yaml', () => {
    const refs = referencedValuePaths();
    assert.ok(refs.size > 30, `expected many .Values references, found ${refs.size}`);
    const missing = [...refs]
      .map(([path, file]) => ({ path, file, ...lookup(path) }))
      .filter((r) => !r.ok)
      .map((r) => `${r.file}: .Values.${r.path} (missing ${r.missingAt})`);
    assert.deepEqual(missing, []);
  });

  it('use every top-level value', () => {
    const used = new Set([...referencedValuePaths().keys()].map((p) => p.split('.')[0]));
    const unused = Object.keys(values).filter((k) => !used.has(k));
    assert.deepEqual(unused, []);
  });

  it('set only KEYWARDEN_* variables the app config loader knows', () => {
    // The loader maps every KEYWARDEN_* variable onto a (strict) config key, so a helper
    // variable with that prefix would make the app refuse to start. Ask the loader itself.
    const used = new Set([...templates.values()].flatMap((t) => t.match(/\bKEYWARDEN_[A-Z0-9_]+/g) ?? []));
    used.delete('KEYWARDEN_CONFIG');
    assert.ok(used.has('KEYWARDEN_SERVER__DRAIN_DELAY_MS'));
    const unknown = [...used].filter((name) => {
      const problems: string[] = [];
      const layer = readEnvLayer({ [name]: '5000' }, problems);
      const parsed = configSchema.safeParse(layer);
      return parsed.success ? false : parsed.error.issues.some((issue) => issue.code === 'unrecognized_keys');
    });
    assert.deepEqual(unknown, []);
  });

  it('have balanced template blocks', () => {
    for (const [file, text] of templates) {
      const actions = [...text.matchAll(/\{\{-?\s*(if|range|with|define|end)\b/g)].map((m) => m[1]);
      let depth = 0;
      for (const a of actions) {
        depth += a === 'end' ? -1 : 1;
        assert.ok(depth >= 0, `${file}: unexpected {{ end }}`);
      }
      assert.equal(depth, 0, `${file}: unclosed block`);
    }
  });

  it('include the expected manifests', () => {
    for (const f of [
      '_helpers.tpl',
      'deployment.yaml',
      'service.yaml',
      'configmap.yaml',
      'serviceaccount.yaml',
      'hpa.yaml',
      'pdb.yaml',
      'networkpolicy.yaml',
      'servicemonitor.yaml',
      'NOTES.txt',
    ]) {
      assert.ok(templates.has(f), `missing templates/${f}`);
    }
    assert.match(templates.get('hpa.yaml')!, /apiVersion: autoscaling\/v2/);
    assert.match(templates.get('servicemonitor.yaml')!, /apiVersion: monitoring\.coreos\.com\/v1/);
    assert.match(templates.get('pdb.yaml')!, /apiVersion: policy\/v1/);
    assert.match(templates.get('configmap.yaml')!, /keywarden\.yaml: \|/);
  });

  it('wire the deployment for zero-downtime rollouts and graceful shutdown', () => {
    const d = templates.get('deployment.yaml')!;
    assert.match(
      d,
      /checksum\/config: \{\{ include \(print \$\.Template\.BasePath "\/configmap\.yaml"\) \. \| sha256sum \}\}/,
    );
    assert.match(d, /if not \.Values\.autoscaling\.enabled \}\}\n\s+replicas:/);
    assert.match(d, /name: KEYWARDEN_SERVER__DRAIN_DELAY_MS/);
    assert.match(d, /terminationGracePeriodSeconds:/);
    assert.match(d, /name: NODE_ENV\n\s+value: production/);
    assert.match(d, /name: KEYWARDEN_CONFIG/);
    assert.match(d, /readOnly: true/);
    assert.equal(obj(obj(values.strategy).rollingUpdate).maxUnavailable, 0);
  });

  it('default grace period outlasts the drain delay plus the app shutdown grace', () => {
    const server = isObject(obj(values.config).server) ? obj(obj(values.config).server) : {};
    const appGraceMs = typeof server.shutdownGraceMs === 'number' ? server.shutdownGraceMs : 10000;
    const tgps = values.terminationGracePeriodSeconds as number;
    const delay = values.drainDelaySeconds as number;
    assert.ok(delay > 0, 'a drain delay lets Services and load balancers deregister the pod first');
    assert.ok(tgps * 1000 > delay * 1000 + appGraceMs, `${tgps}s <= ${delay}s + ${appGraceMs}ms`);
  });

  it('defaults to a hardened pod', () => {
    const sc = obj(values.securityContext);
    assert.equal(sc.runAsNonRoot, true);
    assert.equal(sc.runAsUser, 1000);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.deepEqual(obj(sc.capabilities).drop, ['ALL']);
    assert.deepEqual(sc.seccompProfile, { type: 'RuntimeDefault' });
    assert.equal(obj(values.serviceAccount).automountServiceAccountToken, false);
    assert.equal(
      obj(values.livenessProbe).httpGet && obj(obj(values.livenessProbe).httpGet).path,
      '/healthz',
    );
    assert.equal(obj(obj(values.readinessProbe).httpGet).path, '/readyz');
    assert.equal(obj(obj(values.startupProbe).httpGet).path, '/healthz');
    assert.equal(obj(values.serviceMonitor).enabled, false);
  });
});

describe('Chart.yaml', () => {
  it('is a valid v2 application chart named keywarden', () => {
    assert.equal(chart.apiVersion, 'v2');
    assert.equal(chart.name, 'keywarden');
    assert.equal(chart.type, 'application');
    assert.match(String(chart.version), /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/);
  });

  it('has appVersion matching package.json', () => {
    const pkg = JSON.parse(read(join(root, 'package.json'))) as { version: string };
    assert.equal(chart.appVersion, '0.1.0');
    assert.equal(chart.appVersion, pkg.version);
  });

  it('declares no dependencies, so nothing is fetched to render or install it', () => {
    assert.equal(chart.dependencies, undefined);
    assert.ok(!existsSync(join(chartDir, 'charts')), 'no vendored subcharts either');
    assert.ok(!existsSync(join(chartDir, 'Chart.lock')));
  });
});

describe('Dockerfile', () => {
  const dockerfile = read(join(root, 'Dockerfile'));
  // Join continuation lines and drop comments.
  const lines = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: string[][] = [];
  for (const l of lines) {
    if (/^FROM\s/i.test(l)) stages.push([l]);
    else stages.at(-1)?.push(l);
  }
  const final = stages.at(-1) ?? [];
  const instr = (stage: string[], name: string) =>
    stage.filter((l) => l.toUpperCase().startsWith(`${name} `));

  it('is multi-stage on node 24 slim', () => {
    assert.ok(lines.includes('ARG NODE_VERSION=24'));
    assert.ok(stages.length >= 3, 'build, deps and runtime stages');
    for (const s of stages) assert.match(s[0]!, /^FROM node:\$\{NODE_VERSION\}-slim\b/);
    assert.ok(stages.some((s) => /\bAS build$/i.test(s[0]!)));
    assert.ok(stages.some((s) => /\bAS deps$/i.test(s[0]!)));
  });

  it('builds with npm ci and installs production dependencies only', () => {
    const build = stages.find((s) => /\bAS build$/i.test(s[0]!))!;
    const deps = stages.find((s) => /\bAS deps$/i.test(s[0]!))!;
    assert.ok(build.some((l) => /npm ci\b/.test(l)));
    assert.ok(build.some((l) => /npm run build/.test(l)));
    assert.ok(deps.some((l) => /npm ci\b.*--omit=dev/.test(l)));
  });

  it('final stage runs as non-root node with the exec-form CMD', () => {
    const users = instr(final, 'USER');
    assert.ok(users.length > 0, 'USER set in final stage');
    assert.match(users.at(-1)!, /^USER (node|1000)(:1000|:node)?$/);
    const cmd = instr(final, 'CMD').at(-1);
    assert.ok(cmd, 'CMD in final stage');
    const argv = JSON.parse(cmd.slice(4)) as string[];
    assert.equal(argv[0], 'node');
    assert.equal(argv.at(-1), 'dist/main.js');
    // Only V8 heap-sizing flags stand between them, and `npm run start:dist` uses the same.
    const flags = argv.slice(1, -1);
    for (const flag of flags) assert.match(flag, /^--(max-semi-space-size|heap-growing-percent)=\d+$/);
    const scripts = (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    assert.equal(scripts['start:dist'], ['node', ...flags, 'dist/main.js'].join(' '));
    assert.ok(final.includes('STOPSIGNAL SIGTERM'));
    assert.ok(final.some((l) => /^ENV .*NODE_ENV=production/.test(l)));
    assert.ok(final.some((l) => /^HEALTHCHECK .*\/healthz/.test(l)));
    assert.ok(!final.some((l) => /^ENTRYPOINT /i.test(l)), 'no shell entrypoint in front of node');
  });

  it('final stage ships only runtime artifacts', () => {
    const copies = instr(final, 'COPY').join('\n');
    assert.match(copies, /--from=deps\b.*node_modules/);
    assert.match(copies, /--from=build\b.*dist/);
    assert.match(copies, /\bconfig\//);
    assert.match(copies, /\bpackage\.json\b/);
    assert.doesNotMatch(copies, /\bsrc\//);
  });

  it('exposes the port the chart targets', () => {
    assert.ok(final.includes(`EXPOSE ${values.containerPort}`));
  });

  it('has a .dockerignore excluding build outputs and tooling', () => {
    const ignored = new Set(
      read(join(root, '.dockerignore'))
        .split('\n')
        .map((l) => l.trim()),
    );
    for (const entry of [
      'node_modules',
      'dist',
      'test',
      '.git',
      'bench',
      'helm',
      'coverage',
      'test-artifacts',
    ]) {
      assert.ok(ignored.has(entry), `.dockerignore should list ${entry}`);
    }
  });
});

// Render with a real helm binary: HELM_BIN, the copy .ci/run installs, or helm on PATH.
function findHelm(): string | undefined {
  const candidates = [
    process.env.HELM_BIN,
    join(process.env.HOME ?? '', '.cache/keywarden-ci/helm/helm'),
    'helm',
  ].filter((c): c is string => Boolean(c));
  for (const c of candidates) {
    const r = spawnSync(c, ['version', '--short'], { encoding: 'utf8' });
    if (r.status === 0) return c;
  }
  return undefined;
}

describe('helm render', () => {
  const helm = findHelm();

  it('has a helm binary to render with (bash .ci/run installs one)', () => {
    assert.ok(helm, 'no helm found: run `bash .ci/run` once, or set HELM_BIN');
  });

  function helmRun(args: string[]): string {
    return execFileSync(helm!, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  function parseManifests(out: string): JsonObject[] {
    return parseAllDocuments(out)
      .map((d) => d.toJS() as JsonObject | null)
      .filter((d): d is JsonObject => d !== null);
  }

  /** `helm template` of the chart as shipped, with the overrides as a values file. */
  function render(overrides: JsonObject): JsonObject[] {
    const dir = mkdtempSync(join(tmpdir(), 'keywarden-values-'));
    try {
      const valuesFile = join(dir, 'override.json');
      writeFileSync(valuesFile, JSON.stringify(overrides));
      return parseManifests(helmRun(['template', 'kw', chartDir, '-n', 'kw', '-f', valuesFile]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const exampleValues = readdirSync(join(chartDir, 'ci'))
    .filter((f) => f.endsWith('-values.yaml'))
    .sort();

  it('lints with --strict as shipped, and with each example values file', () => {
    for (const args of [[], ...exampleValues.map((f) => ['-f', join(chartDir, 'ci', f)])]) {
      const out = helmRun(['lint', '--strict', chartDir, ...args]);
      assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      assert.doesNotMatch(out, /\[(WARNING|ERROR)\]/);
    }
  });

  it('renders as shipped with helm template and no values at all', () => {
    const docs = parseManifests(helmRun(['template', 'kw', chartDir]));
    assert.ok(kind(docs, 'Deployment'));
  });

  it('installs as shipped (client-side dry run: there is no cluster here)', () => {
    const out = helmRun(['install', 'kw', chartDir, '-n', 'kw', '--dry-run=client']);
    assert.match(out, /STATUS: pending-install/);
    assert.ok(kind(parseManifests(out.slice(out.indexOf('---'))), 'Deployment'));
  });

  it('points keywarden at a separately installed Redis with the example values', () => {
    assert.deepEqual(exampleValues, ['external-redis-values.yaml', 'redis-sentinel-values.yaml']);
    const envFor = (file: string) =>
      envOf(
        parseManifests(helmRun(['template', 'kw', chartDir, '-n', 'kw', '-f', join(chartDir, 'ci', file)])),
      );
    const standalone = envFor('external-redis-values.yaml');
    assert.deepEqual(standalone.REDIS_URL, {
      secretKeyRef: { name: 'keywarden-redis', key: 'redis-url' },
    });
    assert.deepEqual(standalone.KEYWARDEN_STORE__REDIS__PASSWORD, {
      secretKeyRef: { name: 'keywarden-redis', key: 'redis-password' },
    });
    const sentinel = envFor('redis-sentinel-values.yaml');
    assert.equal(sentinel.REDIS_URL, undefined, 'sentinel topology comes from config.store.redis');
    assert.deepEqual(sentinel.KEYWARDEN_STORE__REDIS__PASSWORD, {
      secretKeyRef: { name: 'keywarden-redis', key: 'redis-password' },
    });
  });

  const kind = (docs: JsonObject[], k: string) => docs.find((d) => d.kind === k);
  const envOf = (docs: JsonObject[]) => {
    const deploy = kind(docs, 'Deployment')!;
    const container = obj((obj(obj(obj(deploy.spec).template).spec).containers as Json[])[0]);
    return Object.fromEntries((container.env as JsonObject[]).map((e) => [e.name, e.value ?? e.valueFrom]));
  };

  it('renders the defaults', () => {
    const docs = render({});
    const kinds = docs.map((d) => d.kind).sort();
    assert.deepEqual(kinds, [
      'ConfigMap',
      'Deployment',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Service',
      'ServiceAccount',
    ]);
    const pod = obj(obj(obj(kind(docs, 'Deployment')!.spec).template).spec);
    const container = obj((pod.containers as Json[])[0]);
    const env = Object.fromEntries(
      (container.env as JsonObject[]).map((e) => [e.name, e.value ?? e.valueFrom]),
    );
    assert.equal(env.NODE_ENV, 'production');
    assert.equal(env.PORT, '8080');
    assert.equal(env.KEYWARDEN_CONFIG, '/etc/keywarden/keywarden.yaml');
    assert.equal(obj(container.securityContext).readOnlyRootFilesystem, true);
  });

  it('renders a production override', () => {
    const docs = render({
      existingSecret: 'kw-secrets',
      externalRedis: { existingSecret: 'kw-redis' },
      serviceAccount: { roleArn: 'arn:aws:iam::123456789012:role/kw' },
      autoscaling: { enabled: true },
      serviceMonitor: { enabled: true },
      config: { server: { shutdownGraceMs: 12000 } },
    });
    assert.ok(kind(docs, 'HorizontalPodAutoscaler'));
    assert.ok(kind(docs, 'ServiceMonitor'));
    const deploy = kind(docs, 'Deployment')!;
    assert.equal(obj(deploy.spec).replicas, undefined);
    const sa = kind(docs, 'ServiceAccount')!;
    assert.equal(
      obj(obj(sa.metadata).annotations)['eks.amazonaws.com/role-arn'],
      'arn:aws:iam::123456789012:role/kw',
    );
    const container = obj((obj(obj(obj(deploy.spec).template).spec).containers as Json[])[0]);
    const env = container.env as JsonObject[];
    assert.deepEqual(env.find((e) => e.name === 'REDIS_URL')?.valueFrom, {
      secretKeyRef: { name: 'kw-redis', key: 'redis-url' },
    });
    assert.equal(
      env.find((e) => e.name === 'KEYWARDEN_SESSION__SECRET_FILE')?.value,
      '/var/run/secrets/keywarden/session-secret',
    );
    const cm = kind(docs, 'ConfigMap')!;
    assert.deepEqual(parseYaml(String(obj(cm.data)['keywarden.yaml'])), {
      server: { shutdownGraceMs: 12000 },
    });
  });

  it('wires an external redis URL and password', () => {
    const external = envOf(
      render({
        externalRedis: {
          url: 'rediss://redis.example:6380',
          existingSecret: 'kw-redis',
          existingSecretKey: '',
          existingSecretPasswordKey: 'password',
        },
      }),
    );
    assert.equal(external.REDIS_URL, 'rediss://redis.example:6380');
    assert.deepEqual(external.KEYWARDEN_STORE__REDIS__PASSWORD, {
      secretKeyRef: { name: 'kw-redis', key: 'password' },
    });
    const none = envOf(render({}));
    assert.equal(none.REDIS_URL, undefined);
    assert.equal(none.KEYWARDEN_STORE__REDIS__PASSWORD, undefined);
  });

  it('passes the drain delay to the app, and refuses a grace period shorter than delay + app shutdown grace', () => {
    const deploy = kind(render({ drainDelaySeconds: 7 }), 'Deployment')!;
    const pod = obj(obj(deploy.spec).template);
    const container = obj((obj(pod.spec).containers as Json[])[0]);
    assert.equal(envOf([deploy]).KEYWARDEN_SERVER__DRAIN_DELAY_MS, '7000');
    assert.equal(container.lifecycle, undefined, 'no preStop sleep: the app serves through the delay itself');
    assert.equal(obj(pod.spec).terminationGracePeriodSeconds, 30);
    assert.throws(() => render({ terminationGracePeriodSeconds: 15 }), /terminationGracePeriodSeconds/);
    assert.doesNotThrow(() => render({ terminationGracePeriodSeconds: 16 }));
  });
});
