import { bodyMessages } from '../../../test/support/validate-body';
import { CreateWebhookDto, UpdateWebhookDto } from './webhook.dto';

// Every field of a webhook but its secret is changed the way it is created: the same rules.
const verdict = async (dto: new () => object, body: object) =>
  (await bodyMessages(dto, body)).length === 0 ? 'ok' : '400';

describe('UpdateWebhookDto: the create rules, every field optional, no secret', () => {
  it.each<[string, string, object]>([
    ['nothing', 'ok', {}],
    ['a name', 'ok', { name: 'ops' }],
    ['an empty name', '400', { name: '' }],
    ['a 121-char name', '400', { name: 'x'.repeat(121) }],
    ['a url', 'ok', { url: 'https://example.org/h' }],
    ['a 2049-char url', '400', { url: 'x'.repeat(2049) }],
    ['types and prefixes', 'ok', { event_types: ['camera_*', 'zone_enter', '*'] }],
    ['an upper-case type', '400', { event_types: ['Camera'] }],
    ['65 types', '400', { event_types: Array.from({ length: 65 }, (_, i) => `t${i}`) }],
    ['a severity', 'ok', { min_severity: 'warning' }],
    ['an unknown severity', '400', { min_severity: 'loud' }],
    ['enabled', 'ok', { enabled: false }],
    ['enabled as a string', '400', { enabled: 'no' }],
    ['a camera scope', 'ok', { scope_kind: 'cameras', scope_cameras: ['cam1'] }],
    ['an unknown scope kind', '400', { scope_kind: 'some' }],
    ['a blank camera id', '400', { scope_cameras: [' '] }],
    ['a 65-char camera id', '400', { scope_cameras: ['x'.repeat(65)] }],
    ['a secret (create only)', '400', { secret: 'whsec_' + 'A'.repeat(32) }],
    ['a server-owned field', '400', { module_id: 'm' }],
  ])('%s → %s', async (_name, expected, body) => {
    expect(await verdict(UpdateWebhookDto, body)).toBe(expected);
    // The same body on create (with its required url) gets the same answer, but for the secret.
    if (!('secret' in body)) {
      expect(await verdict(CreateWebhookDto, { url: 'https://example.org/h', ...body })).toBe(expected);
    }
  });
});
