import type { IncomingMessage, ServerResponse } from 'node:http';
import { UploadError } from './upload';

/**
 * The client went away before its request body arrived: nobody is left to answer, and it is
 * not the server's fault (no 500). Its message is the one line the server logs.
 */
export class ClientGoneError extends Error {}

/**
 * The request body (`what`, for messages), refused with 413 as soon as it passes `max` bytes. The rest of an oversized
 * body is drained unread so the client still gets the answer, then the connection is closed.
 * A client that disconnects mid-body rejects with ClientGoneError.
 */
export function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  max: number,
  what = 'the uploaded image',
): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  const tooBig = (amount: string) => {
    res.setHeader('connection', 'close');
    res.once('finish', () => req.destroy());
    req.resume();
    return new UploadError(413, `${what} is ${amount}; the limit is ${max} bytes`);
  };
  if (Number.isFinite(declared) && declared > max)
    return Promise.reject(tooBig(`${declared} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      chunks.push(c);
      if (size > max) {
        req.off('data', onData);
        reject(tooBig(`over ${max} bytes`));
      }
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    // Node reports a disconnect mid-body as an 'error' ("aborted", ECONNRESET) on the request.
    req.on('error', () => {
      const of = Number.isFinite(declared) ? ` of ${declared}` : '';
      reject(
        new ClientGoneError(
          `${req.method} ${req.url}: the client disconnected after ${size}${of} bytes of its upload`,
        ),
      );
    });
  });
}
