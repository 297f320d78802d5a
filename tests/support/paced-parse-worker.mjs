// A stand-in parse worker whose pages the test paces (tests/e2e/parse-pool-progress.test.ts):
// the request's `file` names a Unix socket the test listens on; each line the test writes there
// is a page done ("page"), a batch of OCR'd lines inside a page ("work"), or the end of the file ("done"). No timers: a page is as slow as the
// test makes it, so the pool's time limit can be run on a fake clock.
import net from 'node:net';
import process from 'node:process';

process.on('message', (request) => {
  const socket = net.connect(request.file);
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line === 'page') process.send({ page: true });
      else if (line === 'work') process.send({ working: true });
      else if (line === 'done') {
        process.send({ ok: true, parsed: { file: request.displayPath ?? request.file, pages: 'paced' } });
        socket.end();
      }
    }
  });
});
process.send({ ready: true });
process.on('disconnect', () => process.exit(0));
