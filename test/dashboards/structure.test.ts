// Structural validation of the provisioned dashboards: the committed JSON is what the
// generator produces, ids are unique, every datasource reference resolves to the provisioned
// uid, every variable used is defined, every data panel has a unit, a description and
// thresholds, and every query is raw InfluxQL bounded by $timeFilter.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DATASOURCE_UID, dashboardJson } from '../../dashboards/generate.ts';
import { allPanels, dataPanels, isBuiltinVariable, loadDashboard, referencedVariables, type Dashboard, type Json } from '../helpers/dashboard-grafana.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dashDir = join(root, 'dashboards');
const files = readdirSync(dashDir).filter((f) => f.endsWith('.json'));

function provisionedUids(): string[] {
  const dir = join(root, 'docker/grafana/provisioning/datasources');
  const uids: string[] = [];
  for (const f of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n))) {
    const doc = parse(readFileSync(join(dir, f), 'utf8')) as { datasources?: Array<{ uid: string }> };
    for (const d of doc.datasources ?? []) uids.push(d.uid);
  }
  return uids;
}

/** Every datasource reference in the dashboard, with where it was found. */
function datasourceRefs(d: Dashboard): Array<{ where: string; ref: unknown }> {
  const out: Array<{ where: string; ref: unknown }> = [];
  for (const p of allPanels(d)) {
    if (p.type === 'row') continue;
    out.push({ where: `panel ${p.id}`, ref: p.datasource });
    for (const t of p.targets ?? []) out.push({ where: `panel ${p.id} target ${t.refId}`, ref: t.datasource });
  }
  for (const v of d.templating.list) if (v.type === 'query') out.push({ where: `variable ${v.name}`, ref: v.datasource });
  return out;
}

/** Resolves a datasource reference to a uid, following a datasource variable's default. */
function resolveUid(d: Dashboard, ref: unknown): string | undefined {
  const uid = typeof ref === 'string' ? ref : (ref as Json | undefined)?.uid;
  if (typeof uid !== 'string') return undefined;
  const m = /^\$\{?(\w+)\}?$/.exec(uid);
  if (!m) return uid;
  const v = d.templating.list.find((x) => x.name === m[1]);
  if (!v || v.type !== 'datasource' || v.query !== 'influxdb') return undefined;
  return v.current?.value;
}

function structuralProblems(d: Dashboard, uids: string[]): string[] {
  const problems: string[] = [];
  const ids = allPanels(d).map((p) => p.id);
  const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (dup.length) problems.push(`duplicate panel ids: ${dup.join(', ')}`);
  if (ids.some((id) => typeof id !== 'number')) problems.push('a panel has no numeric id');
  for (const { where, ref } of datasourceRefs(d)) {
    const uid = resolveUid(d, ref);
    if (!uid || !uids.includes(uid)) problems.push(`${where}: datasource ${JSON.stringify(ref)} does not resolve to a provisioned uid (${uids.join(', ')})`);
  }
  const defined = new Set(d.templating.list.map((v) => v.name as string));
  const texts: Array<[string, string]> = [];
  for (const p of dataPanels(d)) {
    for (const t of p.targets ?? []) texts.push([`panel ${p.id} ${t.refId}`, `${t.query} ${t.alias ?? ''}`]);
    texts.push([`panel ${p.id} title`, p.title]);
  }
  for (const v of d.templating.list) if (v.query) texts.push([`variable ${v.name}`, String(v.query)]);
  texts.push(['datasource refs', JSON.stringify(datasourceRefs(d).map((r) => r.ref))]);
  for (const [where, text] of texts) {
    for (const name of referencedVariables(text)) {
      if (!defined.has(name) && !isBuiltinVariable(name)) problems.push(`${where}: $${name} is not defined`);
    }
  }
  for (const p of dataPanels(d)) {
    const where = `panel ${p.id} "${p.title}"`;
    if (!p.description || String(p.description).length < 40) problems.push(`${where}: no description`);
    if (!p.fieldConfig?.defaults?.unit) problems.push(`${where}: no unit`);
    const steps = p.fieldConfig?.defaults?.thresholds?.steps;
    if (!Array.isArray(steps) || steps.length < 1) problems.push(`${where}: no thresholds`);
    if (p.type === 'timeseries') {
      if (!(steps?.length >= 2)) problems.push(`${where}: no threshold line`);
      if (!p.fieldConfig?.defaults?.custom?.thresholdsStyle || p.fieldConfig.defaults.custom.thresholdsStyle.mode === 'off') {
        problems.push(`${where}: thresholds not drawn`);
      }
    }
    if (!p.targets?.length) problems.push(`${where}: no queries`);
    const refIds = (p.targets ?? []).map((t: Json) => t.refId);
    if (new Set(refIds).size !== refIds.length) problems.push(`${where}: duplicate refIds`);
    for (const t of p.targets ?? []) {
      if (t.rawQuery !== true || typeof t.query !== 'string') problems.push(`${where} ${t.refId}: not a raw InfluxQL query`);
      else if (!t.query.includes('$timeFilter')) problems.push(`${where} ${t.refId}: no $timeFilter`);
    }
  }
  return problems;
}

describe('dashboards', () => {
  it('there is a Voice sessions dashboard and the committed JSON is what dashboards/generate.ts writes', () => {
    assert.ok(files.includes('voice-sessions.json'));
    assert.equal(readFileSync(join(dashDir, 'voice-sessions.json'), 'utf8'), dashboardJson(), 'run: npx tsx dashboards/generate.ts');
  });

  it('the provisioned datasource uid is the one the dashboards use', () => {
    assert.deepEqual(provisionedUids(), [DATASOURCE_UID]);
  });

  for (const f of files) {
    it(`${f}: structurally valid`, () => {
      const d = loadDashboard(join(dashDir, f));
      assert.ok(d.uid && d.title);
      assert.deepEqual(structuralProblems(d, provisionedUids()), []);
    });
  }

  it('defines the variables: datasource, run (testid), scenario, traffic class (auth_case)', () => {
    const d = loadDashboard(join(dashDir, 'voice-sessions.json'));
    const vars = Object.fromEntries(d.templating.list.map((v) => [v.name, v]));
    assert.equal(vars.datasource?.type, 'datasource');
    assert.match(vars.testid?.query, /WITH KEY = "testid"/);
    assert.match(vars.scenario?.query, /WITH KEY = "scenario"/);
    assert.match(vars.auth_case?.query, /WITH KEY = "auth_case"/);
  });

  it('the checks catch broken dashboards (duplicate id, unknown datasource, undefined variable, missing unit)', () => {
    const d = loadDashboard(join(dashDir, 'voice-sessions.json'));
    const broken = structuredClone(d);
    const ps = dataPanels(broken);
    ps[1]!.id = ps[0]!.id;
    ps[2]!.datasource = { type: 'influxdb', uid: 'somewhere-else' };
    ps[3]!.targets[0].query += ' AND "x" =~ /^$nosuchvar$/';
    delete ps[4]!.fieldConfig.defaults.unit;
    ps[5]!.description = '';
    const problems = structuralProblems(broken, provisionedUids()).join('\n');
    assert.match(problems, /duplicate panel ids/);
    assert.match(problems, /somewhere-else/);
    assert.match(problems, /\$nosuchvar is not defined/);
    assert.match(problems, /no unit/);
    assert.match(problems, /no description/);
  });
});
