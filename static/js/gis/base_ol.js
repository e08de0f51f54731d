// The admin's geometry editor (OpenLayers) on the same offline base map as the commanders' map:
// Natural Earth land from /tiles/base/ over a water-coloured map background (css/fuentes.css),
// and the OpenStreetMap extract's water, parks, streets and names from /tiles/osm/ when one is
// installed (Protomaps basemap schema; static/js/mapa/base.js is the MapLibre version).
(function () {
  var AGUA = "#aac9dd", TIERRA = "#f2efe9";
  var relleno = function (c) { return new ol.style.Style({ fill: new ol.style.Fill({ color: c }) }); };
  var linea = function (c, w) { return new ol.style.Style({ stroke: new ol.style.Stroke({ color: c, width: w }) }); };
  var E = {
    tierra: relleno(TIERRA), agua: relleno(AGUA), parque: relleno("#d8ebc8"), edificio: relleno("#e0dbd2"),
    autopista: linea("#f3b664", 5), principal: linea("#fbe3a6", 4), menor: linea("#ffffff", 2.5),
  };
  var PARQUES = ["park", "grass", "garden", "forest", "wood", "pitch", "cemetery", "golf_course", "nature_reserve"];

  function texto(t, negrita, sobreLinea) {
    return new ol.style.Style({
      text: new ol.style.Text({
        text: t,
        placement: sobreLinea ? "line" : "point",
        font: (negrita ? "bold 12px 'Noto Sans Bold'" : "11px 'Noto Sans Regular'") + ", sans-serif",
        fill: new ol.style.Fill({ color: "#444" }),
        stroke: new ol.style.Stroke({ color: "#fff", width: 3 }),
      }),
    });
  }

  function estiloOsm(f, resolucion) {
    var capa = f.get("layer"), kind = f.get("kind"), nombre = f.get("name");
    if (capa === "earth") return E.tierra;
    if (capa === "water") return E.agua;
    if (capa === "landuse") return PARQUES.indexOf(kind) >= 0 ? E.parque : null;
    if (capa === "buildings") return resolucion < 5 ? E.edificio : null;
    if (capa === "roads") {
      var s = kind === "highway" ? E.autopista : kind === "major_road" ? E.principal : resolucion < 20 ? E.menor : null;
      if (!s) return null;
      return nombre && resolucion < 10 ? [s, texto(nombre, false, true)] : s;
    }
    if (capa === "places" && nombre) return texto(nombre.toUpperCase(), true, false);
    return null;
  }

  function vectorial(url, maxZoom, estilo, extension) {
    return new ol.layer.VectorTile({
      declutter: true,
      extent: extension,
      source: new ol.source.VectorTile({ format: new ol.format.MVT(), url: url, maxZoom: maxZoom }),
      style: estilo,
    });
  }

  window.gadBase = {
    // The layer handed to Django's MapWidget as its base layer (the land)...
    capas: function (osm, rasterUrl) {
      var base = vectorial(location.origin + "/tiles/base/{z}/{x}/{y}.pbf", 12, function () { return E.tierra; });
      base.set("gadCapa", "tierra");
      base.set("gadOsm", osm);
      base.set("gadRaster", rasterUrl);
      return base;
    },
    // ...and the layers added over it once the widget exists: streets and names, a raster server.
    extras: function (base) {
      var extras = [], osm = base.get("gadOsm"), raster = base.get("gadRaster");
      if (osm) {
        var ext = ol.proj.transformExtent(osm.bounds, "EPSG:4326", "EPSG:3857");
        var c = vectorial(location.origin + "/tiles/osm/{z}/{x}/{y}.pbf?v=" + osm.version, osm.maxzoom, estiloOsm, ext);
        c.set("gadCapa", "osm");
        c.setZIndex(-2);
        extras.push(c);
      }
      if (raster) {
        var r = new ol.layer.Tile({ source: new ol.source.XYZ({ url: raster }) });
        r.setZIndex(-3);
        extras.push(r);
      }
      base.setZIndex(-4);
      return extras;
    },
  };
})();
