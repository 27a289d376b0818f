import { BadRequestError } from '../common/errors';
import type { JsonObject } from '../database/columns';
import { checkConfig, checkGeometry } from './zone-validation';

const square: Array<[number, number]> = [
  [0, 0],
  [1, 0],
  [1, 1],
  [0, 1],
];

describe('checkGeometry', () => {
  it.each<[string, string, unknown, Array<[number, number]>]>([
    [
      'a region of 3 points',
      'region',
      [
        [0, 0],
        [1, 0],
        [0.5, 1],
      ],
      [
        [0, 0],
        [1, 0],
        [0.5, 1],
      ],
    ],
    ['a presence area', 'presence', square, square],
    [
      'a line of 2 points',
      'line',
      [
        [0, 0.5],
        [1, 0.5],
      ],
      [
        [0, 0.5],
        [1, 0.5],
      ],
    ],
    [
      'points on the edges (0 and 1 included)',
      'region',
      [
        [0, 1],
        [1, 1],
        [1, 0],
      ],
      [
        [0, 1],
        [1, 1],
        [1, 0],
      ],
    ],
    [
      'a region of 512 points',
      'region',
      Array.from({ length: 512 }, () => [0.5, 0.5]),
      Array.from({ length: 512 }, () => [0.5, 0.5] as [number, number]),
    ],
  ])('accepts %s', (_what, kind, polygon, want) => {
    expect(checkGeometry(kind, polygon)).toEqual(want);
  });

  it.each<[string, string, unknown, RegExp]>([
    ['not an array', 'region', 'square', /polygon must be an array/],
    ['null', 'region', null, /polygon must be an array/],
    [
      'a point outside 0..1',
      'region',
      [
        [0, 0],
        [1.5, 0],
        [1, 1],
      ],
      /polygon\[1\] must be \[x, y\]/,
    ],
    [
      'a negative coordinate',
      'region',
      [
        [0, 0],
        [1, 0],
        [1, -0.1],
      ],
      /polygon\[2\]/,
    ],
    [
      'a point of 3 numbers',
      'region',
      [
        [0, 0, 0],
        [1, 0],
        [1, 1],
      ],
      /polygon\[0\]/,
    ],
    [
      'a string coordinate',
      'region',
      [
        ['0', 0],
        [1, 0],
        [1, 1],
      ],
      /polygon\[0\]/,
    ],
    [
      'NaN',
      'region',
      [
        [NaN, 0],
        [1, 0],
        [1, 1],
      ],
      /polygon\[0\]/,
    ],
    [
      'Infinity',
      'line',
      [
        [Infinity, 0],
        [1, 0],
      ],
      /polygon\[0\]/,
    ],
    [
      'a region of 2 points',
      'region',
      [
        [0, 0],
        [1, 1],
      ],
      /a region has 3 to 512 points/,
    ],
    ['a region of 513 points', 'presence', Array.from({ length: 513 }, () => [0.5, 0.5]), /3 to 512/],
    [
      'a line of 3 points',
      'line',
      [
        [0, 0],
        [1, 0],
        [1, 1],
      ],
      /a line zone has exactly 2 points/,
    ],
    ['a line of 1 point', 'line', [[0, 0]], /exactly 2 points/],
  ])('refuses %s with a 400', (_what, kind, polygon, why) => {
    let err: unknown;
    try {
      checkGeometry(kind, polygon);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).message).toMatch(why);
    expect((err as BadRequestError).code).toBe('VALIDATION_FAILED');
  });
});

describe('checkConfig', () => {
  it.each<[string, JsonObject]>([
    ['empty', {}],
    ['min_confidence 0 and 1', { min_confidence: 0 }],
    [
      'every key',
      {
        min_confidence: 0.4,
        confirm_frames: 10,
        direction: 'ab',
        static_suppression: false,
        static_epsilon: 1,
        static_after_seconds: 86_400,
      },
    ],
    ['direction any / ba', { direction: 'ba' }],
  ])('accepts %s', (_what, config) => {
    expect(checkConfig(config)).toBe(config);
  });

  it.each<[string, JsonObject, RegExp]>([
    [
      'an unknown key',
      { colour: 'red' },
      /config\.colour is not a zone setting \(min_confidence, confirm_frames/,
    ],
    ['min_confidence above 1', { min_confidence: 1.2 }, /config\.min_confidence has an invalid value/],
    ['min_confidence as a string', { min_confidence: '0.5' }, /config\.min_confidence/],
    ['confirm_frames 0', { confirm_frames: 0 }, /config\.confirm_frames/],
    ['confirm_frames 11', { confirm_frames: 11 }, /config\.confirm_frames/],
    ['confirm_frames 1.5', { confirm_frames: 1.5 }, /config\.confirm_frames/],
    ['direction sideways', { direction: 'up' }, /config\.direction/],
    ['static_suppression "yes"', { static_suppression: 'yes' }, /config\.static_suppression/],
    ['static_epsilon 0', { static_epsilon: 0 }, /config\.static_epsilon/],
    ['static_after_seconds 0.5', { static_after_seconds: 0.5 }, /config\.static_after_seconds/],
    ['static_after_seconds above a day', { static_after_seconds: 86_401 }, /config\.static_after_seconds/],
  ])('refuses %s with a 400', (_what, config, why) => {
    expect(() => checkConfig(config)).toThrow(BadRequestError);
    expect(() => checkConfig(config)).toThrow(why);
  });
});
