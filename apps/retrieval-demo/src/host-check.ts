import { isIP } from 'node:net';

const WILDCARDS = new Set(['0.0.0.0', '::', '']);
const isLoopback = (h: string) => h === '::1' || h.startsWith('127.');

/** "[::1]:8080" → ["::1", "8080"]; "localhost" → ["localhost", ""]. */
function splitHost(header: string): [string, string] {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(header) ?? /^([^:]+)(?::(\d+))?$/.exec(header);
  return m ? [m[1].toLowerCase(), m[2] ?? ''] : ['', ''];
}

/**
 * DNS-rebinding defence: a page on an attacker's domain can make that name resolve to
 * 127.0.0.1, and the browser then sends the attacker's name as Host. Only names this server
 * is reached by directly pass: its bound address (any IP literal when bound to all
 * interfaces, since an IP literal cannot be rebound), `localhost` for a loopback or wildcard
 * bind, and any name listed in `extra`, each with the bound port.
 */
export function hostChecker(
  boundHost: string,
  port: number,
  extra: string[] = [],
): (header: string | undefined) => boolean {
  const bound = boundHost.replace(/^\[|\]$/g, '').toLowerCase();
  const wildcard = WILDCARDS.has(bound);
  const names = new Set(extra.map((h) => h.toLowerCase()));
  if (wildcard || isLoopback(bound)) names.add('localhost');
  return (header) => {
    if (!header) return false;
    const [name, p] = splitHost(header.trim());
    if (Number(p || 80) !== port) return false;
    if (name === bound || names.has(name)) return true;
    return wildcard && isIP(name) !== 0;
  };
}
