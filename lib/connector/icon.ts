import { deflateSync, inflateSync as inflate } from 'node:zlib';

/**
 * The connector's icon, drawn in code so `npm run connector:check` can regenerate it byte for byte:
 * 230 × 230 pixels (the size the certification submission asks for), opaque RGB (no alpha
 * channel, so no transparent pixel), the brand colour as background and a white ring with a tick.
 */

export const ICON_SIZE = 230;
/** apiProperties.json `iconBrandColor`: neither the default blue #007ee5 nor white. */
export const ICON_BRAND_COLOR = '#0f6cbd';

type Rgb = readonly [number, number, number];

const rgbOf = (hex: string): Rgb => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as unknown as Rgb;

/** Distance from a point to the segment a–b. */
function segmentDistance(x: number, y: number, [ax, ay]: readonly [number, number], [bx, by]: readonly [number, number]): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(x - (ax + t * dx), y - (ay + t * dy));
}

/** How much of the white mark covers a pixel centre (0 or 1; the edges are blended by 1 px). */
function coverage(x: number, y: number): number {
  const c = ICON_SIZE / 2;
  const ring = Math.abs(Math.hypot(x - c, y - c) - 82) - 9;
  const tick = Math.min(segmentDistance(x, y, [78, 118], [104, 144]), segmentDistance(x, y, [104, 144], [154, 90])) - 10;
  return Math.max(0, Math.min(1, 0.5 - Math.min(ring, tick)));
}

function pixels(background: Rgb): Buffer {
  const row = 1 + ICON_SIZE * 3;
  const raw = Buffer.alloc(row * ICON_SIZE);
  for (let y = 0; y < ICON_SIZE; y++) {
    raw[y * row] = 0; // filter: none
    for (let x = 0; x < ICON_SIZE; x++) {
      const a = coverage(x + 0.5, y + 0.5);
      for (let k = 0; k < 3; k++) raw[y * row + 1 + x * 3 + k] = Math.round(background[k]! * (1 - a) + 255 * a);
    }
  }
  return raw;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function connectorIcon(brandColor = ICON_BRAND_COLOR): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(ICON_SIZE, 0);
  header.writeUInt32BE(ICON_SIZE, 4);
  header[8] = 8; // bits per sample
  header[9] = 2; // colour type: RGB, no alpha
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixels(rgbOf(brandColor)), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** What a PNG says about itself: size, colour type, and the colour of its top-left pixel. */
export function readPng(bytes: Buffer): { width: number; height: number; colorType: number; corner: Rgb } | null {
  if (bytes.length < 33 || !bytes.subarray(0, 8).equals(PNG_SIGNATURE) || bytes.toString('ascii', 12, 16) !== 'IHDR') return null;
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  const colorType = bytes[25]!;
  const idat: Buffer[] = [];
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    if (bytes.toString('ascii', at + 4, at + 8) === 'IDAT') idat.push(bytes.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  return { width, height, colorType, corner: cornerOf(Buffer.concat(idat), colorType) };
}

function cornerOf(idat: Buffer, colorType: number): Rgb {
  try {
    const raw = inflate(idat);
    return colorType === 2 || colorType === 6 ? [raw[1]!, raw[2]!, raw[3]!] : [raw[1]!, raw[1]!, raw[1]!];
  } catch {
    return [255, 255, 255];
  }
}
