import { parentPort } from 'node:worker_threads';
import { uploadToPixels, UploadError } from './upload';
import type { DecodeReply, DecodeRequest } from './decode-pool';

// Decodes uploads off the server's request thread: a slow decode here stalls no other request.
parentPort!.on('message', (m: DecodeRequest) => {
  let reply: DecodeReply;
  try {
    const pixels = uploadToPixels(m.bytes, m.contentType, m.size, m.maxBytes);
    reply = { id: m.id, pixels };
  } catch (e) {
    const status = e instanceof UploadError ? e.status : 400;
    reply = { id: m.id, error: { status, message: (e as Error).message } };
  }
  parentPort!.postMessage(reply, reply.pixels ? [reply.pixels.buffer as ArrayBuffer] : []);
});
// Loaded: the pool starts a decode's time limit from here, not from the (slower) start-up.
parentPort!.postMessage({ ready: true } satisfies DecodeReply);
