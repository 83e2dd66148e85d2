/**
 * Where the dashboard is, from the location's hash: `#/experiments`, `#/experiments/new`, `#/experiments/exp-…`,
 * `#/topology`, `#/analysis`. A hash keeps every place on the one page the server serves, and each can be bookmarked.
 */
export type Route =
  | { tab: 'experiments'; view: 'list' }
  | { tab: 'experiments'; view: 'new' }
  | { tab: 'experiments'; view: 'experiment'; id: string }
  | { tab: 'topology' }
  | { tab: 'analysis' };

export type Tab = Route['tab'];

export const TABS: readonly { tab: Tab; label: string }[] = [
  { tab: 'experiments', label: 'Experiments' },
  { tab: 'topology', label: 'Topology' },
  { tab: 'analysis', label: 'Analysis' },
];

/** A part of the hash, decoded; one that is not valid percent-encoding (a link cut short) is taken as written, not thrown on. */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Anything unknown is the experiment list. */
export function parseRoute(hash: string): Route {
  const [tab, rest] = hash.replace(/^#?\/?/, '').split('/', 2).map((part) => decoded(part ?? ''));
  if (tab === 'topology' || tab === 'analysis') return { tab };
  if (tab === 'experiments' && rest === 'new') return { tab, view: 'new' };
  if (tab === 'experiments' && rest) return { tab, view: 'experiment', id: rest };
  return { tab: 'experiments', view: 'list' };
}

export function hashOf(route: Route): string {
  if (route.tab !== 'experiments') return `#/${route.tab}`;
  if (route.view === 'new') return '#/experiments/new';
  if (route.view === 'experiment') return `#/experiments/${encodeURIComponent(route.id)}`;
  return '#/experiments';
}
