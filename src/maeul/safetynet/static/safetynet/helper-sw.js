/* The helper pages' service worker (scope /helper/): pages are fetched from the network first and kept, so a
   reload without a connection shows the last copy with the unsent check-ins; static assets are served from the
   copy and refreshed behind it. Sending check-ins is the page's work (helper.js): nothing is sent from here. */
"use strict";

var CACHE = "maeul-helper-v1";
var NETWORK_WAIT_MS = 5000; // on a poor connection, show the kept page rather than wait without end

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n.indexOf("maeul-helper-") === 0 && n !== CACHE; })
        .map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

// The page lists what to keep for a day without a connection: itself, each due household's form, its assets.
// One at a time: a poor connection (and the server) is better served by a queue than by a burst.
self.addEventListener("message", function (event) {
  var urls = (event.data && event.data.keep) || [];
  var kept = 0;
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return urls.reduce(function (previous, url) {
        return previous.then(function () {
          return fetch(url, { credentials: "same-origin", redirect: "manual" }).then(function (response) {
            if (!keepable(response)) return undefined;
            return cache.put(url, response).then(function () { kept += 1; });
          }).catch(function () { return undefined; });
        });
      }, Promise.resolve());
    }).then(function () {
      if (event.source) event.source.postMessage({ kept: kept, of: urls.length });
    })
  );
});

function keepable(response) {
  return response && response.status === 200 && response.type === "basic";
}

function isPage(request, url) {
  return request.mode === "navigate" || url.pathname.indexOf("/helper/") === 0;
}

// A page that says the session ended (redirect to login) or that this account may not see it: the kept copies
// hold residents' names and addresses, so they go. Unsent check-ins stay in the page's own storage.
function forgetPages(response) {
  if (response.type === "opaqueredirect" || response.status === 403) {
    return caches.delete(CACHE);
  }
  return Promise.resolve();
}

function networkFirst(event) {
  var request = event.request;
  var network = fetch(request).then(function (response) {
    if (keepable(response) && !response.redirected) {
      var copy = response.clone();
      event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.put(request, copy); }));
    } else {
      event.waitUntil(forgetPages(response));
    }
    return response;
  });
  var kept = function () {
    return caches.match(request, { ignoreVary: true, ignoreSearch: request.mode === "navigate" });
  };
  var timeout = new Promise(function (resolve) {
    setTimeout(function () { kept().then(function (copy) { if (copy) resolve(copy); }); }, NETWORK_WAIT_MS);
  });
  var fallback = network.catch(function () {
    return kept().then(function (copy) {
      return copy || new Response("", { status: 503, statusText: "Offline" });
    });
  });
  return Promise.race([fallback, timeout]);
}

function keptFirst(event) {
  var request = event.request;
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request, { ignoreVary: true }).then(function (copy) {
      var refresh = fetch(request).then(function (response) {
        if (keepable(response)) return cache.put(request, response.clone()).then(function () { return response; });
        return response;
      });
      if (copy) {
        event.waitUntil(refresh.catch(function () { return undefined; }));
        return copy;
      }
      return refresh;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname === "/helper/sw.js") return;
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(keptFirst(event));
  } else if (isPage(request, url)) {
    event.respondWith(networkFirst(event));
  }
});
