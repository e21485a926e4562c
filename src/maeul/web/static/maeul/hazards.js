// Hazard pages: the pin picker of the report form and the hazard map (points, counted cells or density).
// Both work without map tiles: the pin and the cells draw on a plain background.
(function () {
  function tiles(map, el) {
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
  }

  // --- the report form ---
  var pick = document.getElementById("pick-map");
  if (pick) {
    var lat = document.getElementById("id_latitude"), lon = document.getElementById("id_longitude");
    var status = document.getElementById("pin-status");
    var map = L.map(pick);
    tiles(map, pick);
    var marker = null;
    function place(latlng, zoom) {
      if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng).addTo(map); }
      lat.value = latlng.lat.toFixed(6); lon.value = latlng.lng.toFixed(6);
      status.textContent = lat.value + ", " + lon.value;
      if (zoom) { map.setView(latlng, zoom); }
      htmx.trigger(document.getElementById("id_category"), "change");
    }
    if (pick.dataset.lat && pick.dataset.lon) {
      place(L.latLng(parseFloat(pick.dataset.lat), parseFloat(pick.dataset.lon)), 17);
    } else {
      map.setView([37.5729, 126.9794], 13);
    }
    map.on("click", function (e) { place(e.latlng); });
    document.getElementById("use-location").addEventListener("click", function () {
      if (!navigator.geolocation) { return; }
      navigator.geolocation.getCurrentPosition(function (pos) {
        place(L.latLng(pos.coords.latitude, pos.coords.longitude), 17);
      }, function (err) { status.textContent = err.message; }, { enableHighAccuracy: true, timeout: 15000 });
    });
    // Show the extra questions of the chosen category only, and send only theirs.
    var category = document.getElementById("id_category");
    function questions() {
      document.querySelectorAll("fieldset.attributes").forEach(function (fs) {
        var on = fs.dataset.category === category.value;
        fs.hidden = !on; fs.disabled = !on;
      });
    }
    category.addEventListener("change", questions);
    questions();
  }

  // --- the hazard map ---
  var el = document.getElementById("hazard-map");
  if (el) {
    var hmap = L.map(el);
    tiles(hmap, el);
    var layer = L.layerGroup().addTo(hmap);
    var form = document.getElementById("map-filters");
    var colours = { submitted: "#b3261e", routed: "#a15c00", in_progress: "#4a7fb5" };
    function load() {
      var b = hmap.getBounds();
      var params = new URLSearchParams(new FormData(form));
      params.set("bbox", [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()].map(function (x) { return x.toFixed(5); }).join(","));
      params.set("zoom", hmap.getZoom());
      fetch(el.dataset.source + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          layer.clearLayers();
          document.getElementById("map-total").textContent = data.total;
          (data.points || []).forEach(function (p) {
            L.circleMarker([p.lat, p.lon], { radius: p.urgent ? 8 : 6, color: colours[p.status] || "#5b6b7b", fillOpacity: 0.85 })
              .bindTooltip(p.ref).on("click", function () { window.location = el.dataset.detail.replace("0", p.id); })
              .addTo(layer);
          });
          var max = 1;
          (data.cells || []).forEach(function (c) { max = Math.max(max, c.n); });
          (data.cells || []).forEach(function (c) {
            if (params.get("view") === "density") {
              var s = c.cell[2];
              L.rectangle([[c.cell[0], c.cell[1]], [c.cell[0] + s, c.cell[1] + s]], {
                stroke: false, fillColor: "#b3261e", fillOpacity: 0.15 + 0.7 * Math.sqrt(c.n / max)
              }).bindTooltip(String(c.n)).addTo(layer);
            } else {
              var size = 26 + Math.round(18 * Math.sqrt(c.n / max));
              L.marker([c.lat, c.lon], { icon: L.divIcon({ className: "cluster", html: "<span>" + c.n + "</span>", iconSize: [size, size] }) })
                .on("click", function () { hmap.setView([c.lat, c.lon], Math.min(hmap.getZoom() + 2, 19)); })
                .addTo(layer);
            }
          });
        });
    }
    hmap.setView([parseFloat(el.dataset.lat || "37.5729"), parseFloat(el.dataset.lon || "126.9794")], parseInt(el.dataset.zoom || "13", 10));
    hmap.on("moveend", load);
    form.addEventListener("change", load);
    form.addEventListener("submit", function (e) { e.preventDefault(); load(); });
    load();
  }
})();
