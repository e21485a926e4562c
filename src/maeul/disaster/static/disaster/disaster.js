// Maps of the disaster pages (Leaflet; tiles optional). The board's map shows the alert's shapes, the areas and each
// household's point coloured by status, refreshed every 30 s; the activation map toggles an area's checkbox when its
// marker is tapped.
(function () {
  var colours = { pending: "#7a8794", not_reached: "#b3261e", fine: "#0b6e4f", needs_help: "#a15c00", evacuated: "#4a7fb5" };

  function base(el) {
    var map = L.map(el, { zoomControl: true });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    return map;
  }

  function fit(map, group) {
    if (!group.getLayers().length) { map.setView([36.5, 127.8], 7); return; }
    var bounds = group.getBounds();
    if (bounds.getNorthEast().equals(bounds.getSouthWest())) { map.setView(bounds.getCenter(), 16); }
    else { map.fitBounds(bounds.pad(0.1)); }
  }

  function boardMap(el) {
    var map = base(el);
    var shapes = L.featureGroup().addTo(map);
    var points = L.featureGroup().addTo(map);
    var first = true;
    function draw(data) {
      shapes.clearLayers();
      points.clearLayers();
      (data.shapes || []).forEach(function (s) {
        if (s.type === "Circle") {
          L.circle([s.center[1], s.center[0]], { radius: Math.max(s.radius_km * 1000, 30), color: "#b3261e", weight: 2, fillOpacity: 0.05 }).addTo(shapes);
        } else {
          L.geoJSON(s, { style: { color: "#b3261e", weight: 2, fillOpacity: 0.05 } }).addTo(shapes);
        }
      });
      (data.areas || []).forEach(function (a) {
        if (a.outline) { L.geoJSON(a.outline, { style: { color: "#0b6e4f", weight: 1, fillOpacity: 0.03 } }).bindTooltip(a.name).addTo(shapes); }
        else if (a.lat) { L.circleMarker([a.lat, a.lon], { radius: 4, color: "#0b6e4f" }).bindTooltip(a.name).addTo(shapes); }
      });
      (data.points || []).forEach(function (p) {
        L.circleMarker([p.lat, p.lon], { radius: 6, color: "#fff", weight: 1, fillColor: colours[p.status] || "#7a8794", fillOpacity: 0.95 })
          .bindTooltip(p.reference).addTo(points);
      });
      if (first) { fit(map, L.featureGroup([shapes, points])); first = false; }
    }
    function load() {
      fetch(el.dataset.url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) { draw(data); } });
    }
    load();
    setInterval(load, 30000);
  }

  function pickMap(el) {
    var map = base(el);
    var data = JSON.parse(document.getElementById(el.dataset.source).textContent);
    var group = L.featureGroup().addTo(map);
    (data.areas || []).forEach(function (a) {
      var box = document.querySelector('input[name="area_codes"][value="' + a.code + '"]');
      var marker = L.circleMarker([a.lat, a.lon], { radius: 11, color: "#0b6e4f", weight: 2, fillOpacity: box && box.checked ? 0.8 : 0.15 })
        .bindTooltip(a.name, { permanent: true, direction: "top", offset: [0, -8] }).addTo(group);
      function paint() { marker.setStyle({ fillOpacity: box && box.checked ? 0.8 : 0.15 }); }
      marker.on("click", function () { if (box) { box.checked = !box.checked; paint(); } });
      if (box) { box.addEventListener("change", paint); }
    });
    fit(map, group);
  }

  document.querySelectorAll("[data-board-map]").forEach(boardMap);
  document.querySelectorAll("[data-pick-areas]").forEach(pickMap);
})();
