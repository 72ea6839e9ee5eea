/**
 * One colour per wait, the same in every chart and export: each wait class has its hue from the Okabe–Ito palette
 * (told apart with the common colour-vision deficiencies), each event in a class a shade of it chosen from its name
 * (so an event keeps its colour from run to run and chart to chart). Temporary-file I/O (IO:BufFileRead/Write) has a
 * hue no other wait uses; CPU, idle and "other" are fixed.
 */

/** Okabe & Ito (2008), "Color Universal Design". */
const HUE = {
  cpu: '#009E73', // bluish green
  temp: '#D55E00', // vermillion: temp files, and nothing else
  io: '#0072B2', // blue
  lock: '#CC79A7', // reddish purple
  lwlock: '#E69F00', // orange
  ipc: '#56B4E9', // sky blue
  client: '#B8A600', // yellow, darkened to read on a light background
  timeout: '#8C8C8C', // grey
  idle: '#C8C8C8', // light grey
  other: '#6E6E6E', // dark grey
} as const;

const CLASS_HUE: Record<string, string> = {
  IO: HUE.io,
  Lock: HUE.lock,
  LWLock: HUE.lwlock,
  IPC: HUE.ipc,
  Client: HUE.client,
  Timeout: HUE.timeout,
  Activity: HUE.timeout,
  BufferPin: HUE.lock,
  Extension: HUE.other,
  InjectionPoint: HUE.other,
};

/** Shades of a class's hue: the event's name picks one, the same every time. */
const SHADES = [1, 0.75, 1.25, 0.6, 1.4];

function hashName(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

function shade(hex: string, factor: number): string {
  const n = parseInt(hex.slice(1), 16);
  const ch = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((c) => (factor <= 1 ? Math.round(c * factor) : Math.round(c + (255 - c) * (factor - 1))));
  return `#${ch.map((c) => Math.min(255, Math.max(0, c)).toString(16).padStart(2, '0')).join('').toUpperCase()}`;
}

/**
 * The colour of a wait as the sampler names it: `CPU`, `Idle (waiting for the client)`, `Idle in transaction`,
 * `other`, or `Class:Event` (e.g. `IO:BufFileWrite`, `LWLock:BufferMapping`).
 */
export function waitColor(name: string): string {
  if (name === 'CPU') return HUE.cpu;
  if (name === 'other') return HUE.other;
  if (name.startsWith('Idle')) return name === 'Idle in transaction' ? shade(HUE.idle, 0.8) : HUE.idle;
  const [cls, event = ''] = name.split(':', 2);
  if (cls === 'IO' && /^BufFile/.test(event)) return event === 'BufFileRead' ? shade(HUE.temp, 1.25) : HUE.temp;
  const hue = CLASS_HUE[cls] ?? HUE.other;
  // Within IO the first shade (the plain hue) is kept clear of temp files' vermillion anyway: a different hue.
  return shade(hue, SHADES[hashName(event) % SHADES.length]);
}
