// Draws areas, outlines and points with Leaflet. Tiles are optional: vector layers still render when
// no tile server is configured or reachable, on a plain background.
(function () {
  function init(el) {
    var data = JSON.parse(document.getElementById(el.dataset.source).textContent);
    var map = L.map(el, { zoomControl: true });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    var group = L.featureGroup().addTo(map);
    (data.outlines || []).forEach(function (o) {
      L.geoJSON(o.geometry, { style: { color: "#0b6e4f", weight: 2, fillOpacity: 0.05 } })
        .bindTooltip(o.name).addTo(group);
    });
    (data.areas || []).forEach(function (a) {
      L.circleMarker([a.lat, a.lon], { radius: 6, color: "#0b6e4f", fillOpacity: 0.8 })
        .bindTooltip(a.name).addTo(group);
    });
    var colours = { 1: "#4a7fb5", 2: "#a15c00", 3: "#b3261e" };
    (data.points || []).forEach(function (p) {
      L.circleMarker([p.lat, p.lon], { radius: 5, color: colours[p.care_level] || "#4a7fb5", fillOpacity: 0.9 })
        .bindTooltip(p.reference).addTo(group);
    });
    if (!group.getLayers().length) {
      map.setView([36.5, 127.8], 7);
    } else {
      var bounds = group.getBounds();
      if (bounds.getNorthEast().equals(bounds.getSouthWest())) { map.setView(bounds.getCenter(), 16); }
      else { map.fitBounds(bounds.pad(0.15)); }
    }
  }
  document.querySelectorAll("[data-map]").forEach(init);
})();
