/** Load a capture's frames (copied) for decoder tests, through the capture module's reader. */
import { readCaptureFile } from '../../src/capture/reader.js';

export interface Frame {
  data: Buffer;
  tsSec: number;
  tsNsec: number;
  linkType: number;
}

export function loadFrames(path: string): Frame[] {
  const frames: Frame[] = [];
  readCaptureFile(path, {
    frame(data, off, capLen, _origLen, tsSec, tsNsec, linkType) {
      frames.push({ data: Buffer.from(data.subarray(off, off + capLen)), tsSec, tsNsec, linkType });
    },
  });
  return frames;
}
