/**
 * A force-directed layout for the topology graph: linked nodes pull towards a rest length, every pair pushes apart,
 * a weak pull to the centre keeps unlinked parts near, and nodes never overlap (each is a circle of its own radius,
 * label included). Run to the end at once, not animated: the graph is drawn where it settles.
 *
 * Written here rather than taken from d3-force: it is about a hundred lines, the dashboard's budget counts every
 * kilobyte, and no layout library is installed (the project adds no packages for this). It follows d3-force's scheme
 * (velocity Verlet with a cooling `alpha`), all pairs compared directly: the graph is capped at a few hundred nodes.
 *
 * Deterministic: the same nodes and edges always settle in the same places (nodes start on a spiral by their order,
 * and ties are broken by index, never at random), so a reload does not shuffle the picture.
 *
 * @example
 * const at = forceLayout([{ id: 'a', radius: 40 }, { id: 'b', radius: 40 }], [{ source: 'a', target: 'b' }]);
 * at.get('a'); // { x: -61.2, y: 3.4 }
 */

export interface LayoutNode {
  id: string;
  /** Nothing else comes closer to its centre than this plus the other's radius. */
  radius: number;
}

export interface LayoutEdge {
  source: string;
  target: string;
}

export interface Position {
  x: number;
  y: number;
}

export interface LayoutOptions {
  /** Ticks of the simulation. @default 300 */
  iterations?: number;
  /** The length links settle at, beyond the two nodes' radii. @default 40 */
  linkDistance?: number;
  /** How hard every pair pushes apart. @default 900 */
  repulsion?: number;
}

/** What is left of the velocity after each tick, as in d3-force. */
const VELOCITY_KEPT = 0.6;
const LINK_STRENGTH = 0.4;
const CENTRE_STRENGTH = 0.04;
const COLLISION_STRENGTH = 0.7;
/** Passes that push apart any pair still overlapping once the simulation has cooled. */
const SEPARATION_PASSES = 100;

interface Body {
  x: number;
  y: number;
  vx: number;
  vy: number;
  radius: number;
  degree: number;
}

export function forceLayout(nodes: readonly LayoutNode[], edges: readonly LayoutEdge[], options: LayoutOptions = {}): Map<string, Position> {
  const { iterations = 300, linkDistance = 40, repulsion = 900 } = options;
  // A spiral, as d3-force starts: spread out, and the same every time.
  const spacing = Math.max(10, ...nodes.map((node) => node.radius));
  const turn = Math.PI * (3 - Math.sqrt(5));
  const bodies: Body[] = nodes.map((node, i) => ({
    x: spacing * Math.sqrt(0.5 + i) * Math.cos(i * turn),
    y: spacing * Math.sqrt(0.5 + i) * Math.sin(i * turn),
    vx: 0,
    vy: 0,
    radius: node.radius,
    degree: 0,
  }));
  const byId = new Map(nodes.map((node, i) => [node.id, i]));
  const links: [number, number][] = [];
  for (const edge of edges) {
    const s = byId.get(edge.source);
    const t = byId.get(edge.target);
    if (s === undefined || t === undefined || s === t) continue;
    links.push([s, t]);
    bodies[s]!.degree += 1;
    bodies[t]!.degree += 1;
  }

  let alpha = 1;
  const decay = 1 - 0.001 ** (1 / Math.max(iterations, 1));
  for (let tick = 0; tick < iterations; tick++) {
    alpha -= alpha * decay;
    for (const [s, t] of links) {
      const a = bodies[s]!;
      const b = bodies[t]!;
      const [dx, dy] = apart(b.x + b.vx - a.x - a.vx, b.y + b.vy - a.y - a.vy, s, t);
      const distance = Math.hypot(dx, dy);
      const pull = ((distance - (a.radius + b.radius + linkDistance)) / distance) * alpha * LINK_STRENGTH;
      // The busier end moves less, so a hub stays put and its leaves gather round it.
      const bias = a.degree / (a.degree + b.degree);
      b.vx -= dx * pull * bias;
      b.vy -= dy * pull * bias;
      a.vx += dx * pull * (1 - bias);
      a.vy += dy * pull * (1 - bias);
    }
    for (let i = 0; i < bodies.length; i++) {
      const a = bodies[i]!;
      for (let j = i + 1; j < bodies.length; j++) {
        const b = bodies[j]!;
        const [dx, dy] = apart(b.x - a.x, b.y - a.y, i, j);
        const squared = dx * dx + dy * dy;
        const push = (repulsion * alpha) / Math.max(squared, 1);
        a.vx -= dx * push;
        a.vy -= dy * push;
        b.vx += dx * push;
        b.vy += dy * push;
        const reach = a.radius + b.radius;
        if (squared < reach * reach) {
          const distance = Math.sqrt(squared);
          const overlap = ((reach - distance) / distance) * COLLISION_STRENGTH * 0.5;
          a.vx -= dx * overlap;
          a.vy -= dy * overlap;
          b.vx += dx * overlap;
          b.vy += dy * overlap;
        }
      }
    }
    for (const body of bodies) {
      body.vx = (body.vx - body.x * CENTRE_STRENGTH * alpha) * VELOCITY_KEPT;
      body.vy = (body.vy - body.y * CENTRE_STRENGTH * alpha) * VELOCITY_KEPT;
      body.x += body.vx;
      body.y += body.vy;
    }
  }
  separate(bodies);
  return new Map(nodes.map((node, i) => [node.id, { x: bodies[i]!.x, y: bodies[i]!.y }]));
}

/**
 * The vector between two nodes; two on the same spot are told apart by their indexes (a small turn that differs per
 * pair), so they part the same way every time.
 */
function apart(dx: number, dy: number, i: number, j: number): [number, number] {
  if (dx !== 0 || dy !== 0) return [dx, dy];
  const angle = (((i * 7 + j * 13) % 360) * Math.PI) / 180;
  return [Math.cos(angle) * 1e-3, Math.sin(angle) * 1e-3];
}

/** Pushes apart, half each way, every pair still closer than their radii, until none is (or the passes run out). */
function separate(bodies: Body[]): void {
  for (let pass = 0; pass < SEPARATION_PASSES; pass++) {
    let moved = false;
    for (let i = 0; i < bodies.length; i++) {
      const a = bodies[i]!;
      for (let j = i + 1; j < bodies.length; j++) {
        const b = bodies[j]!;
        const [dx, dy] = apart(b.x - a.x, b.y - a.y, i, j);
        const distance = Math.hypot(dx, dy);
        const reach = a.radius + b.radius;
        if (distance >= reach) continue;
        // A hair past touching, so rounding never leaves them overlapping.
        const shift = ((reach - distance) * 0.5 + 0.01) / distance;
        a.x -= dx * shift;
        a.y -= dy * shift;
        b.x += dx * shift;
        b.y += dy * shift;
        moved = true;
      }
    }
    if (!moved) return;
  }
}
