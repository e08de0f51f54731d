// The offline base map: water as the background, Natural Earth land from /tiles/base/, and the
// agency's OpenStreetMap extract from /tiles/osm/ when one is installed (Protomaps basemap schema:
// earth, water, landuse, roads, buildings, places). Labels are drawn by MapLibre from the Noto
// Sans web font served with the page (no glyph server): text-font names a CSS font family.

export const FUENTE = ["Noto Sans Regular"];
export const FUENTE_NEGRITA = ["Noto Sans Bold"];

const AGUA = "#aac9dd";
const TIERRA = "#f2efe9";
const origen = () => location.origin;

// Wait for the web font before the map draws any text, or the first labels use the fallback.
export function fuentesCargadas() {
  return Promise.all([document.fonts.load('16px "Noto Sans Regular"'), document.fonts.load('bold 16px "Noto Sans Bold"')]).catch(
    () => {},
  );
}

function capasOsm(osm) {
  const fuente = "osm";
  const calles = (filtro, color, ancho, minzoom = 0) => ({
    source: fuente,
    "source-layer": "roads",
    minzoom,
    filter: filtro,
    paint: { "line-color": color, "line-width": ancho },
    layout: { "line-cap": "round", "line-join": "round" },
    type: "line",
  });
  const tipo = (...kinds) => ["in", ["get", "kind"], ["literal", kinds]];
  const capas = [
    { id: "osm-tierra", type: "fill", source: fuente, "source-layer": "earth", paint: { "fill-color": TIERRA } },
    {
      id: "osm-uso",
      type: "fill",
      source: fuente,
      "source-layer": "landuse",
      filter: tipo("park", "grass", "garden", "forest", "wood", "pitch", "cemetery", "golf_course", "nature_reserve"),
      paint: { "fill-color": "#d8ebc8", "fill-opacity": 0.8 },
    },
    { id: "osm-agua", type: "fill", source: fuente, "source-layer": "water", paint: { "fill-color": AGUA } },
    {
      id: "osm-edificios",
      type: "fill",
      source: fuente,
      "source-layer": "buildings",
      minzoom: 15,
      paint: { "fill-color": "#e0dbd2", "fill-outline-color": "#cfc8bd" },
    },
    { id: "osm-calles-menores", ...calles(tipo("minor_road", "other", "path"), "#ffffff", ["interpolate", ["linear"], ["zoom"], 13, 0.5, 17, 6], 13) },
    { id: "osm-calles-principales", ...calles(tipo("major_road"), "#fbe3a6", ["interpolate", ["linear"], ["zoom"], 10, 1, 17, 9]) },
    { id: "osm-autopistas", ...calles(tipo("highway"), "#f3b664", ["interpolate", ["linear"], ["zoom"], 8, 1, 17, 11]) },
    {
      id: "osm-calles-nombre",
      type: "symbol",
      source: fuente,
      "source-layer": "roads",
      minzoom: 14,
      filter: ["has", "name"],
      layout: {
        "symbol-placement": "line",
        "text-field": ["get", "name"],
        "text-font": FUENTE,
        "text-size": ["interpolate", ["linear"], ["zoom"], 14, 10, 18, 14],
        "text-max-angle": 30,
      },
      paint: { "text-color": "#4a4a4a", "text-halo-color": "#ffffff", "text-halo-width": 1.5 },
    },
    {
      id: "osm-lugares",
      type: "symbol",
      source: fuente,
      "source-layer": "places",
      filter: ["has", "name"],
      layout: {
        "text-field": ["get", "name"],
        "text-font": FUENTE_NEGRITA,
        "text-size": ["interpolate", ["linear"], ["zoom"], 8, 11, 14, 15],
        "text-transform": "uppercase",
        "text-letter-spacing": 0.05,
      },
      paint: { "text-color": "#555555", "text-halo-color": "#ffffff", "text-halo-width": 2 },
    },
  ];
  return capas;
}

export function estiloBase(config) {
  const estilo = {
    version: 8,
    sources: {
      base: {
        type: "vector",
        tiles: [`${origen()}/tiles/base/{z}/{x}/{y}.pbf`],
        minzoom: 0,
        maxzoom: 12,
        attribution: "Natural Earth",
      },
    },
    layers: [
      { id: "fondo", type: "background", paint: { "background-color": AGUA } },
      { id: "tierra", type: "fill", source: "base", "source-layer": "tierra", paint: { "fill-color": TIERRA } },
    ],
  };
  const osm = config.osm;
  if (osm) {
    estilo.sources.osm = {
      type: "vector",
      tiles: [`${origen()}/tiles/osm/{z}/{x}/{y}.pbf?v=${osm.version}`],
      minzoom: osm.minzoom,
      maxzoom: osm.maxzoom,
      bounds: osm.bounds,
      attribution: "© colaboradores de OpenStreetMap",
    };
    estilo.layers.push(...capasOsm(osm));
  }
  if (config.tilesBase) {
    estilo.sources.raster = { type: "raster", tiles: [config.tilesBase], tileSize: 256 };
    estilo.layers.push({ id: "raster", type: "raster", source: "raster" });
  }
  return estilo;
}
