#!/usr/bin/env node
// Static file server of the hardway lab's release mirror.
// usage: node mirror-server.js <root dir> <listen address> <port> [access log]
// GET and HEAD only; no directory listings; paths are confined to <root dir>.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const [root, host, portArg, accessLog] = process.argv.slice(2);
if (!root || !host || !portArg) {
  console.error('usage: mirror-server.js <root> <address> <port> [access log]');
  process.exit(2);
}
const rootDir = fs.realpathSync(root);
const port = Number(portArg);
const logStream = accessLog ? fs.createWriteStream(accessLog, { flags: 'a' }) : null;

function logLine(req, status, bytes) {
  if (!logStream) return;
  logStream.write(`${new Date().toISOString()} ${req.socket.remoteAddress} ${req.method} ${req.url} ${status} ${bytes}\n`);
}

function send(req, res, status, body) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
  logLine(req, status, 0);
}

const server = http.createServer((req, res) => {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(req, res, 405, 'method not allowed\n');
  let rel;
  try {
    rel = decodeURIComponent(new URL(req.url, 'http://mirror').pathname);
  } catch (e) {
    return send(req, res, 400, 'bad request\n');
  }
  const file = path.resolve(rootDir, '.' + path.posix.normalize('/' + rel));
  if (file !== rootDir && !file.startsWith(rootDir + path.sep)) return send(req, res, 403, 'forbidden\n');
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) return send(req, res, 404, 'not found\n');
    res.writeHead(200, {
      'Content-Type': file.endsWith('.sha256') ? 'text/plain; charset=utf-8' : 'application/octet-stream',
      'Content-Length': st.size,
      'Last-Modified': st.mtime.toUTCString(),
    });
    if (req.method === 'HEAD') { res.end(); logLine(req, 200, 0); return; }
    const s = fs.createReadStream(file);
    s.on('error', () => res.destroy());
    res.on('finish', () => logLine(req, 200, st.size));
    s.pipe(res);
  });
});
server.on('error', (e) => { console.error(`mirror-server: ${e.message}`); process.exit(1); });
server.listen(port, host, () => console.log(`mirror-server: serving ${rootDir} on http://${host}:${port}/`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
