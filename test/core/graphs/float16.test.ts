import assert from 'node:assert/strict';
import test from 'node:test';
import { fromFloat16, fromFloat16Bits, toFloat16, toFloat16Bits } from '../../../src/core/graphs/float16.js';

test('known half-precision encodings (IEEE 754 binary16)', () => {
  const cases: [number, number][] = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff], [2 ** -14, 0x0400],
    [2 ** -24, 0x0001], [0.333251953125, 0x3555], [Infinity, 0x7c00], [-Infinity, 0xfc00],
  ];
  for (const [x, bits] of cases) {
    assert.equal(toFloat16Bits(x), bits, `encode ${x}`);
    assert.equal(fromFloat16Bits(bits), x, `decode 0x${bits.toString(16)}`);
  }
  // Not representable: too large → Infinity, too small → zero.
  assert.equal(toFloat16Bits(1e6), 0x7c00);
  assert.equal(toFloat16Bits(2 ** -26), 0x0000);
  assert.ok(Number.isNaN(fromFloat16Bits(toFloat16Bits(NaN))));
});

test('rounding is to nearest, ties to even', () => {
  // 1 + 2^-11 lies halfway between 1 (even mantissa) and 1 + 2^-10: rounds down to 1.
  assert.equal(toFloat16Bits(1 + 2 ** -11), 0x3c00);
  // 1 + 3·2^-11 lies halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even): rounds up.
  assert.equal(toFloat16Bits(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(toFloat16Bits(1 + 2 ** -11 + 2 ** -20), 0x3c01); // just above halfway: up
});

test('every float16 value survives a round trip, and the error of rounding is at most half an ulp', () => {
  for (let h = 0; h < 0x10000; h++) {
    const x = fromFloat16Bits(h);
    if (Number.isNaN(x)) continue;
    assert.equal(toFloat16Bits(x), h);
  }
  const xs = Float32Array.from({ length: 10000 }, (_, i) => Math.sin(i) * 3);
  const back = fromFloat16(toFloat16(xs));
  for (let i = 0; i < xs.length; i++) assert.ok(Math.abs(back[i]! - xs[i]!) <= Math.abs(xs[i]!) * 2 ** -11 + 2 ** -25);
});
