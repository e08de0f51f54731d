// GAD Campo's service worker ({{ version }}). The app shell is cached at install, so the app opens
// with no signal; API calls and the event socket always go to the network (the page queues what
// it must send in IndexedDB). A new release changes the version above: the new worker installs,
// takes over at once and drops the old caches, and the page reloads itself onto it.
const VERSION = "{{ version }}";
const SHELL = {{ shell|safe }};
const CACHE = `gad-campo-${VERSION}`;
const TESELAS = "gad-campo-teselas";

self.addEventListener("install", (e) => {
  e.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(SHELL.map((u) => new Request(u, { cache: "reload", credentials: "same-origin" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (e) => {
  e.waitUntil(
    caches
      .keys()
      .then((ks) => Promise.all(ks.filter((k) => k.startsWith("gad-campo-") && k !== CACHE && k !== TESELAS).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/ws/")) return; // always live
  if (url.pathname.startsWith("/tiles/")) {
    // The base map: the network when there is signal (kept for later), the copy when not.
    e.respondWith(
      fetch(e.request)
        .then((r) => {
          if (r.ok) caches.open(TESELAS).then((c) => c.put(e.request, r.clone()));
          return r;
        })
        .catch(() => caches.match(e.request).then((r) => r || Response.error())),
    );
    return;
  }
  if (e.request.mode === "navigate" && url.pathname === "{% url 'campo' %}") {
    // The page: fresh when online (a signed-out session goes to the login form), the shell when not.
    e.respondWith(
      fetch(e.request)
        .then((r) => {
          if (r.ok && !r.redirected) caches.open(CACHE).then((c) => c.put("{% url 'campo' %}", r.clone()));
          return r;
        })
        .catch(() => caches.match("{% url 'campo' %}")),
    );
    return;
  }
  e.respondWith(caches.match(e.request, { ignoreSearch: true }).then((r) => r || fetch(e.request)));
});
