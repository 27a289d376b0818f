import { bodyMessages } from '../../../test/support/validate-body';
import { CreateCameraDto, UpdateCameraDto } from './camera.dto';
import { CreateSiteDto, UpdateSiteDto } from './site.dto';

// A site and a camera take their id and name by the same rules, with the same messages.
describe('SlugIdField / RegistryNameField: sites and cameras alike', () => {
  it.each<[string, object, string[]]>([
    ['a name', { name: 'Front door' }, []],
    ['a name and an id', { id: 'front-door', name: 'Front door' }, []],
    [
      'no name',
      {},
      [
        'name must not be empty',
        'name must be shorter than or equal to 128 characters',
        'name must be a string',
      ],
    ],
    ['a blank name', { name: '   ' }, ['name must not be empty']],
    ['a control character', { name: 'Front\u0007door' }, ['name must not contain control characters']],
    ['129 characters', { name: 'n'.repeat(129) }, ['name must be shorter than or equal to 128 characters']],
    [
      'a 65-character id',
      { id: 'i'.repeat(65), name: 'x' },
      ['id must be shorter than or equal to 64 characters'],
    ],
    [
      'an id that is no string',
      { id: 7, name: 'x' },
      ['id must be shorter than or equal to 64 characters', 'id must be a string'],
    ],
  ])('%s', async (_name, body, expected) => {
    expect(await bodyMessages(CreateSiteDto, body)).toEqual(expected);
    expect(await bodyMessages(CreateCameraDto, body)).toEqual(expected);
  });

  it('an update takes the name by the same rules and no id', async () => {
    for (const dto of [UpdateSiteDto, UpdateCameraDto]) {
      expect(await bodyMessages(dto, { name: 'Back' })).toEqual([]);
      expect(await bodyMessages(dto, { name: '\u0000' })).toEqual([
        'name must not contain control characters',
      ]);
      expect(await bodyMessages(dto, { id: 'x' })).toEqual(['property id should not exist']);
    }
  });
});
