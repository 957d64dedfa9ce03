import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import { backgroundScenarios, capacityPlan, perMinute, phaseAt, stageAt } from '../../lib/profile.ts';
import { PROFILE_DEFAULTS, SHORT_FORMS } from '../../lib/profile-defaults.ts';
import { baseThresholds } from '../../lib/thresholds.ts';
import { httpForm, memoryUrl, voiceNameTag, voiceUrl } from '../../lib/url.ts';

test('arrival rates are whole numbers per minute', () => {
  assert.equal(perMinute(0.5), 30);
  assert.equal(perMinute(2), 120);
  const bg = backgroundScenarios(loadConfig({ VOICE_NO_TOKEN_RATE: '0', VOICE_INVALID_RATE: '0.25' }), '10s');
  assert.deepEqual(Object.keys(bg), ['invalid']);
  assert.equal(bg['invalid']?.['rate'], 15);
  assert.equal(bg['invalid']?.['timeUnit'], '1m');
});

test('capacity stages step up and tag by elapsed time', () => {
  const plan = capacityPlan(loadConfig({ VOICE_CAPACITY_START_RATE: '1', VOICE_CAPACITY_STEP: '2', VOICE_CAPACITY_STAGES: '3', VOICE_CAPACITY_STAGE_DURATION: '10s', VOICE_HOLD_SECONDS: '5' }));
  assert.deepEqual(plan.stageNames.map((s) => s.rate), [1, 3, 5]);
  assert.deepEqual(plan.stageNames.map((s) => s.concurrent), [5, 15, 25]);
  assert.equal(plan.stages.length, 6);
  assert.equal(plan.totalMs, 30000);
  assert.equal(stageAt(0, 10000, 3), 's1');
  assert.equal(stageAt(10000, 10000, 3), 's2');
  assert.equal(stageAt(99999, 10000, 3), 's3');
  assert.equal(phaseAt(10, 100, 20), 'early');
  assert.equal(phaseAt(50, 100, 20), 'middle');
  assert.equal(phaseAt(85, 100, 20), 'late');
});

test('thresholds fail on any bypass, per variant too', () => {
  const t = baseThresholds(loadConfig({}), { noToken: ['missing'], invalid: ['expired'] });
  assert.deepEqual(t['voice_auth_bypass'], ['count==0']);
  assert.deepEqual(t['voice_auth_bypass{variant:expired}'], ['count==0']);
  assert.deepEqual(t['voice_rejected{auth_case:valid}'], ['rate<=0.01']);
  assert.deepEqual(t['voice_attribution_errors'], ['rate==0']);
  const off = baseThresholds(loadConfig({ VOICE_ATTRIBUTION: 'off' }), { noToken: [], invalid: [] });
  assert.equal(off['voice_attribution_errors'], undefined);
  const cap = baseThresholds(loadConfig({}), { noToken: [], invalid: [] }, { abortOnSecurity: true });
  assert.deepEqual(cap['voice_auth_bypass'], [{ threshold: 'count==0', abortOnFail: true }]);
});

test('urls: the token is encoded, the name tag never holds it', () => {
  const tok = 'eyJhbGciOi.x+y/z=';
  const u = voiceUrl('ws://127.0.0.1:9/', 'r1-u0-va-i0-v1', tok);
  assert.equal(u, `ws://127.0.0.1:9/api/v1/voice/voicelive/r1-u0-va-i0-v1?token=${encodeURIComponent(tok)}`);
  assert.equal(voiceUrl('ws://h', 's', null), 'ws://h/api/v1/voice/voicelive/s');
  assert.equal(voiceUrl('ws://h', 's', ''), 'ws://h/api/v1/voice/voicelive/s?token=');
  assert.equal(voiceNameTag('wss://h/prefix'), 'wss://h/prefix/api/v1/voice/voicelive/{session_id}');
  assert.equal(httpForm('wss://h/x?token=1'), 'https://h/x?token=1');
  assert.equal(memoryUrl('ws://h', '/api/v1/memory/sessions/{session_id}', 'abc'), 'http://h/api/v1/memory/sessions/abc');
});

test('scenarios/catalog.json lists every profile with the same defaults and short forms', () => {
  const cat = JSON.parse(readFileSync(new URL('../../scenarios/catalog.json', import.meta.url), 'utf8')) as { profiles: Array<{ name: string; bundle: string; defaults: unknown; short: Record<string, string> }> };
  assert.deepEqual(cat.profiles.map((p) => p.name).sort(), Object.keys(PROFILE_DEFAULTS).sort());
  for (const p of cat.profiles) {
    assert.deepEqual(p.defaults, PROFILE_DEFAULTS[p.name]);
    assert.deepEqual(p.short, SHORT_FORMS[p.name]);
    assert.equal(p.bundle, `dist/${p.name}.js`);
    loadConfig(p.short, PROFILE_DEFAULTS[p.name]); // valid settings
  }
});
