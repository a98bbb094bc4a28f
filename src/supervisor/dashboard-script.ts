/**
 * The page's own script, served as /dashboard.js (the page's Content-Security-Policy allows
 * scripts from the dashboard alone). Every few seconds it fetches the same page and swaps in
 * its live part, so figures and charts move without a reload and a click is never lost to one.
 */
export const DASHBOARD_SCRIPT = `'use strict';
(() => {
  const every = 2000;
  const refresh = async () => {
    try {
      const response = await fetch(location.href, { cache: 'no-store', headers: { accept: 'text/html' } });
      if (response.ok) {
        const fresh = new DOMParser().parseFromString(await response.text(), 'text/html').getElementById('live');
        const live = document.getElementById('live');
        if (fresh !== null && live !== null) live.replaceWith(document.importNode(fresh, true));
      }
    } catch {
      // The supervisor is away (shutdown, restart): keep what is shown and try again.
    }
    setTimeout(refresh, every);
  };
  setTimeout(refresh, every);
})();
`;
