/**
 * The topology graph's force layout (dashboard/src/force-layout.ts): it settles to finite positions where no two
 * nodes overlap, linked nodes end up nearer each other than unlinked ones, and the same graph always settles the same.
 */
import { describe, expect, it } from 'vitest';
import { forceLayout, type LayoutEdge, type LayoutNode, type Position } from '../../../dashboard/src/force-layout.js';

/** A small topology: the sandbox service and its three replicas, a cluster with two namespaces of workloads, a lone node. */
const nodes: LayoutNode[] = ['sandbox', 'r1', 'r2', 'r3', 'k8s', 'ns-a', 'ns-b', 'web', 'api', 'db', 'lone'].map((id) => ({ id, radius: 58 }));
const edges: LayoutEdge[] = [
  { source: 'sandbox', target: 'r1' },
  { source: 'sandbox', target: 'r2' },
  { source: 'sandbox', target: 'r3' },
  { source: 'k8s', target: 'ns-a' },
  { source: 'k8s', target: 'ns-b' },
  { source: 'ns-a', target: 'web' },
  { source: 'ns-a', target: 'api' },
  { source: 'ns-b', target: 'db' },
];

const distance = (a: Position, b: Position) => Math.hypot(a.x - b.x, a.y - b.y);

function pairs(at: Map<string, Position>, radius: Map<string, number>) {
  const ids = [...at.keys()];
  return ids.flatMap((a, i) => ids.slice(i + 1).map((b) => ({ a, b, gap: distance(at.get(a)!, at.get(b)!) - radius.get(a)! - radius.get(b)! })));
}

describe('the force layout', () => {
  it('settles every node at a finite position, none overlapping another', () => {
    const at = forceLayout(nodes, edges);

    expect([...at.keys()].sort()).toEqual(nodes.map((node) => node.id).sort());
    for (const { x, y } of at.values()) {
      expect(Number.isFinite(x)).toBe(true);
      expect(Number.isFinite(y)).toBe(true);
    }
    const radius = new Map(nodes.map((node) => [node.id, node.radius]));
    const overlapping = pairs(at, radius).filter((pair) => pair.gap < 0);
    expect(overlapping).toEqual([]);
  });

  it('keeps what is linked together: each replica nearer its service than any node of the cluster', () => {
    const at = forceLayout(nodes, edges);
    const of = (id: string) => at.get(id)!;

    for (const replica of ['r1', 'r2', 'r3']) {
      const toService = distance(of(replica), of('sandbox'));
      for (const other of ['k8s', 'ns-a', 'ns-b', 'web', 'api', 'db']) expect(toService).toBeLessThan(distance(of(replica), of(other)));
    }
    // A link settles near its rest length (the two radii and 40 between): not pulled into a heap, not flung apart.
    expect(distance(of('ns-b'), of('db'))).toBeGreaterThanOrEqual(116);
    expect(distance(of('ns-b'), of('db'))).toBeLessThan(400);
    // A node with no link is held near the rest by the pull to the centre.
    const centre = { x: 0, y: 0 };
    expect(distance(of('lone'), centre)).toBeLessThan(1000);
  });

  it('settles the same graph in the same places every time, so a reload does not shuffle it', () => {
    expect([...forceLayout(nodes, edges)]).toEqual([...forceLayout(nodes, edges)]);
  });

  it('parts nodes that start on the same spot, and takes edges to unknown nodes or to themselves as no link', () => {
    const two = forceLayout([{ id: 'a', radius: 20 }, { id: 'b', radius: 30 }], [{ source: 'a', target: 'a' }, { source: 'a', target: 'missing' }], { iterations: 0 });
    expect(distance(two.get('a')!, two.get('b')!)).toBeGreaterThanOrEqual(50);
    expect(forceLayout([], [])).toEqual(new Map());
    const one = forceLayout([{ id: 'only', radius: 10 }], []);
    expect(Number.isFinite(one.get('only')!.x)).toBe(true);
  });

  it('lays out a few hundred nodes without overlap', () => {
    const many: LayoutNode[] = Array.from({ length: 200 }, (_, i) => ({ id: `n${i}`, radius: 20 + (i % 3) * 10 }));
    const links: LayoutEdge[] = many.slice(1).map((node, i) => ({ source: `n${Math.floor(i / 6)}`, target: node.id }));
    const at = forceLayout(many, links);
    const radius = new Map(many.map((node) => [node.id, node.radius]));

    expect(pairs(at, radius).filter((pair) => pair.gap < 0)).toEqual([]);
  });
});
