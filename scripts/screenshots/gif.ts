// Frames (PNG screenshots of one size) to an animated GIF: one palette for the whole animation, and
// every frame after the first stores only the pixels that changed (the rest transparent over the frame
// before), which keeps a capture of typing to a fraction of the PNGs' size.
import { GIFEncoder, applyPalette, quantize } from 'gifenc';
import { PNG } from 'pngjs';

export interface Frame {
  png: Buffer;
  /** How long the frame stays on screen, in milliseconds (GIF keeps hundredths). */
  delayMs: number;
}

/** The palette's last entry is kept for "unchanged": 255 colours for the pictures. */
const COLOURS = 255;

export function encodeGif(frames: Frame[]): Buffer {
  if (frames.length === 0) throw new Error('no frames to encode');
  const images = frames.map((f) => PNG.sync.read(f.png));
  const { width, height } = images[0]!;
  for (const img of images) {
    if (img.width !== width || img.height !== height) throw new Error(`frames differ in size: ${img.width}×${img.height} and ${width}×${height}`);
  }
  // The palette from a sample of the frames (first, middle, last): the UI's colours hardly change.
  const sample = [images[0]!, images[Math.floor(images.length / 2)]!, images[images.length - 1]!];
  const joined = new Uint8Array(sample.length * width * height * 4);
  sample.forEach((img, i) => joined.set(img.data, i * width * height * 4));
  const palette = quantize(joined, COLOURS);
  const transparentIndex = palette.length;
  const fullPalette = [...palette, [0, 0, 0]];

  const gif = GIFEncoder();
  let previous: Uint8Array | undefined;
  images.forEach((img, i) => {
    const index = applyPalette(new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.length), palette);
    const delay = frames[i]!.delayMs;
    if (!previous) {
      gif.writeFrame(index, width, height, { palette: fullPalette, delay, repeat: 0 });
    } else {
      const delta = new Uint8Array(index.length);
      for (let p = 0; p < index.length; p++) delta[p] = index[p] === previous[p] ? transparentIndex : index[p]!;
      // dispose 1: keep the frame before under this one's transparent pixels.
      gif.writeFrame(delta, width, height, { delay, transparent: true, transparentIndex, dispose: 1 });
    }
    previous = index;
  });
  gif.finish();
  return Buffer.from(gif.bytes());
}
