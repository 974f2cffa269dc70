import { ModelProto } from './schema';

/** One node of a model file, as tools that inspect a graph see it. */
export interface GraphNode {
  name: string;
  opType: string;
  domain: string;
  input: string[];
  output: string[];
}

/** The nodes of ModelProto bytes in file order (a graph's topological order). */
export function graphNodes(bytes: Uint8Array): GraphNode[] {
  const model = ModelProto.decode(bytes) as unknown as { graph?: { node?: Partial<GraphNode>[] } };
  return (model.graph?.node ?? []).map((n) => ({
    name: n.name ?? '',
    opType: n.opType ?? '',
    domain: n.domain ?? '',
    input: n.input ?? [],
    output: n.output ?? [],
  }));
}
