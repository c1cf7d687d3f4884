// `npm run web`: builds the example and serves it on WEB_PORT (default 5173). Open the address it
// prints with your client key: http://localhost:5173/?key=env_…
import { createServer } from 'node:http';
import { buildWebExample } from './build.js';

const port = Number(process.env.WEB_PORT ?? 5173);
const { html, script } = await buildWebExample();
createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path === '/app.js') return void res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
  if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  res.writeHead(404).end();
}).listen(port, () => {
  console.log(`The web example is at http://localhost:${port}/?key=env_…&user=user-42 (put a client key printed by npm start)`);
});
