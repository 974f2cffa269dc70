import { describe, expect, it } from 'vitest';
import { checkTextBytes } from './text-input';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('checkTextBytes', () => {
  it('passes UTF-8 text through unchanged', () => {
    const bytes = utf8('Call me Ishmael. Ñandú — 鯨\n');
    expect(checkTextBytes(bytes, 'a.txt')).toBe(bytes);
  });

  it('refuses a binary file, naming it and the offset of its first NUL byte', () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    expect(() => checkTextBytes(png, 'whale.png')).toThrow(
      '"whale.png" is not text (a NUL byte at offset 8',
    );
  });

  it('refuses invalid UTF-8 and empty files', () => {
    expect(() => checkTextBytes(Uint8Array.from([0x41, 0xff, 0xfe, 0x41]), 'latin.txt')).toThrow(
      '"latin.txt" is not UTF-8 text',
    );
    expect(() => checkTextBytes(new Uint8Array(0), 'empty.txt')).toThrow('"empty.txt" is empty');
  });
});
