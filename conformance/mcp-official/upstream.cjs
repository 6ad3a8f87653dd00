// The upstream behind conformance/mcp-official/capability.yml (run by scripts/mcp-conformance.sh).
//
//   GET /simple-text  200 text/plain  the text tools-call-simple-text expects of test_simple_text
//   GET /error        500 text/plain  the text tools-call-error expects of test_error_handling
//   GET /image        200 image/png   a 1x1 red PNG (tools-call-image, test_image_content)
//   GET /audio        200 audio/wav   a 1 ms silent WAV (tools-call-audio, test_audio_content)
//   anything else     404
//
// Listens on 127.0.0.1 on an ephemeral port and writes that port to the file named by its
// first argument (atomically: a temporary file, then a rename) once it accepts connections.
// `free-port` instead prints one loopback port that was free a moment ago and exits.
'use strict';

const fs = require('fs');
const http = require('http');
const net = require('net');

if (process.argv[2] === 'free-port') {
  const s = net.createServer();
  s.listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => process.stdout.write(`${port}\n`));
  });
} else {
  const portFile = process.argv[2];
  if (!portFile) {
    process.stderr.write('usage: node upstream.cjs PORT_FILE | node upstream.cjs free-port\n');
    process.exit(2);
  }
  const text = 'text/plain; charset=utf-8';
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
    'base64',
  );
  // RIFF/WAVE, PCM, mono, 8 kHz, 8-bit, 8 samples of silence.
  const samples = Buffer.alloc(8, 0x80);
  const wav = Buffer.alloc(44);
  wav.write('RIFF', 0);
  wav.writeUInt32LE(36 + samples.length, 4);
  wav.write('WAVEfmt ', 8);
  wav.writeUInt32LE(16, 16); // fmt chunk size
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // channels
  wav.writeUInt32LE(8000, 24); // sample rate
  wav.writeUInt32LE(8000, 28); // byte rate
  wav.writeUInt16LE(1, 32); // block align
  wav.writeUInt16LE(8, 34); // bits per sample
  wav.write('data', 36);
  wav.writeUInt32LE(samples.length, 40);
  const answers = {
    '/simple-text': [200, text, 'This is a simple text response for testing.'],
    '/error': [500, text, 'This tool intentionally returns an error for testing'],
    '/image': [200, 'image/png', png],
    '/audio': [200, 'audio/wav', Buffer.concat([wav, samples])],
  };
  const server = http.createServer((req, res) => {
    const path = req.url.split('?')[0];
    const [status, type, body] = (req.method === 'GET' && answers[path]) || [404, text, 'not found'];
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  });
  server.listen(0, '127.0.0.1', () => {
    fs.writeFileSync(`${portFile}.tmp`, `${server.address().port}\n`);
    fs.renameSync(`${portFile}.tmp`, portFile);
  });
  // The gateway keeps pooled connections open: exit at once rather than wait for them.
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
}
