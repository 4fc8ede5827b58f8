/** Types for `qrcode-terminal` 0.12 (CommonJS, ships no types). Only what qshare uses. */
declare module 'qrcode-terminal' {
  interface QrcodeTerminal {
    generate(text: string, opts: { small?: boolean }, cb: (qr: string) => void): void;
    setErrorLevel(level: 'L' | 'M' | 'Q' | 'H'): void;
  }
  const qrcode: QrcodeTerminal;
  export default qrcode;
}
