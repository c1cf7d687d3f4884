// Entry point: the page's settings from its URL, e.g.
//   /?server=http://localhost:4000&key=env_…&user=user-42&feature=checkout_button
import { startPage } from './page.js';

const params = new URLSearchParams(location.search);
const root = document.getElementById('app')!;
const environmentKey = params.get('key');
if (!environmentKey) {
  root.textContent = 'Add ?key=env_… (a client key printed by `npm start`) to the address.';
} else {
  startPage({
    serverUrl: params.get('server') ?? 'http://localhost:4000',
    environmentKey,
    identifier: params.get('user') ?? 'user-42',
    feature: params.get('feature') ?? 'checkout_button',
    root,
  });
}
