// Compile-time check that host.web.ts can stand in for host.node.ts: every function of the web
// twin accepts what the Node one accepts and returns what it returns (strictFunctionTypes).
// DataParallelGradients and TwoThreadAdamW are left out: the web classes never start, and
// classes with private members never match structurally. Imported by nothing: the Node typecheck compiles it.
import type * as NodeHost from './host.node';
import type * as WebHost from './host.web';

type Checked = Omit<typeof NodeHost, 'DataParallelGradients' | 'TwoThreadAdamW'>;
export const hostTwinsAgree = (web: typeof WebHost): Checked => web;
