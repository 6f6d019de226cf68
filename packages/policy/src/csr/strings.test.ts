import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DerError } from './der.ts';
import { decodeString, StringTag } from './strings.ts';

const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
const ascii = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'latin1'));

function decoded(tag: number, content: Uint8Array): string {
  try {
    return JSON.stringify(decodeString(tag, content, 'x'));
  } catch (error) {
    assert.ok(error instanceof DerError);
    return `error: ${error.reason}`;
  }
}

describe('decodeString', () => {
  const cases: { name: string; tag: number; content: Uint8Array; want: string }[] = [
    {
      name: 'reads a PrintableString CN',
      tag: StringTag.printable,
      content: ascii('system:node:a'),
      want: '"system:node:a"',
    },
    {
      name: "reads every PrintableString punctuation mark '()+,-./:=?",
      tag: StringTag.printable,
      content: ascii("'()+,-./:=? "),
      want: `"'()+,-./:=? "`,
    },
    {
      name: 'refuses * in a PrintableString',
      tag: StringTag.printable,
      content: ascii('*'),
      want: 'error: invalid PrintableString contents',
    },
    {
      name: 'refuses & in a PrintableString',
      tag: StringTag.printable,
      content: ascii('&'),
      want: 'error: invalid PrintableString contents',
    },
    { name: 'reads UTF-8', tag: StringTag.utf8, content: bytes('c3a9e282ac'), want: '"é€"' },
    {
      name: 'keeps a leading byte order mark',
      tag: StringTag.utf8,
      content: bytes('efbbbf61'),
      want: JSON.stringify('\ufeffa'),
    },
    { name: 'keeps NUL', tag: StringTag.utf8, content: bytes('610062'), want: '"a\\u0000b"' },
    {
      name: 'refuses an overlong encoding',
      tag: StringTag.utf8,
      content: bytes('c0af'),
      want: 'error: invalid UTF8String contents',
    },
    {
      name: 'refuses an encoded surrogate',
      tag: StringTag.utf8,
      content: bytes('eda080'),
      want: 'error: invalid UTF8String contents',
    },
    {
      name: 'refuses a code point above U+10FFFF',
      tag: StringTag.utf8,
      content: bytes('f4908080'),
      want: 'error: invalid UTF8String contents',
    },
    { name: 'reads an IA5String', tag: StringTag.ia5, content: ascii('a@b\n'), want: '"a@b\\n"' },
    {
      name: 'refuses a byte above 0x7F in an IA5String',
      tag: StringTag.ia5,
      content: bytes('80'),
      want: 'error: invalid IA5String contents',
    },
    {
      name: 'reads a T61String as Latin-1',
      tag: StringTag.t61,
      content: bytes('e9ff'),
      want: '"éÿ"',
    },
    {
      name: 'reads a NumericString',
      tag: StringTag.numeric,
      content: ascii('12 3'),
      want: '"12 3"',
    },
    { name: 'reads a VisibleString', tag: StringTag.visible, content: ascii('a~'), want: '"a~"' },
    {
      name: 'refuses a control character in a VisibleString',
      tag: StringTag.visible,
      content: bytes('0a'),
      want: 'error: invalid VisibleString contents',
    },
    { name: 'reads a BMPString', tag: StringTag.bmp, content: bytes('00610416'), want: '"aЖ"' },
    {
      name: 'strips one NUL terminator from a BMPString, as Go does',
      tag: StringTag.bmp,
      content: bytes('00610000'),
      want: '"a"',
    },
    {
      name: 'refuses U+FFFE in a BMPString, as Go does',
      tag: StringTag.bmp,
      content: bytes('fffe'),
      want: 'error: invalid BMPString contents',
    },
    {
      name: 'reads a UniversalString',
      tag: StringTag.universal,
      content: bytes('0001f600'),
      want: '"😀"',
    },
    {
      name: 'refuses a UniversalString surrogate',
      tag: StringTag.universal,
      content: bytes('0000d800'),
      want: 'error: invalid UniversalString contents',
    },
    {
      name: 'refuses a UniversalString of 3 octets',
      tag: StringTag.universal,
      content: bytes('000061'),
      want: 'error: invalid UniversalString contents',
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      assert.equal(decoded(c.tag, c.content), c.want);
    });

  it('reads UTF-8 exactly as a fatal TextDecoder that keeps the BOM does', () => {
    const reference = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), content => {
        let want: string;
        try {
          want = JSON.stringify(reference.decode(content));
        } catch {
          want = 'error: invalid UTF8String contents';
        }
        assert.equal(decoded(StringTag.utf8, content), want);
      }),
      { numRuns: 2000 },
    );
  });
});
