/**
 * Types for the `bencode` package (v4, ESM, ships no types). Only what we use.
 * Byte strings decode to Uint8Array (no `encoding` argument), integers to number, lists to arrays, dicts to objects.
 */
declare module 'bencode' {
  export type BencodeValue =
    Uint8Array | string | number | boolean | BencodeValue[] | { [key: string]: BencodeValue | undefined };
  interface Bencode {
    encode(data: unknown): Uint8Array;
    decode(data: Uint8Array, encoding?: string): unknown;
    decode(data: Uint8Array, start?: number, end?: number, encoding?: string): unknown;
    byteLength(data: unknown): number;
    encodingLength(data: unknown): number;
  }
  const bencode: Bencode;
  export default bencode;
}
