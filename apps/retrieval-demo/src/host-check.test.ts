import { describe, expect, it } from 'vitest';
import { hostChecker } from './host-check';

describe('hostChecker (DNS-rebinding defence)', () => {
  it('accepts the bound loopback address and localhost on the bound port only', () => {
    const ok = hostChecker('127.0.0.1', 8080);
    expect(ok('127.0.0.1:8080')).toBe(true);
    expect(ok('localhost:8080')).toBe(true);
    expect(ok('LOCALHOST:8080')).toBe(true);
    expect(ok('127.0.0.1:8081')).toBe(false);
    expect(ok('evil.example:8080')).toBe(false);
    expect(ok('127.0.0.1.nip.io:8080')).toBe(false);
    expect(ok(undefined)).toBe(false);
    expect(ok('')).toBe(false);
  });

  it('handles IPv6, wildcard binds and extra names', () => {
    expect(hostChecker('::1', 80)('[::1]')).toBe(true);
    expect(hostChecker('::1', 80)('localhost')).toBe(true);
    const any = hostChecker('0.0.0.0', 9000, ['demo.lan']);
    expect(any('192.168.1.20:9000')).toBe(true);
    expect(any('demo.lan:9000')).toBe(true);
    expect(any('attacker.example:9000')).toBe(false);
    expect(hostChecker('192.168.1.20', 9000)('localhost:9000')).toBe(false);
  });
});
