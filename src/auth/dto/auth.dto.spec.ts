import { bodyMessages } from '../../../test/support/validate-body';
import { CreateApiKeyDto, UpdateApiKeyDto } from './auth.dto';

// An API key is changed by the rules it was created by (its name, scope and expiry), every field
// optional; the role is not changed, capabilities sent must not be empty.
describe('UpdateApiKeyDto', () => {
  it.each<[string, object, string[]]>([
    ['nothing', {}, []],
    ['a name', { name: 'ci' }, []],
    ['a blank name (was stored as "" after trim)', { name: '   ' }, ['name must not be empty']],
    ['a camera scope', { scope_kind: 'cameras', scope_cameras: ['cam1'] }, []],
    ['a blank camera id', { scope_cameras: [' '] }, ['scope_cameras must not contain empty ids']],
    [
      'an unknown scope kind',
      { scope_kind: 'some' },
      ['scope_kind must be one of the following values: all, cameras'],
    ],
    ['an expiry', { expires_at: '2030-01-01T00:00:00Z' }, []],
    ['a bad expiry', { expires_at: 'tomorrow' }, ['expires_at must be an RFC 3339 timestamp']],
    ['no capabilities', { capabilities: [] }, ['capabilities must not be empty']],
    ['revoked', { revoked: true, active: false, confirm_privileged: true }, []],
    ['un-revoked', { revoked: false }, ['revoked can only be set to true']],
    ['a role', { role: 'admin' }, ['property role should not exist']],
  ])('%s', async (_name, body, expected) => {
    expect(await bodyMessages(UpdateApiKeyDto, body)).toEqual(expected);
  });

  it('a name, scope and expiry get the answers a create gets', async () => {
    for (const body of [
      { name: '   ' },
      { scope_cameras: [' '] },
      { scope_kind: 'x' },
      { expires_at: 'x' },
    ]) {
      expect(await bodyMessages(UpdateApiKeyDto, body)).toEqual(
        await bodyMessages(CreateApiKeyDto, { name: 'k', ...body }),
      );
    }
  });
});
