// A screenshot (a PNG of full colour) as a PNG of 256 colours, as the GIF's frames are made (one palette
// from gifenc's quantizer): the pictures travel inside the VSIX, near its size limit, and a window's
// flat colours and anti-aliased text lose nothing a reader sees at about a third of the bytes.
import { deflateSync } from 'node:zlib';
import { applyPalette, quantize } from 'gifenc';
import { PNG } from 'pngjs';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** `png` (any PNG pngjs reads) re-encoded with a palette of at most 256 colours; opaque (a screenshot has no transparency). */
export function toPalettePng(png: Buffer): Buffer {
  const img = PNG.sync.read(png);
  const rgba = new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.length);
  const palette = quantize(rgba, 256);
  const index = applyPalette(rgba, palette);
  // Each row: filter type 0 (none; the indices of a flat UI repeat, which deflate finds), then the row.
  const raw = Buffer.alloc((img.width + 1) * img.height);
  for (let y = 0; y < img.height; y++) raw.set(index.subarray(y * img.width, (y + 1) * img.width), y * (img.width + 1) + 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(img.width, 0);
  ihdr.writeUInt32BE(img.height, 4);
  ihdr[8] = 8; // bits per index
  ihdr[9] = 3; // colour type: palette
  // compression, filter method, interlace: 0
  const plte = Buffer.from(palette.flatMap(([r, g, b]) => [r!, g!, b!]));
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('PLTE', plte), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}
