import type { GraphBuilder } from '@matformer/core/onnx';
import { GraphError, type NodeLike } from './graph-error';
import { nonDifferentiable, vjpRules } from './vjp-rules';

/** The part of a forward graph that the backward pass goes through. */
export interface GradientPlan {
  /** The values whose gradients are given (a scalar loss, or seeded values). */
  outputs: string[];
  wrt: string[];
  /** Nodes on a path from a parameter to an output, in forward (topological) order. */
  active: NodeLike[];
  /** Values on such a path: the ones whose static shapes the backward pass needs. */
  needed: Set<string>;
}

/**
 * The values computed from `wrt` through differentiable ops (nodes in `cut` left out), `wrt`
 * included: the ones a gradient can flow back to the parameters through.
 */
export function dependents(
  nodes: NodeLike[],
  wrt: string[],
  cut: ReadonlySet<NodeLike> = new Set(),
): Set<string> {
  const out = new Set(wrt);
  for (const n of nodes) {
    if (nonDifferentiable.has(n.opType) || cut.has(n)) continue;
    if (n.input.some((i) => out.has(i))) n.output.forEach((o) => out.add(o));
  }
  return out;
}

/**
 * Finds the nodes between the parameters `wrt` and `outputs` (a scalar loss, or values whose
 * gradients will be given), leaving out the nodes in `cut`: a backward pass that stops at
 * values other nodes produce, treating them as parameters. Checks that each node has a
 * gradient rule (a clear GraphError otherwise, before anything runs), and gives nodes the
 * extra outputs their rules read (LayerNormalization's mean and 1/σ).
 */
export function planGradients(
  g: GraphBuilder,
  outputs: string | string[],
  wrt: string[],
  cut: ReadonlySet<NodeLike> = new Set(),
): GradientPlan {
  const outs = typeof outputs === 'string' ? [outputs] : outputs;
  const fromParams = dependents(g.nodes, wrt, cut);
  for (const o of outs)
    if (!fromParams.has(o)) throw new GraphError(`the loss ${o} does not depend on any parameter`);
  const toLoss = new Set(outs);
  for (const n of [...g.nodes].reverse()) {
    if (cut.has(n)) continue;
    if (n.output.some((o) => toLoss.has(o))) n.input.forEach((i) => toLoss.add(i));
  }
  const needed = new Set([...fromParams].filter((v) => toLoss.has(v)));
  const active = g.nodes.filter((n) => !cut.has(n) && n.output.some((o) => needed.has(o)));
  for (const n of active) {
    const rule = vjpRules[n.opType];
    if (!rule)
      throw new GraphError(
        `no gradient rule for ONNX op ${n.opType} (node ${n.name}); supported: ${Object.keys(vjpRules).join(', ')}`,
      );
    for (let k = n.output.length; k < (rule.outputs ?? 0); k++) n.output.push(`${n.name}:${k}`);
  }
  return { outputs: outs, wrt, active, needed };
}

/**
 * Reverse-mode differentiation: walks the planned nodes backwards, applying each op's
 * vector–Jacobian rule and summing gradients that reach a value more than once. Appends the
 * backward nodes to `g` and returns the gradient value of each of `wrt` (zeros for one the
 * outputs do not use; `reachedOnly`: left out). `seeds` gives each output's gradient (default:
 * 1 for a scalar loss); `shapes` holds the static shape of every planned value.
 */
export function appendBackward(
  g: GraphBuilder,
  plan: GradientPlan,
  shapes: Map<string, number[]>,
  seeds?: Map<string, string>,
  reachedOnly = false,
): Record<string, string> {
  const constants = new Map(g.initializers.map((t) => [t.name, t]));
  const shape = (v: string) => {
    const s = shapes.get(v);
    if (!s) throw new GraphError(`internal: no static shape for ${v}`);
    return s;
  };
  const constant = (v: string) => {
    const t = constants.get(v);
    return t?.int64Data?.map(Number);
  };
  const pending = new Map<string, string[]>(
    plan.outputs.map((o) => [o, [seeds?.get(o) ?? g.f32([1], [])]]),
  );
  const total = (v: string): string | undefined => {
    const parts = pending.get(v);
    if (!parts) return undefined;
    if (parts.length > 1) pending.set(v, [g.op('Sum', parts)]);
    return pending.get(v)![0];
  };
  return g.scope('grad', () => {
    for (const node of [...plan.active].reverse()) {
      const dy = node.output.map(total);
      if (dy.every((d) => d === undefined)) continue;
      const needs = node.input.map((i) => plan.needed.has(i));
      const dx = vjpRules[node.opType].vjp({ g, node, dy, needs, shape, constant });
      node.input.forEach((input, i) => {
        if (!needs[i] || !dx[i]) return;
        pending.set(input, [...(pending.get(input) ?? []), dx[i]!]);
      });
    }
    return Object.fromEntries(
      plan.wrt.flatMap((p) => {
        const d =
          total(p) ?? (reachedOnly ? undefined : g.op('ConstantOfShape', [g.i64(shape(p))]));
        return d ? [[p, d]] : [];
      }),
    );
  });
}

/**
 * Plans, reads the missing static shapes with `probe` (it runs the forward graph once and
 * reports the shapes of the listed values) and appends the backward pass: the gradient value
 * of each of `wrt`. `shapes` holds what is already known (e.g. the parameters'). `loss` is a
 * scalar, or values whose gradients `o.seeds` gives; `o.cut` leaves nodes out (see planGradients);
 * `o.reachedOnly` leaves out the wrt values no gradient reaches (instead of zeros).
 */
export async function differentiate(
  g: GraphBuilder,
  loss: string | string[],
  wrt: string[],
  shapes: Map<string, number[]>,
  probe: (outputs: string[]) => Promise<Map<string, number[]>>,
  o: { seeds?: Map<string, string>; cut?: ReadonlySet<NodeLike>; reachedOnly?: boolean } = {},
): Promise<Record<string, string>> {
  const plan = planGradients(g, loss, wrt, o.cut);
  const unknown = [...plan.needed].filter((v) => !shapes.has(v));
  const all = new Map([...shapes, ...(await probe(unknown))]);
  return appendBackward(g, plan, all, o.seeds, o.reachedOnly);
}
