import { describe, expect, it } from 'vitest';
import { parseTechnicalListing } from '../../src/archive/listing.js';

const HEAD_7ZZ = `
7-Zip (z) 26.02 (x64) : Copyright (c) 1999-2026 Igor Pavlov : 2026-06-25
 64-bit locale=C.UTF-8 Threads:2 OPEN_MAX:20000

Scanning the drive for archives:
1 file, 200496 bytes (196 KiB)

Listing archive: a.7z


Enter password (will not be echoed):
--
Path = a.7z
Type = 7z
Physical Size = 200496
Headers Size = 432
Method = Copy 7zAES
Solid = -
Blocks = 5

----------
`;
const ENTRIES_7ZZ = `Path = my folder
Size = 0
Packed Size = 0
Modified = 2026-11-21 10:09:40.5392083
Attributes = D drwxr-xr-x
CRC = 
Encrypted = -
Method = 
Block = 

Path = my folder/link
Size = 14
Packed Size = 16
Modified = 2026-11-21 10:09:40.5387205
Attributes = A lrwxrwxrwx
CRC = D7A79DC6
Encrypted = +
Method = Copy 7zAES:19
Block = 2

Path = my folder/é😀eé = x
Size = 1
Packed Size = 16
Modified = 2026-11-21 10:09:40.5392083
Attributes = A -rw-r--r--
CRC = E8B7BE43
Encrypted = +
Method = Copy 7zAES:19
Block = 4

`;
const P7ZIP = `
7-Zip (a) [64] 16.02 : Copyright (c) 1999-2016 Igor Pavlov : 2016-05-21
p7zip Version 16.02 (locale=C.UTF-8,Utf16=on,HugeFiles=on,64 bits,2 CPUs AMD EPYC (A10F11),ASM,AES-NI)

Listing archive: b.7z


Enter password (will not be echoed):--
Path = b.7z
Type = 7z

----------
Path = my folder/-sdel
Size = 0
Packed Size = 0
Modified = 2026-11-21 10:09:40
Attributes = D_ drwxr-xr-x
CRC = 
Encrypted = -
Method = 
Block = 

Path = my folder/link
Size = 14
Packed Size = 16
Modified = 2026-11-21 10:09:40
Attributes = A_ lrwxrwxrwx
CRC = D7A79DC6
Encrypted = +
Method = Copy 7zAES:19
Block = 2

Path = my folder/sub/deep/r.bin
Size = 200000
Packed Size = 200000
Modified = 2026-11-21 10:09:40
Attributes = A_ -rw-r--r--
CRC = 010E313A
Encrypted = +
Method = Copy 7zAES:19
Block = 3
`;

describe('parseTechnicalListing', () => {
  it('7zz: entries only (not the archive block), kinds, names containing " = "', () => {
    expect(parseTechnicalListing(HEAD_7ZZ + ENTRIES_7ZZ)).toEqual([
      {
        path: 'my folder',
        kind: 'dir',
        size: 0,
        attributes: 'D drwxr-xr-x',
        modified: '2026-11-21 10:09:40.5392083',
        encrypted: false,
      },
      {
        path: 'my folder/link',
        kind: 'symlink',
        size: 14,
        attributes: 'A lrwxrwxrwx',
        modified: '2026-11-21 10:09:40.5387205',
        encrypted: true,
      },
      {
        path: 'my folder/é😀eé = x',
        kind: 'file',
        size: 1,
        attributes: 'A -rw-r--r--',
        modified: '2026-11-21 10:09:40.5392083',
        encrypted: true,
      },
    ]);
  });

  it('p7zip attributes (D_, A_) and no trailing blank line', () => {
    const got = parseTechnicalListing(P7ZIP);
    expect(got.map((e) => [e.path, e.kind, e.size])).toEqual([
      ['my folder/-sdel', 'dir', 0],
      ['my folder/link', 'symlink', 14],
      ['my folder/sub/deep/r.bin', 'file', 200000],
    ]);
  });

  it('CRLF and Windows-style attributes without a mode', () => {
    const text =
      '----------\r\nPath = a\\b\r\nSize = 3\r\nAttributes = D\r\n\r\nPath = c\r\nSize = 5\r\nAttributes = A\r\n';
    expect(parseTechnicalListing(text).map((e) => [e.path, e.kind, e.size])).toEqual([
      ['a\\b', 'dir', 3],
      ['c', 'file', 5],
    ]);
  });

  it.each([[''], ['no listing here'], [HEAD_7ZZ]])('nothing to list in %j', (text) => {
    expect(parseTechnicalListing(text)).toEqual([]);
  });
});
