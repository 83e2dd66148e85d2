/**
 * Where the dashboard is, read from the location's hash (dashboard/src/route.ts): each place by its hash and back, and
 * a hash that is not valid percent-encoding (a link cut short) read as written rather than thrown on, which left the
 * page blank.
 */
import { describe, expect, it } from 'vitest';
import { hashOf, parseRoute, type Route } from '../../../dashboard/src/route.js';

describe('the dashboard route', () => {
  it('reads each place from its hash, and writes the same hash back', () => {
    const places: [string, Route][] = [
      ['#/experiments', { tab: 'experiments', view: 'list' }],
      ['#/experiments/new', { tab: 'experiments', view: 'new' }],
      ['#/experiments/exp-1%2F2', { tab: 'experiments', view: 'experiment', id: 'exp-1/2' }],
      ['#/topology', { tab: 'topology' }],
      ['#/analysis', { tab: 'analysis' }],
    ];
    for (const [hash, route] of places) {
      expect(parseRoute(hash)).toEqual(route);
      expect(hashOf(route)).toBe(hash);
    }
    expect(parseRoute('')).toEqual({ tab: 'experiments', view: 'list' });
    expect(parseRoute('#/nowhere')).toEqual({ tab: 'experiments', view: 'list' });
  });

  it('takes a part that is not valid percent-encoding as written', () => {
    expect(parseRoute('#/experiments/%E0%A4%A')).toEqual({ tab: 'experiments', view: 'experiment', id: '%E0%A4%A' });
    expect(parseRoute('#/%zz')).toEqual({ tab: 'experiments', view: 'list' });
  });
});
